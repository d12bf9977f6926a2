package diskcache

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
	s := Snapshot{"0/1/abc": {10, 1}, "x y/z": {0, -5}}
	var b bytes.Buffer
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Error(d)
	}
	if _, err := Read(bytes.NewBufferString("1 x p\n")); err == nil {
		t.Error("bad number accepted")
	}
	if s, err := Take(filepath.Join(t.TempDir(), "missing")); err != nil || len(s) != 0 {
		t.Errorf("missing dir: %v %v", s, err)
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
		"SCCACHE_SERVER_PORT="+testkit.FreePort(t), "CARGO_TARGET_DIR="+filepath.Join(work, "target"))
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
