package faults_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
)

// badInput is one wrong input value.
type badInput struct {
	step  string
	input string
	value string
	// prepare may turn value into a path of the runner (e.g. a directory
	// that cannot be written); it returns the value to give.
	prepare func(t *testing.T, r *actiontest.Runner) string
}

// userCrossToml is a Cross.toml of the user's that no failing step may touch.
const userCrossToml = "# mine\n[build.env]\npassthrough = [\"FOO\"]\n"

func badInputs() []badInput {
	long := strings.Repeat("k", 513)
	underFile := func(t *testing.T, r *actiontest.Runner) string {
		f := filepath.Join(r.Dir, "a-file")
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(f, "root")
	}
	immutable := func(t *testing.T, r *actiontest.Runner) string {
		d := filepath.Join(r.Dir, "immutable")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("chattr", "+i", d).CombinedOutput(); err != nil {
			t.Skipf("chattr +i unavailable here: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", d).Run() })
		return filepath.Join(d, "root")
	}
	aFile := func(t *testing.T, r *actiontest.Runner) string {
		f := filepath.Join(r.Workspace, "not-a-dir")
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	var out []badInput
	// setup: the inputs setup/setup_test.go does not already cover.
	for _, b := range []badInput{
		{input: "cargo-incremental", value: "1"},
		{input: "cargo-build-pipelining", value: "on"},
		{input: "sccache-direct", value: "TRUE!"},
		{input: "cache-size", value: "0"},
		{input: "cache-size", value: "2.5G"},
		{input: "cache-size", value: "-1G"},
		{input: "cache-size", value: "99999999999T"},
		{input: "sccache-version", value: "v1"},
		{input: "sccache-version", value: "latest-ish"},
		{input: "sccache-target", value: "riscv64gc-unknown-linux-gnu"},
		{input: "setup-timeout-minutes", value: "0"},
		{input: "setup-timeout-minutes", value: "ten"},
		{input: "fail-on-cache-error", value: "yes"},
		{input: "sccache-version", value: "v0.010.0"},
		{input: "sccache-target", value: "x86_64-unknown-linux-musl\x00"},
		{input: "sccache-url", value: "https://mirror.example/\n::error::forged"},
		{input: "cache-root", value: "/tmp/root\n_GitHubActionsFileCommandDelimeter_\nLD_PRELOAD=/evil.so"},
		{input: "working-directory", value: ".\x00"},
		{input: "cache-root", prepare: underFile},
		{input: "cache-root", prepare: immutable},
		{input: "working-directory", prepare: aFile},
		{input: "working-directory", value: "../../etc"},
		{input: "cache-root", prepare: func(t *testing.T, r *actiontest.Runner) string { return r.Workspace }},
	} {
		b.step = "setup"
		out = append(out, b)
	}
	// restore and save share these.
	for _, step := range []string{"restore", "save"} {
		for _, b := range []badInput{
			{input: "key", value: "a,b"},
			{input: "key", value: long},
			{input: "key", value: "two\nlines"},
			{input: "key", value: "nul\x00"},
			{input: "targets", value: "x86_64-unknown-linux-gnu\r\x1b"},
			{input: "cache-root", value: "/tmp/root\r\nLD_PRELOAD=/evil.so"},
			{input: "targets", value: "x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu"},
			{input: "working-directory", value: "does-not-exist"},
			{input: "working-directory", prepare: aFile},
			{input: "working-directory", value: "../../etc"},
			{input: "fail-on-cache-error", value: "yes"},
			{input: "timeout-minutes", value: "0"},
			{input: "timeout-minutes", value: "361"},
			{input: "timeout-minutes", value: "ten"},
			{input: "timeout-minutes", value: "1.5"},
			{input: "cache-root", value: "relative/root"},
			{input: "cache-root", prepare: underFile},
		} {
			b.step = step
			out = append(out, b)
		}
	}
	out = append(out, []badInput{
		{step: "restore", input: "restore", value: "no"},
		{step: "save", input: "save", value: "maybe"},
		{step: "save", input: "save-if", value: "refs/heads/main"},
		{step: "save", input: "keep", value: "-1"},
		{step: "save", input: "keep", value: "101"},
		{step: "save", input: "keep", value: "all"},
	}...)
	return out
}

// badInputsTried counts the bad input values given.
var badInputsTried atomic.Int64

// TestBadInputs gives each step one wrong input value: the step must fail
// with an ::error:: naming the input, and write nothing — no GITHUB_ENV,
// GITHUB_PATH or GITHUB_OUTPUT line, no change to the user's Cross.toml or to
// the action's state, no cache-service request.
func TestBadInputs(t *testing.T) {
	for _, b := range badInputs() {
		name := b.step + "/" + b.input + "=" + b.value
		if b.prepare != nil {
			name = b.step + "/" + b.input + "/prepared"
		}
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			badInputsTried.Add(1)
			svc := newService(t, v1)
			var r *actiontest.Runner
			var j *job
			cross := ""
			if b.step == "setup" {
				r = actiontest.New(t).With(svc.env())
				j = &job{t: t, r: r, svc: svc, env: map[string]string{}, releaseURL: r.Env["GITHUB_SERVER_URL"]}
			} else {
				j = newJob(t, svc, nil)
				r = j.r
				j.fill()
			}
			cross = filepath.Join(r.Workspace, "Cross.toml")
			if err := os.WriteFile(cross, []byte(userCrossToml), 0o644); err != nil {
				t.Fatal(err)
			}
			value := b.value
			if b.prepare != nil {
				value = b.prepare(t, r)
			}
			before := tree(t, r.Dir)
			svc.ResetCounts()

			in := map[string]string{b.input: value}
			if b.input != "key" {
				in["key"] = "faults"
			}
			s := j.run(b.step, in)

			if s.Code == 0 {
				t.Fatalf("exit 0 with %s=%q\n%s", b.input, value, s.Stdout)
			}
			errs := strings.Join(s.Annotations("error"), "\n")
			t.Logf("%s", errs)
			if !strings.Contains(errs, "input "+b.input) {
				t.Errorf("the ::error:: does not name the input %s:\n%s", b.input, s.Stdout)
			}
			if len(s.Env) != 0 || len(s.Path) != 0 || len(s.Outputs) != 0 {
				t.Errorf("the failed step wrote env %v path %v outputs %v", s.Env, s.Path, s.Outputs)
			}
			if got, _ := os.ReadFile(cross); !bytes.Equal(got, []byte(userCrossToml)) {
				t.Errorf("Cross.toml changed:\n%s", got)
			}
			after := tree(t, r.Dir)
			for k := range after {
				if strings.HasPrefix(k, "cmdfiles") {
					delete(after, k)
				}
			}
			for k := range before {
				if strings.HasPrefix(k, "cmdfiles") {
					delete(before, k)
				}
			}
			if d := treeDiff(before, after); d != "" {
				t.Errorf("the failed step changed files (-before +after):\n%s", d)
			}
			if n := len(svc.Requests()); n != 0 {
				t.Errorf("the failed step made %d cache-service requests", n)
			}
		})
	}
}
