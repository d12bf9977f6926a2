// Package actiontest runs the action's steps the way a runner does, against
// local fakes: it owns a runner-like directory layout (workspace, RUNNER_TEMP,
// tool cache, workflow command files), a fake GitHub release server and a fake
// cache service, and runs `setup`, `restore` and `save` through cli.Main with
// inputs given as INPUT_* variables. Tests read back GITHUB_ENV, GITHUB_PATH,
// GITHUB_OUTPUT, the job summary and the annotations.
package actiontest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/cli"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/httpx"
	"github.com/org/rustcache-action/internal/runenv"
)

// Runner is one emulated runner machine.
type Runner struct {
	T         testing.TB
	Dir       string // everything lives below
	Workspace string // GITHUB_WORKSPACE
	Temp      string // RUNNER_TEMP
	ToolCache string // RUNNER_TOOL_CACHE
	Release   *fakerelease.Server
	// Env is the base environment of every step (service URLs, runner facts).
	Env map[string]string
	// Version is the sccache-version input given to setup by default.
	Version string

	// Timeouts bound each attempt of the steps' requests (zero: the
	// defaults).
	Timeouts httpx.Timeouts
	// Ticker, when set, replaces the steps' tickers (runenv.Env.Ticker).
	Ticker func(d time.Duration) (<-chan time.Time, func())

	stoppers map[string]bool // sccache servers (path and port) stopped at cleanup
}

