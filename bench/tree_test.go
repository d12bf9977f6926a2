package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyntheticTrees(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	info, err := makeSccacheLike(a, 1e6, 5)
	if err != nil {
		t.Fatal(err)
	}
	if info.bytes < 1e6 || info.files == 0 {
		t.Fatalf("makeSccacheLike made %+v, want at least 1 MB", info)
	}
	if _, err := makeSccacheLike(b, 1e6, 5); err != nil {
		t.Fatal(err)
	}
	sa, err := sumTree(a)
	if err != nil {
		t.Fatal(err)
	}
	if sa.treeInfo != info {
		t.Errorf("sumTree = %+v, generated %+v", sa.treeInfo, info)
	}
	if err := sameTree(sa, b); err != nil {
		t.Errorf("same seed, different trees: %v", err)
	}

	// Every entry sits two one-digit directories deep.
	err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		parts := strings.Split(rel, string(filepath.Separator))
		if len(parts) != 3 || len(parts[2]) != 64 || parts[0] != parts[2][:1] || parts[1] != parts[2][1:2] {
			t.Errorf("entry %q is not laid out like sccache's", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// One changed byte is noticed, and so is a missing file.
	c := filepath.Join(dir, "c")
	if err := copyTree(a, c); err != nil {
		t.Fatal(err)
	}
	if err := sameTree(sa, c); err != nil {
		t.Fatalf("copyTree: %v", err)
	}
	var first string
	filepath.WalkDir(c, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && first == "" {
			first = p
		}
		return err
	})
	body, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)-1] ^= 1
	if err := os.WriteFile(first, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sameTree(sa, c); err == nil {
		t.Error("sameTree missed a changed byte")
	}
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	if err := sameTree(sa, c); err == nil {
		t.Error("sameTree missed a removed file")
	}

	small, err := makeSmallFiles(filepath.Join(dir, "small"), 50, 512, 2048, 1)
	if err != nil {
		t.Fatal(err)
	}
	if small.files != 50 || small.bytes < 50*512 || small.bytes > 50*2048 {
		t.Errorf("makeSmallFiles made %+v", small)
	}
}
