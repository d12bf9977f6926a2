package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
)

// stepper runs the action's compiled program as a runner runs a step: a new
// process with a runner-like environment (the layout and fake services of an
// actiontest.Runner), inputs as INPUT_* variables and fresh workflow command
// files, whose GITHUB_ENV and GITHUB_PATH then flow into the job
// environment of the following steps.
type stepper struct {
	bin string
	r   *actiontest.Runner
}

// stepOut is what one step did.
type stepOut struct {
	name    string
	code    int
	stdout  string
	outputs map[string]string
	summary string
	took    sample
}

// failed describes a non-zero exit, or returns nil.
func (o *stepOut) failed() error {
	if o.code == 0 {
		return nil
	}
	return fmt.Errorf("%s exited %d:\n%s", o.name, o.code, o.stdout)
}

// run runs subcommand cmd. jobEnv holds what earlier steps exported and is
// updated with what this one exports (PATH additions prepended, as the
// runner does).
func (st *stepper) run(ctx context.Context, cmd string, inputs, jobEnv map[string]string) (*stepOut, error) {
	env := map[string]string{"CI": "true", "GITHUB_ACTIONS": "true"}
	for k, v := range st.r.Env {
		env[k] = v
	}
	for k, v := range jobEnv {
		env[k] = v
	}
	files := map[string]string{}
	for _, f := range []string{"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(st.r.Dir, "cmdfiles", cmd+"-"+strings.ToLower(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, err
		}
		files[f], env[f] = p, p
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, st.bin, cmd)
	c.Dir = st.r.Workspace
	c.Env = envList(env)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	took, err := timeIt(c.Run)
	o := &stepOut{name: cmd, stdout: out.String(), took: took}
	if took.wall > 2*time.Second && took.cpu < took.wall/10 {
		// A step that mostly waited: show what it said.
		fmt.Fprintf(os.Stderr, "bench: %s idled %s (cpu %s), SCCACHE_SERVER_PORT=%s:\n%s\n", cmd, seconds(took.wall), seconds(took.cpu), env["SCCACHE_SERVER_PORT"], o.stdout)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return nil, fmt.Errorf("run %s: %w", cmd, err)
		}
		o.code = ee.ExitCode()
	}
	o.outputs = actiontest.ParseKV(readFile(files["GITHUB_OUTPUT"]))
	o.summary = readFile(files["GITHUB_STEP_SUMMARY"])
	if jobEnv != nil {
		for k, v := range actiontest.ParseKV(readFile(files["GITHUB_ENV"])) {
			jobEnv[k] = v
		}
		for _, dir := range strings.Split(readFile(files["GITHUB_PATH"]), "\n") {
			if dir != "" {
				path := env["PATH"]
				if p, ok := jobEnv["PATH"]; ok {
					path = p
				}
				jobEnv["PATH"] = dir + string(os.PathListSeparator) + path
			}
		}
	}
	return o, nil
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// cargoEnv is the environment of a `run: cargo ...` step: this process's,
// without anything that would put a compiler wrapper in front of rustc,
// then the runner's base environment and the job environment.
func cargoEnv(base, jobEnv map[string]string) []string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if k == "RUSTC_WRAPPER" || k == "CARGO_BUILD_RUSTC_WRAPPER" || strings.HasPrefix(k, "SCCACHE_") ||
			strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "INPUT_") {
			continue
		}
		m[k] = v
	}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range jobEnv {
		m[k] = v
	}
	return envList(m)
}

// runCargo runs a build command in dir and times it.
func runCargo(ctx context.Context, program, dir string, env []string, args ...string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, program, args...)
	c.Dir = dir
	c.Env = env
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	s, err := timeIt(c.Run)
	if err != nil {
		return s, fmt.Errorf("%s %s in %q: %w\n%s", program, strings.Join(args, " "), dir, err, out.String())
	}
	return s, nil
}
