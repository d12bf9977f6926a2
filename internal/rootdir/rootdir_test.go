package rootdir

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	top := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(top, rel)
		os.MkdirAll(p, 0o755)
		return p
	}
	file := filepath.Join(top, "a-file")
	os.WriteFile(file, nil, 0o644)
	foreign := mk("repo")
	os.WriteFile(filepath.Join(foreign, "Cargo.toml"), nil, 0o644)
	os.Mkdir(filepath.Join(foreign, "cache"), 0o755)
	owned := mk("owned")
	os.WriteFile(filepath.Join(owned, MarkerFile), []byte(markerText), 0o644)
	os.Mkdir(filepath.Join(owned, "cache"), 0o755)
	markerLink := mk("marker-link")
	os.WriteFile(filepath.Join(markerLink, "x"), nil, 0o644)
	os.Symlink(filepath.Join(owned, MarkerFile), filepath.Join(markerLink, MarkerFile))

	tests := []struct {
		root, err string
		is        error
	}{
		{root: filepath.Join(top, "new", "deeper", "root")},
		{root: mk("empty")},
		{root: owned},
		{root: foreign, err: "not empty and not created by rustcache-action", is: ErrForeign},
		{root: markerLink, err: "not empty", is: ErrForeign}, // a link is no marker
		{root: file, err: "is not a directory"},
		{root: filepath.Join(file, "root"), err: "is not a directory"},
	}
	for _, tc := range tests {
		err := Check(tc.root)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Check(%q) = %v", tc.root, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Check(%q) = %v, want %q", tc.root, err, tc.err)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("Check(%q) = %v, not %v", tc.root, err, tc.is)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(top, "empty")); len(ents) != 0 {
		t.Errorf("Check wrote into an empty root: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(top, "new")); err == nil {
		t.Error("Check created a missing root")
	}
}

// TestCheckOwnerAndWritable needs root: a directory of another uid, and one
// made immutable.
func TestCheckOwnerAndWritable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown and chattr")
	}
	top := t.TempDir()
	other := filepath.Join(top, "other")
	os.Mkdir(other, 0o755)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Check(other); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("Check(another user's dir) = %v", err)
	}
	frozen := filepath.Join(top, "frozen")
	os.Mkdir(frozen, 0o755)
	if out, err := exec.Command("chattr", "+i", frozen).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", frozen).Run() })
	for _, root := range []string{frozen, filepath.Join(frozen, "root")} {
		if err := Check(root); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("Check(%q) = %v, want not writable", root, err)
		}
	}
}

// TestPrepare: the layout is created with modes 0755; links planted in place
// of bin/ and cache/ (a build inside a container can plant them) are
// replaced by real directories and their targets left alone; group and
// other write are removed.
func TestPrepare(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	outside := filepath.Join(top, "outside")
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o644)
	if err := Prepare(root); err != nil {
		t.Fatal(err)
	}
	os.Remove(Bin(root))
	os.Symlink(outside, Bin(root))
	os.Remove(Cache(root))
	os.WriteFile(Cache(root), []byte("a file"), 0o644)
	os.Chmod(root, 0o777)
	if err := Check(root); err != nil {
		t.Fatalf("Check of a prepared root = %v", err)
	}
	if err := Prepare(root); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, Bin(root), Cache(root)} {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s = %v, %v; want a directory of mode 0755", d, fi, err)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Errorf("the link's target changed: %v", ents)
	}
	if fi, err := os.Lstat(filepath.Join(root, MarkerFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("marker = %v, %v", fi, err)
	}
}

func TestInstalled(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "sccache")
	os.WriteFile(good, []byte("#!/bin/sh\n"), 0o755)
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, nil, 0o755)
	os.Chmod(loose, 0o775)
	link := filepath.Join(dir, "link")
	os.Symlink(good, link)
	if err := Installed(good); err != nil {
		t.Errorf("Installed(good) = %v", err)
	}
	for p, want := range map[string]string{loose: "group or others", link: "not a regular file", filepath.Join(dir, "none"): "not installed"} {
		if err := Installed(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Installed(%s) = %v, want %q", filepath.Base(p), err, want)
		}
	}
	if got := Sccache("/r", "x86_64-pc-windows-msvc"); got != filepath.Join("/r", "bin", "sccache.exe") {
		t.Errorf("Sccache(windows) = %q", got)
	}
	if got := Sccache("/r", "x86_64-unknown-linux-musl"); got != filepath.Join("/r", "bin", "sccache") {
		t.Errorf("Sccache(linux) = %q", got)
	}
}

func TestNotDirectory(t *testing.T) {
	top := t.TempDir()
	file := filepath.Join(top, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root  string
		wrong bool
	}{
		{root: top},
		{root: filepath.Join(top, "missing", "root")},
		{root: file, wrong: true},
		{root: filepath.Join(file, "root"), wrong: true},
		{root: filepath.Join(file, "deeper", "root"), wrong: true},
	} {
		err := NotDirectory(tc.root)
		if (err != nil) != tc.wrong {
			t.Errorf("NotDirectory(%q) = %v, want an error: %v", tc.root, err, tc.wrong)
		}
		if err != nil && !strings.Contains(err.Error(), "is not a directory") {
			t.Errorf("NotDirectory(%q) = %v", tc.root, err)
		}
	}
}
