package cli_test

import (
	"os"
	"path/filepath"
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
