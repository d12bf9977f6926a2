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

// TestActCredentialStep runs the action with act in host mode, where run
// steps see act's ACTIONS_CACHE_URL, and again without a cache server.
func TestActCredentialStep(t *testing.T) {
	if testing.Short() {
		t.Skip("act runs take a while")
	}
	act := testkit.NeedTool(t, "act")
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
		{"no cache server", []string{"--no-cache-server"}, true, "cache persistence is off", "false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-W", ".github/workflows/credentials.yml", "-P", "ubuntu-latest=-self-hosted",
				"--artifact-server-addr", "127.0.0.1",
				"--env", "T_RELEASES=" + rel.DownloadBase(), "--env", "T_SCCACHE_VERSION=" + fakerelease.DefaultVersion}, tc.args...)
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
			if !strings.Contains(log, "::set-output:: saved="+tc.saved) {
				t.Errorf("save did not report saved=%s\n%s", tc.saved, tail(log, 80))
			}
			if tc.warning == "" && strings.Contains(log, "::warning") {
				t.Errorf("unexpected warning\n%s", tail(log, 80))
			}
		})
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
