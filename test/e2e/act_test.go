// Package e2e runs real workflows with act (host mode) using the action from
// this working tree: a fake release server provides sccache, act's own cache
// server (the v1 protocol) carries the cache between runs, and the realistic
// workload is built cold, then warm from an emptied root.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/bootstrap"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
)

// repo makes a git repository holding the action's tracked files and the
// workflow.
func repo(t *testing.T, workflow string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", src, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		if strings.HasPrefix(f, "test/") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue // deleted but still listed
		}
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		info, _ := os.Stat(filepath.Join(src, f))
		if err := os.WriteFile(p, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	wf, err := os.ReadFile(filepath.Join("testdata", workflow))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755)
	os.WriteFile(filepath.Join(dir, ".github", "workflows", workflow), wf, 0o644)
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.email=e2e@example.com", "-c", "user.name=e2e", "commit", "-qm", "e2e"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// actRun is one act invocation's result.
type actRun struct {
	log     string
	outputs map[string]string
	summary string
	elapsed time.Duration
}

func runAct(t *testing.T, dir, workflow, cacheServer string, env map[string]string) *actRun {
	t.Helper()
	act := testkit.NeedTool(t, "act")
	out := t.TempDir()
	interop, err := filepath.Abs("../interop")
	if err != nil {
		t.Fatal(err)
	}
	// act resolves the action files' nested actions/cache steps at job
	// set-up, skipped or not: the stand-in takes the pinned commit's place.
	args := []string{"-W", ".github/workflows/" + workflow, "-P", "ubuntu-latest=-self-hosted",
		"--cache-server-addr", "127.0.0.1", "--cache-server-path", cacheServer,
		"--artifact-server-addr", "127.0.0.1", "--env", "E2E_OUT=" + out,
		"--local-repository", bootstrap.ActionsCache + "@" + bootstrap.ActionsCacheCommit + "=" + filepath.Join(interop, "actions-cache"),
		"--env", "ACTIONS_CACHE_STANDIN_MODULES=" + filepath.Join(interop, "node_modules")}
	for k, v := range env {
		args = append(args, "--env", k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = dir
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	err = cmd.Run()
	r := &actRun{log: log.String(), elapsed: time.Since(start)}
	// The full log is kept only when the test fails, for reading afterwards.
	keep := filepath.Join(os.TempDir(), fmt.Sprintf("rustcache-e2e-%s-%d.log", strings.TrimSuffix(workflow, ".yml"), time.Now().UnixNano()))
	t.Cleanup(func() {
		if t.Failed() {
			if err := os.WriteFile(keep, log.Bytes(), 0o644); err == nil {
				t.Logf("full act log of %s: %s", workflow, keep)
			}
		}
	})
	if err != nil {
		t.Fatalf("act: %v (full log: %s)\n%s", err, keep, tail(r.log, 150))
	}
	b, _ := os.ReadFile(filepath.Join(out, "outputs"))
	r.outputs = actiontest.ParseKV(string(b))
	s, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	r.summary = string(s)
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// actBed runs a workflow repeatedly as on consecutive fresh runners. act
// gives every run a new workspace and RUNNER_TEMP. Hosted runners keep both
// paths from job to job — and sccache's hash of a workspace crate includes
// its path — so the runs build the workload at one fixed path and use one
// fixed root, emptied in between like a fresh runner's.
type actBed struct {
	dir, cacheServer, workflow string
	ws, root                   string
	env                        map[string]string
}

func newActBed(t *testing.T, workflow string, env map[string]string) *actBed {
	testkit.NeedTool(t, "cargo")
	rel := fakerelease.New(t, fakerelease.Options{})
	fixed := t.TempDir()
	b := &actBed{dir: repo(t, workflow), cacheServer: t.TempDir(), workflow: workflow,
		ws: filepath.Join(fixed, "workload"), root: filepath.Join(fixed, "root")}
	b.env = map[string]string{"E2E_WORKLOAD": b.ws, "E2E_ROOT": b.root, "E2E_RELEASES": rel.DownloadBase(), "E2E_SCCACHE_VERSION": fakerelease.DefaultVersion,
		"E2E_BUILD": "cargo build --release -q"}
	for k, v := range env {
		b.env[k] = v
	}
	return b
}

// run checks the workload out afresh (edit changes it first), empties the
// root and runs the workflow.
func (b *actBed) run(t *testing.T, edit func(ws string)) *actRun {
	t.Helper()
	os.RemoveAll(b.ws)
	os.RemoveAll(b.root)
	tmp, err := workload.Prepare(filepath.Dir(b.ws))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, b.ws); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(b.ws)
	}
	return runAct(t, b.dir, b.workflow, b.cacheServer, b.env)
}

// coldWarm runs a workflow twice, emptying the action's root in between (a
// fresh runner has an empty RUNNER_TEMP), and checks the warm run's hit rate.
func coldWarm(t *testing.T, workflow string, env map[string]string) (cold, warm *actRun) {
	b := newActBed(t, workflow, env)
	cold = b.run(t, nil)
	t.Logf("cold run %.0fs: %v", cold.elapsed.Seconds(), cold.outputs)
	if cold.outputs["saved"] != "true" || cold.outputs["cache-matched-key"] != "" {
		t.Fatalf("cold run outputs %v\n%s\n%s", cold.outputs, cold.summary, tail(cold.log, 60))
	}
	if cold.outputs["cache-root"] != b.root {
		t.Fatalf("cache-root output %q, want %q", cold.outputs["cache-root"], b.root)
	}
	warm = b.run(t, nil)
	t.Logf("warm run %.0fs: %v", warm.elapsed.Seconds(), warm.outputs)
	rate, err := strconv.ParseFloat(warm.outputs["hit-rate"], 64)
	if err != nil || rate < 95 {
		t.Errorf("warm hit rate %q, want ≥ 95\n%s\n%s", warm.outputs["hit-rate"], warm.summary, tail(warm.log, 60))
	}
	if warm.outputs["cache-matched-key"] == "" || !strings.Contains(warm.summary, "Hit rate") {
		t.Errorf("warm run did not restore or report: %v\n%s", warm.outputs, warm.summary)
	}
	if m, _ := strconv.Atoi(cold.outputs["misses"]); m < 10 {
		t.Errorf("cold run counted %d misses; the workload has more crates than that", m)
	}
	return cold, warm
}

// freshRe reads the summary's count of dependency crates cargo found fresh.
var freshRe = regexp.MustCompile(`Dependencies fresh from the target part \| (\d+) of (\d+) dependency crates`)

// checkAllFresh checks that a warm run found every dependency crate fresh
// in the restored target part.
func checkAllFresh(t *testing.T, warm *actRun) {
	t.Helper()
	m := freshRe.FindStringSubmatch(warm.summary)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("warm run: dependency crates fresh %v, want all of them\n%s", m, warm.summary)
	}
}

