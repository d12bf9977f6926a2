package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
)

// TestCargoHomeTravels saves the cargo home part of one runner and restores
// it on a fresh one: the locked .crate file and index cache come back, the
// unlocked ones and the extracted sources do not.
func TestCargoHomeTravels(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(svc.Env())
	home := filepath.Join(r.Dir, "cargo-home")
	r.Env["CARGO_HOME"] = home
	reg := "index.crates.io-1949cf8c6b5b557f"
	files := map[string]string{
		"registry/cache/" + reg + "/serde-1.0.200.crate":  "crate",
		"registry/cache/" + reg + "/serde-1.0.1.crate":    "old",
		"registry/index/" + reg + "/.cache/se/rd/serde":   "index",
		"registry/src/" + reg + "/serde-1.0.200/src/a.rs": "src",
	}
	job := func(run string, fill bool) *actiontest.Step {
		t.Helper()
		r.Fresh()
		os.RemoveAll(home)
		r.Env["GITHUB_RUN_ID"] = run
		lock := "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
		for name, body := range map[string]string{"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\n", "Cargo.lock": lock} {
			if err := os.WriteFile(filepath.Join(r.Workspace, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if fill {
			for f, body := range files {
				p := filepath.Join(home, filepath.FromSlash(f))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		jobEnv := map[string]string{}
		in := map[string]string{"sccache-version": r.Version, "key": "home", "cache-cargo-home": "true"}
		for _, step := range []string{"setup", "restore"} {
			if s := r.Run(step, in, jobEnv); s.Code != 0 {
				t.Fatalf("%s: %d\n%s", step, s.Code, s.Stdout)
			}
		}
		s := r.Run("save", map[string]string{"key": "home"}, jobEnv)
		if s.Code != 0 {
			t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
		}
		return s
	}
	cold := job("1", true)
	if cold.Outputs["saved"] != "true" || !strings.Contains(cold.Summary, "Cargo home part | 10 B, 2 files") {
		t.Fatalf("cold job: %v\n%s", cold.Outputs, cold.Summary)
	}
	warm := job("2", false)
	for f, body := range files {
		b, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(f)))
		back := strings.Contains(f, "1.0.200.crate") || strings.Contains(f, ".cache")
		if back && string(b) != body {
			t.Errorf("%s not restored: %q, %v", f, b, err)
		}
		if !back && err == nil {
			t.Errorf("%s restored, want it left out", f)
		}
	}
	if warm.Outputs["saved"] != "false" {
		t.Errorf("the unchanged warm job uploaded again: %v\n%s", warm.Outputs, warm.Summary)
	}
}
