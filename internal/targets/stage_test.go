package targets

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tree lists the regular files below dir with their contents and mtimes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b) + " @" + fi.ModTime().UTC().Format(time.RFC3339Nano)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStageAndRestore(t *testing.T) {
	ws := t.TempDir()
	dir, opts := fakeTarget(t)
	// The target directory lives in the workspace, a second one outside it.
	inWS := filepath.Join(ws, "target")
	if err := os.Rename(dir, inWS); err != nil {
		t.Fatal(err)
	}
	outside, _ := fakeTarget(t)
	var sels []*Selection
	for _, d := range []string{inWS, outside} {
		s, err := Select(d, opts)
		if err != nil {
			t.Fatal(err)
		}
		sels = append(sels, s)
	}
	before := tree(t, inWS)
	stage := filepath.Join(t.TempDir(), "targets")
	if err := Stage(stage, ws, sels); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, tree(t, inWS)); diff != "" {
		t.Errorf("staging changed the target directory:\n%s", diff)
	}

	// A fresh checkout: both target directories gone; a file of the
	// user's own is already in place and stays.
	for _, d := range []string{inWS, outside} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	mine := filepath.Join(inWS, "release", "deps", "libserde-"+hSerde+".rlib")
	write(t, mine, "the user's own")
	res, err := Restore(stage, ws, []string{inWS, outside}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Problem != "" || res[1].Problem != "" {
		t.Fatalf("Restore = %+v", res)
	}
	if res[0].Existing != 1 || res[0].Files != len(sels[0].Files)-1 || res[1].Files != len(sels[1].Files) {
		t.Errorf("files %d and %d, existing %d; want %d, %d and 1", res[0].Files, res[1].Files, res[0].Existing, len(sels[0].Files)-1, len(sels[1].Files))
	}
	var ids []string
	for _, u := range sels[1].Units {
		ids = append(ids, u.ID)
	}
	sort.Strings(res[1].Units)
	if diff := cmp.Diff(ids, res[1].Units); diff != "" {
		t.Errorf("restored units (-want +got):\n%s", diff)
	}
	got := tree(t, inWS)
	for _, f := range sels[0].Files {
		if f == "release/deps/libserde-"+hSerde+".rlib" {
			continue
		}
		if got[f] != before[f] {
			t.Errorf("%s restored as %q, want %q (content and mtime)", f, got[f], before[f])
		}
	}
	if b, _ := os.ReadFile(mine); string(b) != "the user's own" {
		t.Errorf("an existing file was replaced")
	}
	if _, err := os.Stat(filepath.Join(outside, "CACHEDIR.TAG")); err != nil {
		t.Errorf("a created target directory has no CACHEDIR.TAG: %v", err)
	}
	if _, err := os.Stat(stage); !os.IsNotExist(err) {
		t.Errorf("the staging directory is left: %v", err)
	}
}

func TestRestoreRefusesSymlinksAndReadOnlyDirs(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root: the read-only case is checked by the symbolic-link one only")
	}
	ws := t.TempDir()
	dir, opts := fakeTarget(t)
	s, err := Select(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Dir = filepath.Join(ws, "target")
	if err := os.Rename(dir, s.Dir); err != nil {
		t.Fatal(err)
	}
	stageDir := filepath.Join(t.TempDir(), "targets")
	for name, prepare := range map[string]func(t *testing.T, target string){
		"profile link": func(t *testing.T, target string) {
			elsewhere := t.TempDir()
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, filepath.Join(target, "release")); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
					t.Errorf("files written through the link: %v", ents)
				}
			})
		},
		"target link": func(t *testing.T, target string) {
			if err := os.Symlink(t.TempDir(), target); err != nil {
				t.Fatal(err)
			}
		},
		"read-only": func(t *testing.T, target string) {
			if err := os.MkdirAll(target, 0o555); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(target, 0o555); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "read-only" && os.Geteuid() == 0 {
				t.Skip("root writes into read-only directories")
			}
			if err := Stage(stageDir, ws, []*Selection{s}); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(t.TempDir(), "ws", "target")
			ws2 := filepath.Dir(target)
			if err := os.MkdirAll(ws2, 0o755); err != nil {
				t.Fatal(err)
			}
			prepare(t, target)
			res, err := Restore(stageDir, ws2, []string{target}, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Problem == "" {
				t.Fatalf("Restore = %+v, want a problem reported", res)
			}
			if len(res[0].Units) != 0 {
				t.Errorf("units put in place: %v", res[0].Units)
			}
			t.Log(res[0].Problem)
		})
	}
}

// TestStageConcurrently: two saves sharing a root stage at the same time;
// neither fails, and the staging in place afterwards is complete.
func TestStageConcurrently(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "target")
	var files []string
	for i := range 50 {
		f := filepath.Join("release", "deps", "lib"+strconv.Itoa(i)+".rlib")
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(f))
	}
	dest := filepath.Join(t.TempDir(), "targets")
	sels := []*Selection{{Dir: dir, Files: files}}
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- Stage(dest, work, sels) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, f := range append(files, "../"+ManifestFile) {
		if _, err := os.Stat(filepath.Join(dest, "0", filepath.FromSlash(f))); err != nil {
			t.Errorf("after concurrent stagings: %v", err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".targets-*"))
	if len(left) != 0 {
		t.Errorf("staging directories left behind: %v", left)
	}
}