func TestActNative(t *testing.T) {
	if testing.Short() {
		t.Skip("act end-to-end runs take minutes")
	}
	_, warm := coldWarm(t, "build.yml", nil)
	checkAllFresh(t, warm)
}

// crossStandIn builds the cross stand-in (test/crossbox) for the workflow.
func crossStandIn(t *testing.T) string {
	t.Helper()
	testkit.NeedTool(t, "bwrap")
	bin := filepath.Join(t.TempDir(), "cross")
	if out, err := exec.Command("go", "build", "-o", bin, "../crossbox/cmd/cross").CombinedOutput(); err != nil {
		t.Fatalf("build the cross stand-in: %v\n%s", err, out)
	}
	return bin
}

// TestActCross: the whole build runs inside a cross container (a sandbox
// with its own network, uid and mounts); the hits are counted from the
// shared disk cache, since the runner's sccache server never sees them.
func TestActCross(t *testing.T) {
	if testing.Short() {
		t.Skip("act end-to-end runs take minutes")
	}
	cross := crossStandIn(t)
	cold, warm := coldWarm(t, "build.yml", map[string]string{"E2E_CROSS_MODE": "true",
		"E2E_BUILD": cross + " build --release -q"})
	// The truth: every crate compiled in the container. The runner's own
	// server (started by cross's `cargo metadata` on the runner) saw none of
	// those compilations, yet the report counts them all.
	if !regexp.MustCompile(`Runner's sccache server \| \d+ compile requests, 0 hits, 0 misses`).MatchString(warm.summary) {
		t.Errorf("the runner's server took part in the build:\n%s", warm.summary)
	}
	// The dependencies came back fresh from the target part (the host's
	// build scripts and proc-macros in target/release, the rest in
	// target/<triple>/release); what the container compiled (the workspace
	// crates) all hit.
	checkAllFresh(t, warm)
	if warm.outputs["misses"] != "0" || warm.outputs["hits"] == "0" {
		t.Errorf("warm hits %s, misses %s (cold misses %s): every entry the container compiled should hit", warm.outputs["hits"], warm.outputs["misses"], cold.outputs["misses"])
	}
}

