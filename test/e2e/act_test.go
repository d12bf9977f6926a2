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

// coldWarm runs a workflow twice, emptying the action's root in between (a
// fresh runner has an empty RUNNER_TEMP), and checks the warm run's hit rate.
func coldWarm(t *testing.T, workflow string, env map[string]string) (cold, warm *actRun) {
	testkit.NeedTool(t, "cargo")
	rel := fakerelease.New(t, fakerelease.Options{})
	dir := repo(t, workflow)
	cacheServer := t.TempDir()
	// act gives every run a new workspace and RUNNER_TEMP. Hosted runners keep
	// both paths from job to job — and sccache's hash of a workspace crate
	// includes its path — so the runs build the workload at one fixed path
	// and use one fixed root, emptied in between like a fresh runner's.
	fixed := t.TempDir()
	ws, root := filepath.Join(fixed, "workload"), filepath.Join(fixed, "root")
	fresh := func() {
		os.RemoveAll(ws)
		os.RemoveAll(root)
		tmp, err := workload.Prepare(fixed)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, ws); err != nil {
			t.Fatal(err)
		}
	}
	base := map[string]string{"E2E_WORKLOAD": ws, "E2E_ROOT": root, "E2E_RELEASES": rel.DownloadBase(), "E2E_SCCACHE_VERSION": fakerelease.DefaultVersion,
		"E2E_BUILD": "cargo build --release -q"}
	for k, v := range env {
		base[k] = v
	}
	fresh()
	cold = runAct(t, dir, workflow, cacheServer, base)
	t.Logf("cold run %.0fs: %v", cold.elapsed.Seconds(), cold.outputs)
	if cold.outputs["saved"] != "true" || cold.outputs["cache-matched-key"] != "" {
		t.Fatalf("cold run outputs %v\n%s\n%s", cold.outputs, cold.summary, tail(cold.log, 60))
	}
	if cold.outputs["cache-root"] != root {
		t.Fatalf("cache-root output %q, want %q", cold.outputs["cache-root"], root)
	}
	fresh()
	warm = runAct(t, dir, workflow, cacheServer, base)
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

func TestActNative(t *testing.T) {
	if testing.Short() {
		t.Skip("act end-to-end runs take minutes")
	}
	coldWarm(t, "build.yml", nil)
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
	if warm.outputs["hits"] != cold.outputs["misses"] {
		t.Errorf("warm hits %s, cold misses %s: every entry the container stored should hit", warm.outputs["hits"], cold.outputs["misses"])
	}
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
