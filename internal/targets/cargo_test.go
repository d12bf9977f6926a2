package targets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
)

var compiling = regexp.MustCompile(`(?m)^\s+Compiling (\S+) v`)

// cargoBuild runs cargo build in ws and returns the packages it compiled.
func cargoBuild(t *testing.T, ws string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("cargo", "build", "--locked")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "CARGO_TERM_COLOR=never", "RUSTC_WRAPPER=", "CARGO_INCREMENTAL=0")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("cargo build: %v\n%s", err, out.String())
	}
	var got []string
	for _, m := range compiling.FindAllStringSubmatch(out.String(), -1) {
		got = append(got, m[1])
	}
	sort.Strings(got)
	return got
}

// checkout gives the workspace's sources new mtimes and removes the target
// directory, as a fresh checkout on a new runner does.
func checkout(t *testing.T, ws string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(ws, "target")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err := filepath.Walk(ws, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			err = os.Chtimes(p, now, now)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// carry selects, stages and restores the target part of ws across a fresh
// checkout, and returns the selection.
func carry(t *testing.T, ws string, since time.Time) *Selection {
	t.Helper()
	lock, err := ReadLock(filepath.Join(ws, "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(ws, "target")
	sel, err := Select(target, Options{PathPackages: lock.PathPackages(), Since: since})
	if err != nil {
		t.Fatal(err)
	}
	stage := filepath.Join(t.TempDir(), "targets")
	if err := Stage(stage, ws, []*Selection{sel}); err != nil {
		t.Fatal(err)
	}
	checkout(t, ws)
	res, err := Restore(stage, ws, []string{target}, true)
	if err != nil || len(res) != 1 || res[0].Problem != "" {
		t.Fatalf("Restore = %+v, %v", res, err)
	}
	return sel
}

// TestCargoFindsCarriedDependenciesFresh builds the workload, carries its
// target part across a fresh checkout and checks what cargo rebuilds: the
// workspace crates only; then, with other RUSTFLAGS, everything, and the
// binary still works.
func TestCargoFindsCarriedDependenciesFresh(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	ws := workload.PrepareT(t)
	members := append([]string{workload.CrateName}, workload.Members...)
	sort.Strings(members)

	since := time.Now()
	cold := cargoBuild(t, ws)
	sel := carry(t, ws, since)
	for _, u := range sel.Units {
		for _, m := range members {
			if strings.HasPrefix(u.ID, "debug/"+m+"-") {
				t.Errorf("workspace unit %s carried", u.ID)
			}
		}
	}
	for _, f := range sel.Files {
		if strings.Contains(f, "/incremental/") || strings.HasPrefix(f, "debug/"+workload.CrateName) {
			t.Errorf("%s carried", f)
		}
	}
	warm := cargoBuild(t, ws)
	if diff := cmp.Diff(members, warm); diff != "" {
		t.Errorf("after the restore cargo compiled (-want +got):\n%s", diff)
	}
	if len(cold) <= len(members) {
		t.Fatalf("the cold build compiled only %v", cold)
	}

	// Other RUSTFLAGS: nothing carried may be used.
	flaggedStart := time.Now()
	flagged := cargoBuild(t, ws, "RUSTFLAGS=--cfg rustcache_test")
	if diff := cmp.Diff(cold, flagged); diff != "" {
		t.Errorf("with new RUSTFLAGS cargo compiled (-want every package +got):\n%s", diff)
	}
	out, err := exec.Command(filepath.Join(ws, "target", "debug", workload.CrateName), filepath.Join(ws, "sample.log")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("{")) {
		t.Errorf("the rebuilt binary: %v\n%s", err, out)
	}

	// The next save carries the units of the new flags only.
	for _, u := range carry(t, ws, flaggedStart).Units {
		if u.ModTime.Before(flaggedStart) {
			t.Errorf("unit %s of the old flags carried", u.ID)
		}
	}
	warm = cargoBuild(t, ws, "RUSTFLAGS=--cfg rustcache_test")
	if diff := cmp.Diff(members, warm); diff != "" {
		t.Errorf("after the second restore cargo compiled (-want +got):\n%s", diff)
	}
}