// TestActTargetPart: the unchanged warm run finds every dependency fresh and
// uploads nothing; a run whose Cargo.lock gained a dependency restores
// by prefix and finds all the others fresh.
func TestActTargetPart(t *testing.T) {
	if testing.Short() {
		t.Skip("act end-to-end runs take minutes")
	}
	b := newActBed(t, "build.yml", nil)
	if cold := b.run(t, nil); cold.outputs["saved"] != "true" {
		t.Fatalf("cold run outputs %v\n%s", cold.outputs, cold.summary)
	}
	warm := b.run(t, nil)
	checkAllFresh(t, warm)
	if warm.outputs["saved"] != "false" {
		t.Errorf("the unchanged warm run uploaded again: %v\n%s", warm.outputs, warm.summary)
	}
	changed := b.run(t, func(ws string) {
		if err := workload.AddDependency(ws); err != nil {
			t.Fatal(err)
		}
		// In the workspace, so its offline registry configuration applies.
		cmd := exec.Command("cargo", "metadata", "--offline", "--format-version=1", "-q")
		cmd.Dir = ws
		out, err := cmd.CombinedOutput()
		if err != nil {
			cfg, cerr := os.ReadFile(filepath.Join(ws, ".cargo", "config.toml"))
			t.Fatalf("update Cargo.lock: %v\n%s\n.cargo/config.toml (%v):\n%s", err, out, cerr, cfg)
		}
	})
	matched, primary := strings.Split(changed.outputs["cache-matched-key"], "-"), strings.Split(changed.outputs["cache-primary-key"], "-")
	if len(matched) < 3 || len(primary) < 3 || matched[len(matched)-3] == primary[len(primary)-3] {
		t.Fatalf("the lockfile change should restore by prefix: matched %v, primary %v", changed.outputs["cache-matched-key"], changed.outputs["cache-primary-key"])
	}
	m := freshRe.FindStringSubmatch(changed.summary)
	if m == nil {
		t.Fatalf("no fresh count:\n%s", changed.summary)
	}
	fresh, used := atoi(m[1]), atoi(m[2])
	if fresh == 0 || fresh != used-1 || changed.outputs["saved"] != "true" {
		t.Errorf("after the lockfile change %d of %d crates fresh (want all but the new one), saved %s\n%s", fresh, used, changed.outputs["saved"], changed.summary)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestActNativeThenCrossHostNetwork: a native build leaves the runner's
// sccache server running; the cross build then shares the runner's network,
// so a container client on the default port would reach that server, which
// cannot see the container's paths. The container must use its own port.
func TestActNativeThenCrossHostNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("act end-to-end runs take minutes")
	}
	cross := crossStandIn(t)
	coldWarm(t, "build.yml", map[string]string{"E2E_CROSS_MODE": "true",
		"E2E_BUILD": "cargo build --release -q && CROSS_CONTAINER_OPTS=--network=host " + cross + " build --release -q"})
}
