// Package runenv holds everything a subcommand needs from the world outside it —
// the environment, standard streams, HTTP transport, clock, platform and process
// runner — in one value built by main and replaced by fakes in tests. Nothing
// below main reads os.Getenv, uses http.DefaultClient or calls time.Now directly.
package runenv

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/httpx"
	"github.com/org/rustcache-action/internal/progress"
)

// Env is the injected outside world.
type Env struct {
	// Getenv reads an environment variable ("" when unset).
	Getenv func(string) string
	// Stdout receives workflow commands (::warning:: and friends) and logs.
	Stdout io.Writer
	// Stderr receives diagnostics of the program itself.
	Stderr io.Writer
	// HTTP is the base client whose transport every request uses.
	HTTP *http.Client
	// Timeouts bound each attempt of a request (zero: httpx's defaults);
	// tests shorten them.
	Timeouts httpx.Timeouts
	// Now is the clock.
	Now func() time.Time
	// Ticker, when set, replaces time.NewTicker: it returns a channel that
	// ticks every d and a function that stops it. Tests drive progress
	// reports with it.
	Ticker func(d time.Duration) (<-chan time.Time, func())
	// GOOS and GOARCH describe the platform when RUNNER_OS/RUNNER_ARCH are unset.
	GOOS, GOARCH string
	// Command builds a process to run (exec.CommandContext in production).
	// Its environment is set by the caller from Environ.
	Command func(ctx context.Context, name string, args ...string) *exec.Cmd
	// Environ is the full environment, for child processes.
	Environ func() []string

	log *ghcmd.Log // see Log
}

// FromOS returns the production Env.
func FromOS() *Env {
	return &Env{
		Getenv:  os.Getenv,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		HTTP:    &http.Client{},
		Now:     time.Now,
		GOOS:    runtime.GOOS,
		GOARCH:  runtime.GOARCH,
		Command: exec.CommandContext,
		Environ: os.Environ,
		log:     ghcmd.New(os.Stdout),
	}
}

// FromMap returns an Env for tests: variables from m, output to w, the real
// clock and platform, the given HTTP client (nil: a plain one).
func FromMap(m map[string]string, w io.Writer, hc *http.Client) *Env {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Env{
		log:     ghcmd.New(w),
		Getenv:  func(k string) string { return m[k] },
		Stdout:  w,
		Stderr:  w,
		HTTP:    hc,
		Now:     time.Now,
		GOOS:    runtime.GOOS,
		GOARCH:  runtime.GOARCH,
		Command: exec.CommandContext,
		Environ: func() []string {
			out := make([]string, 0, len(m))
			for k, v := range m {
				out = append(out, k+"="+v)
			}
			return out
		},
	}
}

// Input returns the trimmed value of an action input: the runner passes
// input "name" as INPUT_<NAME>, upper-cased, spaces as underscores.
func (e *Env) Input(name string) string {
	return strings.TrimSpace(e.Getenv("INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))))
}

// Log is the step's log: every workflow command (annotations, masks,
// groups) and every log line that may hold text from outside goes through
// it, so secrets registered with Log().Mask are redacted from all of them.
// It writes to Stdout as it is when Log is first called.
func (e *Env) Log() *ghcmd.Log {
	if e.log == nil {
		e.log = ghcmd.New(e.Stdout)
	}
	return e.log
}

// Client is the retrying client every request of a step goes through: the
// base client HTTP with httpx's retries and Timeouts.
func (e *Env) Client() *retryablehttp.Client {
	return httpx.New(httpx.Options{Base: e.HTTP, Timeouts: e.Timeouts})
}

// Clock is the clock and the tickers of progress reports.
func (e *Env) Clock() progress.Clock { return progress.Clock{Now: e.Now, Ticker: e.Ticker} }

// LookupEnv reports a variable's value and whether it is set to something
// non-empty (GitHub Actions cannot tell unset from empty either).
func (e *Env) LookupEnv(k string) (string, bool) {
	v := e.Getenv(k)
	return v, v != ""
}

// secretVars are variables a child process (sccache, rustc) never needs and
// must not inherit: an sccache server started by a step would hold them for
// its whole life.
var secretVars = []string{"ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
	"INPUT_GITHUB-TOKEN", "GITHUB_TOKEN"}

// ChildEnviron is Environ without the credentials, for child processes.
func (e *Env) ChildEnviron() []string {
	var out []string
next:
	for _, kv := range e.Environ() {
		for _, s := range secretVars {
			if strings.HasPrefix(kv, s+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// Workspace is GITHUB_WORKSPACE, else the working directory: where relative
// working directories start and archive names are relative to.
func (e *Env) Workspace() string {
	if ws := e.Getenv("GITHUB_WORKSPACE"); ws != "" {
		return ws
	}
	wd, _ := os.Getwd()
	return wd
}

// DefaultRoot is the action's root directory when the cache-root input is
// empty: rustcache under RUNNER_TEMP (TMPDIR, then the system's temporary
// directory, outside a runner). setup, restore and save must agree on it.
func (e *Env) DefaultRoot() string {
	base := e.Getenv("RUNNER_TEMP")
	if base == "" {
		base = e.Getenv("TMPDIR")
	}
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "rustcache")
}
