package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
)

// tinyWorkspace writes a Cargo workspace of two crates without dependencies.
func tinyWorkspace(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\", \"lib\"]\nresolver = \"2\"\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nlib = { path = \"../lib\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", lib::answer()); }\n",
		"lib/Cargo.toml":  "[package]\nname = \"lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"lib/src/lib.rs":  "pub fn answer() -> u32 { 42 }\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestColdThenWarm runs two jobs on fresh runners sharing one cache service:
// the first builds and saves, the second restores and hits every crate.
func TestColdThenWarm(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	svc := fakecache.NewV1(t)

	r := actiontest.New(t).With(svc.Env())
	job := func(name string) (map[string]string, *actiontest.Step, *actiontest.Runner) {
		r.Fresh()
		r.Env["GITHUB_RUN_ID"] = name
		tinyWorkspace(t, r.Workspace)
		jobEnv := map[string]string{}
		in := map[string]string{"sccache-version": r.Version, "key": "e2e"}
		if s := r.Run("setup", in, jobEnv); s.Code != 0 {
			t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
		}
		if s := r.Run("restore", in, jobEnv); s.Code != 0 {
			t.Fatalf("restore: %d\n%s", s.Code, s.Stdout)
		}
		if out, err := r.Cargo(r.Workspace, jobEnv, "build", "-q"); err != nil {
			t.Fatalf("cargo build: %v\n%s", err, out)
		}
		s := r.Run("save", map[string]string{"key": "e2e"}, jobEnv)
		if s.Code != 0 {
			t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
		}
		return jobEnv, s, r
	}

	_, cold, _ := job("1")
	if cold.Outputs["saved"] != "true" || cold.Outputs["hits"] != "0" || cold.Outputs["misses"] == "0" {
		t.Fatalf("cold job outputs = %v\n%s", cold.Outputs, cold.Stdout)
	}
	if n := len(svc.Entries()); n != 1 {
		t.Fatalf("service holds %d entries after the cold job, want 1", n)
	}
	warmEnv, warm, _ := job("2")
	if warm.Outputs["misses"] != "0" || warm.Outputs["hits"] != cold.Outputs["misses"] || warm.Outputs["hit-rate"] != "100.0" {
		t.Errorf("warm job outputs = %v, cold misses %s\n%s", warm.Outputs, cold.Outputs["misses"], warm.Stdout)
	}
	if warm.Outputs["saved"] != "false" || !strings.Contains(warm.Summary, "nothing changed since restore") {
		t.Errorf("warm job should skip the unchanged upload: %v\n%s", warm.Outputs, warm.Summary)
	}
	if !strings.Contains(warm.Summary, "Hit rate | 100.0 %") {
		t.Errorf("summary lacks the hit rate:\n%s", warm.Summary)
	}
	if warmEnv["RUSTC_WRAPPER"] == "" || !strings.HasPrefix(warmEnv["SCCACHE_DIR"], warmEnv["RUSTCACHE_ROOT"]) {
		t.Errorf("job env = %v", warmEnv)
	}
}

