package bootstrap

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/testkit"
)

// actRepo makes a git repository holding the action's files (as a user's
// repository holding `uses: ./` would) and testdata/<workflow>.
func actRepo(t *testing.T, workflow string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		if strings.HasPrefix(f, "test/") || strings.HasPrefix(f, ".github/") || strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".test") {
			continue
		}
		src := filepath.Join(root, f)
		info, err := os.Stat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	wf, err := os.ReadFile(filepath.Join("testdata", workflow))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", workflow), wf, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "t"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// standIn gives act the stand-in for actions/cache (test/interop/
// actions-cache) in place of the commit the action files pin.
func standIn(t *testing.T) []string {
	t.Helper()
	interop := filepath.Join(repoRoot(t), "test", "interop")
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "@actions", "cache", "package.json")); err != nil {
		t.Skip("test/interop/node_modules is missing: run npm ci in test/interop")
	}
	return []string{"--local-repository", ActionsCache + "@" + ActionsCacheCommit + "=" + filepath.Join(interop, "actions-cache"),
		"--env", "ACTIONS_CACHE_STANDIN_MODULES=" + filepath.Join(interop, "node_modules")}
}

// runAct runs a workflow of dir with act in host mode and returns its log;
// a job that does not succeed fails the test.
func runAct(t *testing.T, dir, workflow string, args ...string) string {
	t.Helper()
	act := testkit.NeedTool(t, "act")
	args = append([]string{"-W", ".github/workflows/" + workflow, "-P", "ubuntu-latest=-self-hosted",
		"--artifact-server-addr", "127.0.0.1"}, append(standIn(t), args...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	log := out.String()
	if err != nil || !strings.Contains(log, "Job succeeded") {
		t.Fatalf("act: %v\n%s", err, tail(log, 80))
	}
	return log
}

// TestActCredentialStep runs the fast entry points with act in host mode,
// where run steps see act's ACTIONS_CACHE_URL, and again without a cache
// server.
func TestActCredentialStep(t *testing.T) {
	if testing.Short() {
		t.Skip("act runs take a while")
	}
	testkit.NeedTool(t, "act")
	testkit.NeedTool(t, "git")
	rel := fakerelease.New(t, fakerelease.Options{})
	dir := actRepo(t, "credentials.yml")
	const image = "busybox@sha256:"

	for _, tc := range []struct {
		name        string
		args        []string
		containerOK bool // the container step may be attempted
		warning     string
		saved       string
	}{
		{"cache server", []string{"--cache-server-addr", "127.0.0.1", "--cache-server-path", t.TempDir()}, false, "", "true"},
		// The nested actions/cache steps find no service either: they warn,
		// as the real ones do, and the job goes on.
		{"no cache server", []string{"--no-cache-server"}, true, "An internal error has occurred in cache backend", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := runAct(t, dir, "credentials.yml", append([]string{
				"--env", "T_RELEASES=" + rel.DownloadBase(), "--env", "T_SCCACHE_VERSION=" + fakerelease.DefaultVersion}, tc.args...)...)
			attempted := strings.Count(log, "docker pull image="+image)
			switch {
			case !tc.containerOK && attempted != 0:
				t.Errorf("the credential container step ran %d times although ACTIONS_CACHE_URL was present\n%s", attempted, tail(log, 80))
			case tc.containerOK && attempted != 2:
				t.Errorf("the credential container step ran %d times without credentials, want 2 (restore and save)\n%s", attempted, tail(log, 80))
			}
			for _, step := range []string{"Set up sccache", "Restore the sccache cache", "Save the sccache cache", "no credentials leaked into the job"} {
				if !strings.Contains(log, "Success - Main "+step) {
					t.Errorf("step %q did not succeed\n%s", step, tail(log, 80))
				}
			}
			if tc.warning != "" && !strings.Contains(log, tc.warning) {
				t.Errorf("no warning %q\n%s", tc.warning, tail(log, 80))
			}
			if tc.saved != "" && !strings.Contains(log, "::set-output:: saved="+tc.saved) {
				t.Errorf("save did not report saved=%s\n%s", tc.saved, tail(log, 80))
			}
			if tc.warning == "" && strings.Contains(log, "::warning") {
				t.Errorf("unexpected warning\n%s", tail(log, 80))
			}
		})
	}
}

// TestActNested runs the default entry points with act, the cache-service
// variables hidden from every run step (BASH_ENV unsets them before each
// step's script, as GitHub-hosted runners never set them there) while the
// nested JavaScript steps see act's cache server: a cold job saves through
// actions/cache/save, a warm one restores through actions/cache/restore. With
// ACTIONS_CACHE_MODE=read visible to the run steps, no save step runs.
func TestActNested(t *testing.T) {
	if testing.Short() {
		t.Skip("act runs take a while")
	}
	testkit.NeedTool(t, "act")
	testkit.NeedTool(t, "git")
	rel := fakerelease.New(t, fakerelease.Options{})
	dir := actRepo(t, "nested.yml")
	hide := func(names ...string) string {
		f := filepath.Join(t.TempDir(), "hide.sh")
		if err := os.WriteFile(f, []byte("unset "+strings.Join(names, " ")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	credentials := hide("ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_CACHE_MODE")
	keepMode := hide("ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN")
	server, root := t.TempDir(), filepath.Join(t.TempDir(), "root")
	job := func(run, bashEnv string, extra ...string) (string, map[string]string) {
		t.Helper()
		if err := os.RemoveAll(root); err != nil { // a fresh runner: same paths, empty root
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "outputs")
		log := runAct(t, dir, "nested.yml", append([]string{"--cache-server-addr", "127.0.0.1", "--cache-server-path", server,
			"--env", "T_RELEASES=" + rel.DownloadBase(), "--env", "T_SCCACHE_VERSION=" + fakerelease.DefaultVersion,
			"--env", "T_ROOT=" + root, "--env", "T_OUT=" + out, "--env", "GITHUB_RUN_ID=" + run, "--env", "BASH_ENV=" + bashEnv}, extra...)...)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("no outputs: %v\n%s", err, tail(log, 80))
		}
		if strings.Contains(log, "docker pull") {
			t.Errorf("the default entry points pulled an image\n%s", tail(log, 80))
		}
		return log, readOutputsString(string(b))
	}

	log, cold := job("1", credentials)
	for _, step := range []string{"Restore the sccache cache (actions/cache)", "Check the restored cache", "Save the sccache cache (actions/cache)", "Prune and report"} {
		if !strings.Contains(log, "Success - Main "+step) {
			t.Errorf("cold job: step %q did not succeed\n%s", step, tail(log, 80))
		}
	}
	if cold["saved"] != "true" || cold["saved-key"] != cold["cache-primary-key"] || cold["cache-matched-key"] != "" || cold["misses"] != "1" {
		t.Errorf("cold job outputs %v\n%s", cold, tail(log, 80))
	}
	if !strings.Contains(log, "Cache saved with key: "+cold["saved-key"]) {
		t.Errorf("actions/cache/save did not save %s\n%s", cold["saved-key"], tail(log, 80))
	}
	if strings.Contains(log, "::warning") {
		t.Errorf("cold job warned\n%s", tail(log, 80))
	}

	log, warm := job("2", credentials)
	if warm["cache-matched-key"] != cold["saved-key"] || warm["cache-hit"] != "false" || warm["entries"] != "entry-1 entry-2 " {
		t.Errorf("warm job outputs %v, want job 1's entry restored beside its own\n%s", warm, tail(log, 80))
	}
	if !strings.Contains(log, "Cache restored from key: "+cold["saved-key"]) || warm["saved"] != "true" {
		t.Errorf("warm job did not restore through actions/cache or did not save\n%s", tail(log, 80))
	}

	log, read := job("3", keepMode, "--env", "ACTIONS_CACHE_MODE=read")
	if read["cache-matched-key"] != warm["saved-key"] || read["saved"] != "false" {
		t.Errorf("read-mode job outputs %v\n%s", read, tail(log, 80))
	}
	if strings.Contains(log, "Main Save the sccache cache (actions/cache)") {
		t.Errorf("read mode: actions/cache/save ran\n%s", tail(log, 80))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
