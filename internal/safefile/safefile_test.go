package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesPlantedLink(t *testing.T) {
	dir, outside := t.TempDir(), filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "state.json")
	if err := os.Symlink(outside, target); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "precious\n" {
		t.Errorf("the link's target was written: %q", b)
	}
	fi, err := os.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("target = %v, %v; want a regular file of mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("content = %q", b)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteModes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o644, true}, {0o600, true}, {0o755, true}, {0o666, false}, {0o775, false}, {0o646, false}} {
		p := filepath.Join(dir, tc.mode.String())
		err := Write(p, []byte("x"), tc.mode)
		if tc.ok {
			fi, serr := os.Stat(p)
			if err != nil || serr != nil || fi.Mode().Perm() != tc.mode {
				t.Errorf("Write(%v) = %v, mode %v", tc.mode, err, fi)
			}
			continue
		}
		if !errors.Is(err, ErrWritableMode) {
			t.Errorf("Write(%v) = %v, want ErrWritableMode", tc.mode, err)
		}
		if _, serr := os.Lstat(p); serr == nil {
			t.Errorf("Write(%v) created the file", tc.mode)
		}
	}
}

func TestWriteWithFailureLeavesTargetAlone(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "snapshot")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := WriteWith(p, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("content = %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestOpenRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.WriteFile(real, []byte("x"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	if _, err := ReadFile(link); err == nil {
		t.Error("ReadFile followed a symbolic link")
	}
	if _, err := ReadFile(dir); err == nil {
		t.Error("ReadFile opened a directory")
	}
	if b, err := ReadFile(real); err != nil || string(b) != "x" {
		t.Errorf("ReadFile(real) = %q, %v", b, err)
	}
}
