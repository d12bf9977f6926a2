package workload

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/org/rustcache-action/internal/testkit"
)

func TestPrepareCopiesCrateAndConfig(t *testing.T) {
	dir, err := Prepare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Cargo.toml", "Cargo.lock", "src/main.rs", "crates/logscan/src/lib.rs", "crates/tally/Cargo.toml", "crates/report/src/lib.rs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("copy lacks %s: %v", f, err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, ".cargo", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Config(DebianRegistry), string(got)); diff != "" {
		t.Errorf("config.toml (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "target")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target/ copied or unexpected error: %v", err)
	}
	second, err := Prepare(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if second == dir {
		t.Errorf("Prepare returned the same directory twice: %s", dir)
	}
}

func TestCheckRegistry(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "Cargo.lock")
	if err := os.WriteFile(lock, []byte(`version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["regex"]

[[package]]
name = "regex"
version = "1.7.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "memchr"
version = "2.5.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		present []string
		wantErr bool
	}{
		{"all registry packages present, local one needs none", []string{"regex-1.7.1", "memchr-2.5.0"}, false},
		{"one missing", []string{"regex-1.7.1"}, true},
		{"wrong version", []string{"regex-1.7.0", "memchr-2.5.0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := t.TempDir()
			for _, p := range tt.present {
				if err := os.Mkdir(filepath.Join(reg, p), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckRegistry(reg, lock)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckRegistry = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMissingCrate) {
				t.Errorf("error %v is not ErrMissingCrate", err)
			}
		})
	}
}

// TestOfflineResolution checks that the copy resolves every dependency from
// Debian's registry without the network (cargo metadata, no compilation).
func TestOfflineResolution(t *testing.T) {
	cargo := testkit.NeedTool(t, "cargo")
	dir := PrepareT(t)
	cmd := exec.Command(cargo, "metadata", "--format-version", "1", "--locked")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+filepath.Join(dir, "target"))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("cargo metadata: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var meta struct {
		Packages []struct {
			Name   string  `json:"name"`
			Source *string `json:"source"`
		} `json:"packages"`
		WorkspaceMembers []string `json:"workspace_members"`
	}
	if err := json.Unmarshal(out, &meta); err != nil {
		t.Fatal(err)
	}
	var local, registry []string
	for _, p := range meta.Packages {
		if p.Source == nil {
			local = append(local, p.Name)
		} else {
			registry = append(registry, p.Name)
		}
	}
	sort.Strings(local)
	if diff := cmp.Diff([]string{"logscan", CrateName, "report", "tally"}, local); diff != "" {
		t.Errorf("workspace packages (-want +got):\n%s", diff)
	}
	for _, want := range []string{"regex", "serde", "serde_json", "serde_derive", "clap", "clap_derive"} {
		if !contains(registry, want) {
			t.Errorf("registry dependencies %v lack %s", registry, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkColdBuild measures a cold `cargo build` of a fresh copy (no
// target directory, no compiler cache): the baseline every cached build is
// compared with.
func BenchmarkColdBuild(b *testing.B) {
	cargo := testkit.NeedTool(b, "cargo")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := PrepareT(b)
		cmd := exec.Command(cargo, "build", "--locked", "-q")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+filepath.Join(dir, "target"), "RUSTC_WRAPPER=", "CARGO_BUILD_RUSTC_WRAPPER=")
		b.StartTimer()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("cargo build: %v\n%s", err, out)
		}
	}
}
