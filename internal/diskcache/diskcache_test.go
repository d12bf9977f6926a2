package diskcache

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/testkit"
)

func write(t *testing.T, dir, rel string, size int, mt time.Time) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func TestCompareAndTrim(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1_700_000_000, 0)
	write(t, dir, "a/b/hit", 100, t0)
	write(t, dir, "a/c/cold", 200, t0.Add(time.Second))
	write(t, dir, "a/d/gone", 300, t0.Add(2*time.Second))
	write(t, dir, "a/d/.tmpXYZ", 5, t0)
	before, err := Take(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 3 || before.Bytes() != 600 {
		t.Fatalf("before = %v", before)
	}
	// A build: one hit (mtime moves), one new entry, one eviction.
	write(t, dir, "a/b/hit", 100, t0.Add(time.Hour))
	write(t, dir, "f/f/new", 50, t0.Add(time.Hour))
	os.Remove(filepath.Join(dir, "a/d/gone"))
	after, err := Take(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := Compare(before, after)
	want := Diff{Hits: 1, Misses: 1, Removed: 1, Added: 50}
	if d != want {
		t.Errorf("Compare = %+v, want %+v", d, want)
	}
	if !d.ContentChanged() {
		t.Error("ContentChanged = false")
	}
	if Compare(before, before).ContentChanged() {
		t.Error("identical snapshots changed")
	}
	hitsOnly := Compare(before, Snapshot{"a/b/hit": {100, 9}, "a/c/cold": before["a/c/cold"], "a/d/gone": before["a/d/gone"]})
	if hitsOnly.ContentChanged() || hitsOnly.Hits != 1 {
		t.Errorf("hits only: %+v", hitsOnly)
	}

	// Trim to 160 bytes: the oldest ("a/c/cold") goes first, then stop.
	removed, freed, err := Trim(dir, after, 160)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 || freed != 200 {
		t.Errorf("Trim removed %d (%d bytes), want 1 (200)", removed, freed)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/c/cold")); !os.IsNotExist(err) {
		t.Errorf("oldest entry still there: %v", err)
	}
	now, _ := Take(dir)
	if d := cmp.Diff(after, now); d != "" {
		t.Errorf("Trim's snapshot disagrees with disk:\n%s", d)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := Snapshot{
		"0/1/abc":          {10, 1},
		"x y/z":            {0, -5},
		"a/new\nline":      {3, 4},
		"a/new":            {5, 6}, // the part before the newline, as its own entry
		"1 2 3:a/b\n7 8 9": {7, 8}, // a name that looks like a record
		"bad\xff\xfeutf8":  {9, 10},
		"trailing\n":       {11, 12},
		"colon:a:b":        {13, 14},
	}
	var b bytes.Buffer
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Error(d)
	}
	if s, err := Take(filepath.Join(t.TempDir(), "missing")); err != nil || len(s) != 0 {
		t.Errorf("missing dir: %v %v", s, err)
	}
}

func TestSnapshotReadRefusesDamage(t *testing.T) {
	for name, in := range map[string]string{
		"empty":             "",
		"old format":        "1 2 a/b\n",
		"bad number":        snapshotHeader + "1 x 3:abc\n",
		"two fields":        snapshotHeader + "1 3:abc\n",
		"name too short":    snapshotHeader + "1 2 5:abc\n",
		"name too long":     snapshotHeader + "1 2 2:abc\n",
		"no newline":        snapshotHeader + "1 2 3:abc",
		"cut in the prefix": snapshotHeader + "1 2 3",
		"zero length":       snapshotHeader + "1 2 0:\n",
		"huge length":       snapshotHeader + "1 2 99999999999:x\n",
		"negative size":     snapshotHeader + "1 -2 1:x\n",
		"listed twice":      snapshotHeader + "1 2 1:x\n1 2 1:x\n",
	} {
		if s, err := Read(bytes.NewBufferString(in)); err == nil {
			t.Errorf("%s: accepted as %v", name, s)
		}
	}
}

// TestSnapshotFileNamesWithNewlines: cache files whose names hold newlines
// survive Take, SaveFile and LoadFile, and an untouched cache compares as
// unchanged (it used to load as a broken snapshot: 0 hits, every file a miss).
func TestSnapshotFileNamesWithNewlines(t *testing.T) {
	dir, root := t.TempDir(), t.TempDir()
	t0 := time.Unix(1_700_000_000, 0)
	for _, n := range []string{"a/x\ny", "a/x", "b/1 2 3:q\n", "c/plain"} {
		write(t, dir, n, 10, t0)
	}
	before, err := Take(dir)
	if err != nil || len(before) != 4 {
		t.Fatalf("Take = %v, %v", before, err)
	}
	path := filepath.Join(root, "snapshot.txt")
	if err := before.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := Take(dir)
	if d := Compare(loaded, after); d != (Diff{}) {
		t.Errorf("untouched cache compares as %+v", d)
	}
}

// TestSnapshotFilePlantedLink: a link planted at the snapshot's name (a build
// inside a container can write under the root) is replaced, its target left
// byte-identical, and a link in its place is never read as a snapshot.
func TestSnapshotFilePlantedLink(t *testing.T) {
	root := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me\n"), 0o644)
	path := filepath.Join(root, "snapshot.txt")
	os.Symlink(victim, path)
	if err := (Snapshot{"a": {1, 2}}).SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("written through the link: %q", b)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("snapshot = %v, %v", fi, err)
	}
	other := Snapshot{"b": {3, 4}}
	src := filepath.Join(t.TempDir(), "other")
	if err := other.SaveFile(src); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	os.Symlink(src, path)
	if s, err := LoadFile(path); err == nil {
		t.Errorf("LoadFile followed a link: %v", s)
	}
}

// TestRealSccacheTouchesOnHit checks the property the accounting rests on
// against the real sccache binary: a hit moves the entry's modification time,
// a miss adds an entry.
func TestRealSccacheTouchesOnHit(t *testing.T) {
	sc := testkit.NeedTool(t, "sccache")
	cargo := testkit.NeedTool(t, "cargo")
	work := t.TempDir()
	cache := filepath.Join(work, "cache")
	proj := filepath.Join(work, "p")
	os.MkdirAll(filepath.Join(proj, "src"), 0o755)
	os.WriteFile(filepath.Join(proj, "Cargo.toml"), []byte("[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "src/lib.rs"), []byte("pub fn f() -> u32 { 4 }\n"), 0o644)
	env := append(os.Environ(), "SCCACHE_DIR="+cache, "RUSTC_WRAPPER="+sc, "CARGO_INCREMENTAL=0",
		"SCCACHE_SERVER_PORT="+strconv.Itoa(testkit.ServerPort(t)), "CARGO_TARGET_DIR="+filepath.Join(work, "target"))
	run := func(name string, args ...string) {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir, c.Env = proj, env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	defer func() {
		c := exec.Command(sc, "--stop-server")
		c.Env = env
		c.Run()
	}()
	run(cargo, "build", "-q")
	run(sc, "--stop-server")
	before, err := Take(cache)
	if err != nil || len(before) == 0 {
		t.Fatalf("no entries after a cold build: %v %v", before, err)
	}
	time.Sleep(20 * time.Millisecond)
	run(cargo, "clean", "-q")
	run(cargo, "build", "-q")
	run(sc, "--stop-server")
	after, _ := Take(cache)
	d := Compare(before, after)
	if d.Hits != len(before) || d.Misses != 0 {
		t.Errorf("warm build: %+v, want %d hits and no misses", d, len(before))
	}
}
