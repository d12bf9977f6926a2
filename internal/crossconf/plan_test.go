package crossconf

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listing is every name below dir with its content (links as "-> target").
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "-> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		default:
			out[rel] = fi.Mode().String()
		}
		return nil
	})
	return out
}

// TestPlanRefusesFilesOutsideTheWorkspace: a Cross.toml, Cargo.toml or
// CROSS_CONFIG file whose real path leaves the workspace is refused with an
// error naming it, and nothing anywhere is written (it used to be rewritten
// at the link's target).
func TestPlanRefusesFilesOutsideTheWorkspace(t *testing.T) {
	const victimDoc = "[build.env]\npassthrough = [\"KEEP\"]\n"
	const cargoDoc = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[package.metadata.cross.build.env]\npassthrough = [\"A\"]\n"
	tests := []struct {
		name  string
		plant func(ws, victim string)
		env   func(ws, victim string) []string
		file  string // named in the error
	}{
		{name: "Cross.toml links out", plant: func(ws, v string) { os.Symlink(v, filepath.Join(ws, "Cross.toml")) }, file: "Cross.toml"},
		{name: "Cross.toml links out relatively", plant: func(ws, v string) { os.Symlink("../victim.toml", filepath.Join(ws, "Cross.toml")) }, file: "Cross.toml"},
		{name: "Cargo.toml links out", plant: func(ws, v string) {
			os.WriteFile(v, []byte(cargoDoc), 0o644)
			os.Symlink(v, filepath.Join(ws, "Cargo.toml"))
		}, file: "Cargo.toml"},
		{name: "CROSS_CONFIG outside", env: func(ws, v string) []string { return []string{"CROSS_CONFIG", v} }, file: "victim.toml"},
		{name: "CROSS_CONFIG climbs out", env: func(ws, v string) []string { return []string{"CROSS_CONFIG", "../victim.toml"} }, file: "victim.toml"},
		{name: "CROSS_CONFIG to create outside", env: func(ws, v string) []string {
			return []string{"CROSS_CONFIG", filepath.Join(filepath.Dir(v), "new.toml")}
		}, file: "new.toml"},
		{name: "Cross.toml links to nothing", plant: func(ws, v string) {
			os.Symlink(filepath.Join(filepath.Dir(v), "missing.toml"), filepath.Join(ws, "Cross.toml"))
		}, file: "Cross.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			ws := filepath.Join(top, "ws")
			os.Mkdir(ws, 0o755)
			victim := filepath.Join(top, "victim.toml")
			os.WriteFile(victim, []byte(victimDoc), 0o644)
			if tc.plant != nil {
				tc.plant(ws, victim)
			}
			var env []string
			if tc.env != nil {
				env = tc.env(ws, victim)
			}
			before := listing(t, top)
			changes, err := Plan(ws, ws, envMap(env...), testEntries, true)
			if err == nil || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), "not written") {
				t.Fatalf("Plan = %v, %v; want a refusal naming %s", changes, err, tc.file)
			}
			if d := cmp.Diff(before, listing(t, top)); d != "" {
				t.Errorf("Plan wrote (-before +after):\n%s", d)
			}
			if _, err := Ensure(ws, envMap(env...), testEntries, true); err == nil {
				t.Errorf("Ensure accepted it")
			}
			if d := cmp.Diff(before, listing(t, top)); d != "" {
				t.Errorf("Ensure wrote (-before +after):\n%s", d)
			}
		})
	}
}

// TestPlanWritesNothing: Plan only computes; the changes, written, give what
// Ensure gives; a link inside the workspace is followed and stays a link.
func TestPlanWritesNothing(t *testing.T) {
	top := t.TempDir()
	ws := filepath.Join(top, "ws")
	sub := filepath.Join(ws, "member")
	os.MkdirAll(filepath.Join(ws, "conf"), 0o755)
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(ws, "conf", "cross.toml"), []byte("[build]\nxargo = false\n"), 0o644)
	os.Symlink("../conf/cross.toml", filepath.Join(sub, "Cross.toml"))
	os.WriteFile(filepath.Join(sub, "Cargo.toml"), []byte("[package]\nname = \"x\"\nversion = \"0.1.0\"\n[package.metadata.cross.build.env]\npassthrough = [\"A\"]\n[workspace.metadata.cross.build.env]\npassthrough = [\"B\"]\n"), 0o644)
	before := listing(t, top)
	changes, err := Plan(sub, ws, envMap(), testEntries, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, listing(t, top)); d != "" {
		t.Errorf("Plan wrote (-before +after):\n%s", d)
	}
	var paths []string
	for _, c := range changes {
		paths = append(paths, filepath.Base(c.Path))
		if err := c.Write(); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(paths)
	if d := cmp.Diff([]string{"Cargo.toml", "Cross.toml"}, paths); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if l, err := os.Readlink(filepath.Join(sub, "Cross.toml")); err != nil || l != "../conf/cross.toml" {
		t.Errorf("the link was replaced: %q %v", l, err)
	}
	if got := readFile(t, filepath.Join(ws, "conf", "cross.toml")); !strings.Contains(got, "RUSTCACHE_ROOT") {
		t.Errorf("the link's target inside the workspace was not updated:\n%s", got)
	}
	// Both tables of Cargo.toml are extended, in one change.
	cargo := readFile(t, filepath.Join(sub, "Cargo.toml"))
	if n := strings.Count(cargo, "RUSTC_WRAPPER"); n != 2 {
		t.Errorf("Cargo.toml has RUSTC_WRAPPER %d times, want 2:\n%s", n, cargo)
	}
	if again, err := Plan(sub, ws, envMap(), testEntries, true); err != nil || len(again) != 0 {
		t.Errorf("second Plan = %v, %v; want nothing to change\n%s", again, err, cargo)
	}
}

// TestPlanReadOnlyDir: a directory that cannot take the file is refused by
// Plan, before anything is written anywhere.
func TestPlanReadOnlyDir(t *testing.T) {
	ws := t.TempDir()
	makeReadOnly(t, ws)
	_, err := Plan(ws, ws, envMap(), testEntries, true)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(ws, "Cross.toml")) || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("Plan = %v; want a refusal naming Cross.toml", err)
	}
}