// cacheFiles lists the files under dir by slash-separated relative path.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestWarmJobElsewhere saves an entry from one runner and restores it in jobs
// whose root, and then also workspace, lie elsewhere and at other depths (a
// self-hosted fleet, act, a changed cache-root): the entry is found (the
// cache version does not depend on the root's path) and lands whole in the
// new root (restore extracts by the archive's own layout). With the same
// workspace path, sccache hits every crate.
func TestWarmJobElsewhere(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	services := map[string]func(t *testing.T) map[string]string{
		"v1": func(t *testing.T) map[string]string { return fakecache.NewV1(t).Env() },
		"v2": func(t *testing.T) map[string]string { return fakecache.NewV2(t, fakecache.NewMemBlobs(t)).Env() },
	}
	for name, start := range services {
		t.Run(name, func(t *testing.T) {
			svc := start(t)
			job := func(r *actiontest.Runner, run string, in map[string]string) (setup, restore, save *actiontest.Step, root string) {
				t.Helper()
				r.Env["GITHUB_RUN_ID"] = run
				tinyWorkspace(t, r.Workspace)
				jobEnv := map[string]string{}
				in["sccache-version"], in["key"] = r.Version, "elsewhere"
				// setup downloads from the fake release server; the cache
				// steps see the service's GITHUB_SERVER_URL (github.com for v2).
				r.Env["GITHUB_SERVER_URL"] = r.Release.ServerURL()
				if setup = r.Run("setup", in, jobEnv); setup.Code != 0 {
					t.Fatalf("setup: %d\n%s", setup.Code, setup.Stdout)
				}
				if u, ok := svc["GITHUB_SERVER_URL"]; ok {
					r.Env["GITHUB_SERVER_URL"] = u
				}
				if restore = r.Run("restore", in, jobEnv); restore.Code != 0 || len(restore.Annotations("warning")) > 0 {
					t.Fatalf("restore: %d\n%s", restore.Code, restore.Stdout)
				}
				root = jobEnv["RUSTCACHE_ROOT"]
				before := cacheFiles(t, filepath.Join(root, "cache"))
				if out, err := r.Cargo(r.Workspace, jobEnv, "build", "-q"); err != nil {
					t.Fatalf("cargo build: %v\n%s", err, out)
				}
				if save = r.Run("save", map[string]string{"key": "elsewhere"}, jobEnv); save.Code != 0 {
					t.Fatalf("save: %d\n%s", save.Code, save.Stdout)
				}
				restore.Outputs["files-restored"] = strings.Join(before, "\n")
				return setup, restore, save, root
			}

			a := actiontest.New(t).With(svc)
			_, _, cold, coldRoot := job(a, "1", map[string]string{})
			if cold.Outputs["saved"] != "true" || cold.Outputs["misses"] == "0" {
				t.Fatalf("cold job outputs = %v\n%s", cold.Outputs, cold.Stdout)
			}
			saved := cacheFiles(t, filepath.Join(coldRoot, "cache"))

			// The same runner directory layout, another cache-root.
			a.Fresh()
			otherRoot := filepath.Join(a.Dir, "elsewhere", "deeper", "root")
			_, warm, warmSave, _ := job(a, "2", map[string]string{"cache-root": otherRoot})
			if warm.Outputs["cache-matched-key"] != cold.Outputs["saved-key"] {
				t.Errorf("warm job at another root restored %q, want %q\n%s", warm.Outputs["cache-matched-key"], cold.Outputs["saved-key"], warm.Stdout)
			}
			if got := warm.Outputs["files-restored"]; got != strings.Join(saved, "\n") {
				t.Errorf("warm job at another root restored\n%s\nwant\n%s", got, strings.Join(saved, "\n"))
			}
			if warmSave.Outputs["misses"] != "0" || warmSave.Outputs["hits"] != cold.Outputs["misses"] {
				t.Errorf("warm job at another root: outputs %v, want %s hits and no miss\n%s", warmSave.Outputs, cold.Outputs["misses"], warmSave.Stdout)
			}

			// Another runner: workspace and root elsewhere, at other depths.
			b := actiontest.New(t).With(svc)
			b.Workspace = filepath.Join(b.Dir, "a", "b", "c", "work")
			b.Env["GITHUB_WORKSPACE"] = b.Workspace
			_, far, _, farRoot := job(b, "3", map[string]string{"cache-root": filepath.Join(b.Dir, "r")})
			if far.Outputs["cache-matched-key"] == "" {
				t.Fatalf("warm job at another workspace and root restored nothing\n%s", far.Stdout)
			}
			if got := far.Outputs["files-restored"]; !strings.Contains(got, saved[0]) || len(strings.Split(got, "\n")) < len(saved) {
				t.Errorf("warm job at another workspace and root restored\n%s\nwant (at least)\n%s", got, strings.Join(saved, "\n"))
			}
			if !strings.HasPrefix(farRoot, b.Dir) {
				t.Errorf("root %q is not the one given", farRoot)
			}
		})
	}
}
