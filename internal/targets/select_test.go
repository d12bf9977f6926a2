package targets

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	hApp    = "00000000000000a1"
	hCore   = "00000000000000c1"
	hSerde  = "0000000000000051"
	hOld    = "0000000000000052"
	hRun    = "0000000000000053"
	hBuild  = "0000000000000054"
	hGone   = "0000000000000055"
	hRecent = "0000000000000056"
)

// fakeTarget builds a target directory with one native and one cross profile:
// the workspace crates app and core, serde (lib, build-script run and
// compile) that they use, an older serde and a removed package nobody uses,
// and a dependency written during this job that no root reaches.
func fakeTarget(t *testing.T) (string, Options) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "target")
	hour := time.Hour
	for _, p := range []string{"release", "aarch64-unknown-linux-gnu/debug"} {
		pd := filepath.Join(dir, filepath.FromSlash(p))
		for _, u := range []fakeUnit{
			{name: "app-" + hApp, kind: "bin", fp: 1, deps: []uint64{2, 3}, files: []string{"deps/app-" + hApp, "deps/app-" + hApp + ".d"}},
			{name: "core-" + hCore, kind: "lib", fp: 2, deps: []uint64{3}, files: []string{"deps/libcore-" + hCore + ".rlib"}},
			{name: "serde-" + hSerde, kind: "lib", fp: 3, deps: []uint64{4}, age: hour, files: []string{"deps/libserde-" + hSerde + ".rlib", "deps/libserde-" + hSerde + ".rmeta", "deps/serde-" + hSerde + ".d"}},
			{name: "serde-" + hRun, kind: "run-build-script", fp: 4, deps: []uint64{5}, age: hour, files: []string{"build/serde-" + hRun + "/output", "build/serde-" + hRun + "/out/generated.rs"}},
			{name: "serde-" + hBuild, kind: "build-script", fp: 5, age: hour, files: []string{"build/serde-" + hBuild + "/build_script_build-" + hBuild}},
			{name: "serde-" + hOld, kind: "lib", fp: 6, age: 2 * hour, files: []string{"deps/libserde-" + hOld + ".rlib"}},
			{name: "gone-" + hGone, kind: "lib", fp: 7, age: 2 * hour, files: []string{"deps/libgone-" + hGone + ".rlib"}},
			{name: "recent-" + hRecent, kind: "lib", fp: 8, files: []string{"deps/librecent-" + hRecent + ".rlib"}},
		} {
			writeUnit(t, pd, u)
		}
		write(t, filepath.Join(pd, "app"), "final binary")
		write(t, filepath.Join(pd, "incremental", "app-x", "s-1", "dep-graph.bin"), "incremental")
		write(t, filepath.Join(pd, "examples", "ex-"+hSerde), "example")
		if err := os.Symlink("/etc/passwd", filepath.Join(pd, "deps", "libserde-"+hSerde+".so")); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "doc", "serde", ".fingerprint", "x"), "docs")
	return dir, Options{PathPackages: map[string]bool{"app": true, "core": true}, Since: time.Now().Add(-30 * time.Minute)}
}

