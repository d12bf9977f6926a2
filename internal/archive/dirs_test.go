package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteDirsRoundTrip archives two directories, one with a Skip of its
// own, and extracts them into a root where only one of them existed.
func TestWriteDirsRoundTrip(t *testing.T) {
	base := filepath.Join(t.TempDir(), "work", "repo")
	root := filepath.Join(filepath.Dir(filepath.Dir(base)), "temp")
	cache, staged := filepath.Join(root, "cache"), filepath.Join(root, "targets")
	dirs, files := realisticTree()
	buildTree(t, cache, dirs, files)
	buildTree(t, staged, []dirSpec{{rel: "0/release/.fingerprint/serde-0123456789abcdef", mode: 0o755}},
		[]fileSpec{{rel: "0/release/.fingerprint/serde-0123456789abcdef/lib-serde", content: []byte("00"), mode: 0o644}})
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	wantCache, wantStaged := snapshot(t, cache), snapshot(t, staged)
	var buf bytes.Buffer
	hidden := func(rel string) bool { return strings.HasPrefix(filepath.Base(rel), ".") }
	st, err := WriteDirs(context.Background(), &buf, []Source{{Dir: cache}, {Dir: staged, Skip: hidden}}, base, WriteOptions{Skip: hidden})
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 1 {
		t.Errorf("Skipped = %d, want the one hidden directory of the second source", st.Skipped)
	}
	// Without the skip on the second source, everything goes in.
	buf.Reset()
	if _, err := WriteDirs(context.Background(), &buf, []Source{{Dir: cache}, {Dir: staged}}, base, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staged, "old"), []byte("replaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractDirs(context.Background(), bytes.NewReader(data), []string{cache, staged}, base, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, wantCache, snapshot(t, cache))
	sameTree(t, wantStaged, snapshot(t, staged))
	noLeftovers(t, cache)
	noLeftovers(t, staged)

	// A destination the archive holds nothing for stays as it was.
	other := filepath.Join(root, "cargo-home")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractDirs(context.Background(), bytes.NewReader(data), []string{cache, staged, other}, base, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other, "keep")); err != nil {
		t.Errorf("a destination without entries was replaced: %v", err)
	}
	noLeftovers(t, other)
}

func TestExtractDirsRefuses(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	data := zst(t, tarBytes(t, []tarEntry{dirEnt("a/"), reg("a/x", "1"), reg("c/y", "2")}, true))
	_, err := ExtractDirs(context.Background(), bytes.NewReader(data), []string{a, b}, base, ExtractOptions{})
	if !errors.Is(err, ErrUnsafe) {
		t.Errorf("an entry outside every destination: %v, want ErrUnsafe", err)
	}
	for _, d := range []string{a, b} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s created by a rejected archive", d)
		}
		noLeftovers(t, d)
	}
	if _, err := ExtractDirs(context.Background(), bytes.NewReader(data), []string{a, filepath.Join(a, "in")}, base, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("nested destinations: %v, want an overlap error", err)
	}
}

// TestExtractDirsFromAnotherRoot extracts an archive of two sibling
// directories saved under another root: both land in the new root.
func TestExtractDirsFromAnotherRoot(t *testing.T) {
	base := filepath.Join(t.TempDir(), "work", "repo")
	oldRoot := filepath.Join(filepath.Dir(base), "old-temp", "rustcache")
	newRoot := filepath.Join(filepath.Dir(base), "other", "place", "rustcache")
	for _, d := range []string{"cache/a", "targets/0/release"} {
		if err := os.MkdirAll(filepath.Join(oldRoot, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, body string) {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(oldRoot, "cache", "a", "entry"), "sccache")
	write(filepath.Join(oldRoot, "targets", "0", "release", "f"), "target")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteDirs(context.Background(), &buf, []Source{{Dir: filepath.Join(oldRoot, "cache")}, {Dir: filepath.Join(oldRoot, "targets")}}, base, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(newRoot, "cache"), filepath.Join(newRoot, "targets")}
	if _, err := ExtractDirs(context.Background(), bytes.NewReader(buf.Bytes()), dirs, base, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"cache/a/entry": "sccache", "targets/0/release/f": "target"} {
		if b, err := os.ReadFile(filepath.Join(newRoot, filepath.FromSlash(p))); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
}