// New builds a runner with a fake release server.
func New(t testing.TB) *Runner {
	t.Helper()
	dir := t.TempDir()
	r := &Runner{T: t, Dir: dir, Workspace: filepath.Join(dir, "work"), Temp: filepath.Join(dir, "temp"),
		ToolCache: filepath.Join(dir, "toolcache"), Release: fakerelease.New(t, fakerelease.Options{}),
		Version: fakerelease.DefaultVersion}
	for _, d := range []string{r.Workspace, r.Temp, r.ToolCache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.Env = map[string]string{
		"GITHUB_WORKSPACE":   r.Workspace,
		"RUNNER_TEMP":        r.Temp,
		"RUNNER_TOOL_CACHE":  r.ToolCache,
		"RUNNER_OS":          "Linux",
		"RUNNER_ARCH":        "X64",
		"GITHUB_SERVER_URL":  r.Release.ServerURL(),
		"GITHUB_API_URL":     r.Release.APIURL(),
		"GITHUB_RUN_ID":      "1000",
		"GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_REPOSITORY":  "octo/app",
		"GITHUB_REF":         "refs/heads/main",
		"PATH":               os.Getenv("PATH"),
		"HOME":               os.Getenv("HOME"),
	}
	if v := os.Getenv("CARGO_HOME"); v != "" {
		r.Env["CARGO_HOME"] = v
	}
	if v := os.Getenv("RUSTUP_HOME"); v != "" {
		r.Env["RUSTUP_HOME"] = v
	}
	return r
}

// With merges variables into the base environment.
func (r *Runner) With(m map[string]string) *Runner {
	for k, v := range m {
		r.Env[k] = v
	}
	return r
}

// Step is the outcome of one step.
type Step struct {
	Code    int
	Stdout  string
	Env     map[string]string // what the step wrote to GITHUB_ENV
	Path    []string          // what it wrote to GITHUB_PATH
	Outputs map[string]string
	Summary string
}

// Annotations returns the lines of stdout that are workflow commands of kind
// ("error", "warning", "notice").
func (s *Step) Annotations(kind string) []string {
	var out []string
	for _, l := range strings.Split(s.Stdout, "\n") {
		if strings.HasPrefix(l, "::"+kind+" ") || strings.HasPrefix(l, "::"+kind+"::") {
			out = append(out, l)
		}
	}
	return out
}

// Run runs one subcommand with inputs. Variables exported by earlier steps
// (the job environment) are in jobEnv, which Run updates like a runner does.
func (r *Runner) Run(cmd string, inputs map[string]string, jobEnv map[string]string) *Step {
	r.T.Helper()
	files := map[string]string{}
	env := map[string]string{}
	for k, v := range r.Env {
		env[k] = v
	}
	for k, v := range jobEnv {
		env[k] = v
	}
	for _, f := range []string{"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(r.Dir, "cmdfiles", cmd+"-"+strings.ToLower(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
		files[f], env[f] = p, p
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	var out bytes.Buffer
	e := runenv.FromMap(env, &out, nil)
	e.Timeouts, e.Ticker = r.Timeouts, r.Ticker
	code := cli.Main(context.Background(), []string{"rustcache-action", cmd}, e)
	for _, f := range []string{"GITHUB_ENV", "GITHUB_OUTPUT"} {
		if _, err := ghcmd.Parse(read(files[f]), false); err != nil {
			r.T.Errorf("%s %s: the runner cannot read %s: %v", cmd, f, files[f], err)
		}
	}
	s := &Step{Code: code, Stdout: out.String(), Env: ParseKV(read(files["GITHUB_ENV"])),
		Outputs: ParseKV(read(files["GITHUB_OUTPUT"])), Summary: read(files["GITHUB_STEP_SUMMARY"])}
	s.Path = ghcmd.ParsePath(read(files["GITHUB_PATH"]))
	r.stopAtCleanup(s)
	if jobEnv != nil {
		for k, v := range s.Env {
			jobEnv[k] = v
		}
	}
	return s
}

// stopAtCleanup makes sure the sccache server a later step or build starts
// on the port a setup step exported is stopped when the test ends.
func (r *Runner) stopAtCleanup(s *Step) {
	path, port := s.Outputs["sccache-path"], s.Env["SCCACHE_SERVER_PORT"]
	if path == "" || port == "" || r.stoppers[path+"\x00"+port] {
		return
	}
	if r.stoppers == nil {
		r.stoppers = map[string]bool{}
	}
	r.stoppers[path+"\x00"+port] = true
	r.T.Cleanup(func() { StopServer(path, port) })
}

// StopServer stops the sccache server listening on port, if any (sccache
// --stop-server never starts one).
func StopServer(sccache, port string) {
	cmd := exec.Command(sccache, "--stop-server")
	cmd.Env = append(os.Environ(), "SCCACHE_SERVER_PORT="+port)
	_ = cmd.Run()
}

func read(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// ParseKV reads a GITHUB_ENV / GITHUB_OUTPUT file with the runner's own
// algorithm (ghcmd.Parse); the last value of a name wins, as in the runner.
// A file the runner could not read gives what it read up to the fault.
func ParseKV(s string) map[string]string {
	ps, _ := ghcmd.Parse(s, false)
	out := map[string]string{}
	for _, p := range ps {
		out[p.Name] = p.Value
	}
	return out
}

// Cargo runs cargo in dir with the job environment, as a `run:` step would.
func (r *Runner) Cargo(dir string, jobEnv map[string]string, args ...string) (string, error) {
	r.T.Helper()
	return r.Command(dir, jobEnv, "cargo", args...)
}

// Command runs a program in dir with the job environment, as a `run:` step
// would.
func (r *Runner) Command(dir string, jobEnv map[string]string, name string, args ...string) (string, error) {
	r.T.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range r.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range jobEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Fresh empties the workspace, RUNNER_TEMP and the tool cache, as a new
// hosted runner would have them: same paths, nothing left from earlier jobs.
func (r *Runner) Fresh() *Runner {
	r.T.Helper()
	for _, d := range []string{r.Workspace, r.Temp, r.ToolCache} {
		if err := os.RemoveAll(d); err != nil {
			r.T.Fatal(err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			r.T.Fatal(err)
		}
	}
	return r
}

// Tree lists every file, directory and link below dir — mode, and the
// SHA-256 of the content or the link target — for comparing a tree before
// and after a step. The runner's workflow command files are left out.
func Tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case rel == "cmdfiles" && fi.IsDir():
			return filepath.SkipDir
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "link to " + l
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("%v %x", fi.Mode(), sha256.Sum256(b))
		default:
			out[rel] = fi.Mode().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