func TestSelectKeepsWhatTheBuildUsed(t *testing.T) {
	dir, opts := fakeTarget(t)
	s, err := Select(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	var units []string
	for _, p := range []string{"aarch64-unknown-linux-gnu/debug", "release"} {
		for _, f := range []string{
			".fingerprint/recent-" + hRecent + "/dep-lib-recent",
			".fingerprint/recent-" + hRecent + "/invoked.timestamp",
			".fingerprint/recent-" + hRecent + "/lib-recent",
			".fingerprint/recent-" + hRecent + "/lib-recent.json",
			".fingerprint/serde-" + hSerde + "/dep-lib-serde",
			".fingerprint/serde-" + hSerde + "/invoked.timestamp",
			".fingerprint/serde-" + hSerde + "/lib-serde",
			".fingerprint/serde-" + hSerde + "/lib-serde.json",
			".fingerprint/serde-" + hRun + "/dep-run-build-script-serde",
			".fingerprint/serde-" + hRun + "/invoked.timestamp",
			".fingerprint/serde-" + hRun + "/run-build-script-serde",
			".fingerprint/serde-" + hRun + "/run-build-script-serde.json",
			".fingerprint/serde-" + hBuild + "/build-script-serde",
			".fingerprint/serde-" + hBuild + "/build-script-serde.json",
			".fingerprint/serde-" + hBuild + "/dep-build-script-serde",
			".fingerprint/serde-" + hBuild + "/invoked.timestamp",
			"build/serde-" + hRun + "/out/generated.rs",
			"build/serde-" + hRun + "/output",
			"build/serde-" + hBuild + "/build_script_build-" + hBuild,
			"deps/librecent-" + hRecent + ".rlib",
			"deps/libserde-" + hSerde + ".rlib",
			"deps/libserde-" + hSerde + ".rmeta",
			"deps/serde-" + hSerde + ".d",
		} {
			want = append(want, p+"/"+f)
		}
		units = append(units, p+"/recent-"+hRecent, p+"/serde-"+hSerde, p+"/serde-"+hRun, p+"/serde-"+hBuild)
	}
	want = sortedCopy(want)
	if diff := cmp.Diff(want, s.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var got []string
	for _, u := range s.Units {
		got = append(got, u.ID)
	}
	if diff := cmp.Diff(sortedCopy(units), got); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if s.Dropped != 4 {
		t.Errorf("Dropped = %d, want 4 (the old serde and the removed package, in two profiles)", s.Dropped)
	}
	if diff := cmp.Diff([]string{"aarch64-unknown-linux-gnu/debug", "release"}, s.Profiles); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	if len(s.Skipped) != 2 {
		t.Errorf("Skipped = %q, want the two symbolic links", s.Skipped)
	}
	var size int64
	for _, f := range s.Files {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	if s.Bytes != size {
		t.Errorf("Bytes = %d, want %d", s.Bytes, size)
	}
}

func TestSelectWithoutSinceKeepsWhatTheRootsReach(t *testing.T) {
	dir, opts := fakeTarget(t)
	opts.Since = time.Time{}
	s, err := Select(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Units) != 6 || s.Dropped != 6 {
		t.Errorf("units %d, dropped %d; want 6 and 6 (recent is reached by no root)", len(s.Units), s.Dropped)
	}
}

func TestSelectOddTrees(t *testing.T) {
	real, _ := fakeTarget(t)
	link := filepath.Join(t.TempDir(), "target")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Select(link, Options{}); !errors.Is(err, ErrSymlink) {
		t.Errorf("Select(symlinked target dir) = %v, want ErrSymlink", err)
	}
	s, err := Select(filepath.Join(t.TempDir(), "missing"), Options{})
	if err != nil || len(s.Files) != 0 {
		t.Errorf("Select(missing) = %v, %v; want an empty selection", s, err)
	}
	// A profile directory that is a link to another tree is not read.
	other := filepath.Join(t.TempDir(), "target")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "release"), filepath.Join(other, "release")); err != nil {
		t.Fatal(err)
	}
	s, err = Select(other, Options{})
	if err != nil || len(s.Files) != 0 || len(s.Skipped) != 1 {
		t.Errorf("Select(profile link) = files %v skipped %v, %v; want nothing and one skip", s.Files, s.Skipped, err)
	}
	// A damaged fingerprint drops that unit only.
	write(t, filepath.Join(real, "release", ".fingerprint", "serde-"+hSerde, "lib-serde"), "zz")
	_, opts := fakeTarget(t)
	s, err = Select(real, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range s.Units {
		if u.ID == "release/serde-"+hSerde {
			t.Errorf("unit with a damaged hash file selected")
		}
	}
}

func TestFileHash(t *testing.T) {
	for name, want := range map[string]string{
		"libserde-0123456789abcdef.rlib":  "0123456789abcdef",
		"serde-0123456789abcdef.d":        "0123456789abcdef",
		"app-0123456789abcdef":            "0123456789abcdef",
		"serde.dll-0123456789abcdef.pdb":  "0123456789abcdef",
		"libfoo_sys-0123456789abcdef.so":  "0123456789abcdef",
		"app":                             "",
		"libserde-notahash.rlib":          "",
		"libserde-0123456789abcdeg.rlib":  "",
		"libserde-0123456789abcdef0.rlib": "",
	} {
		if got := fileHash(name); got != want {
			t.Errorf("fileHash(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestSelectFollowsDependenciesAcrossProfiles: with --target (as cross
// builds), the triple's units depend on build scripts and proc-macros built
// for the host in target/<profile>, where no workspace unit lives. Restored
// and fresh, they are carried again.
func TestSelectFollowsDependenciesAcrossProfiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "target")
	hour := time.Hour
	triple := filepath.Join(dir, "x86_64-unknown-linux-gnu", "release")
	host := filepath.Join(dir, "release")
	writeUnit(t, triple, fakeUnit{name: "app-" + hApp, kind: "bin", fp: 1, deps: []uint64{3, 9}})
	writeUnit(t, triple, fakeUnit{name: "serde-" + hSerde, kind: "lib", fp: 3, deps: []uint64{4}, age: hour, files: []string{"deps/libserde-" + hSerde + ".rlib"}})
	writeUnit(t, host, fakeUnit{name: "serde-" + hRun, kind: "run-build-script", fp: 4, deps: []uint64{5}, age: hour, files: []string{"build/serde-" + hRun + "/output"}})
	writeUnit(t, host, fakeUnit{name: "serde-" + hBuild, kind: "build-script", fp: 5, age: hour})
	writeUnit(t, host, fakeUnit{name: "derive-" + hRecent, kind: "lib", fp: 9, age: hour, files: []string{"deps/libderive-" + hRecent + ".so"}})
	writeUnit(t, host, fakeUnit{name: "gone-" + hGone, kind: "lib", fp: 7, age: hour})
	s, err := Select(dir, Options{PathPackages: map[string]bool{"app": true}, Since: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range s.Units {
		got = append(got, u.ID)
	}
	want := []string{"release/derive-" + hRecent, "release/serde-" + hRun, "release/serde-" + hBuild, "x86_64-unknown-linux-gnu/release/serde-" + hSerde}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if s.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1 (gone)", s.Dropped)
	}
}
