package job

import "testing"

func TestArchiveEntriesAndBound(t *testing.T) {
	files := []string{"a/b/1", "a/b/2", "a/c/3", "d/4"}
	// 4 files, dirs a, a/b, a/c, d, and the cache dir itself.
	if got := ArchiveEntries(files); got != 9 {
		t.Errorf("ArchiveEntries = %d, want 9", got)
	}
	if got := MaxEntries(2 << 30); got != 32768 {
		t.Errorf("MaxEntries(2G) = %d, want 32768", got)
	}
	if got := MaxEntries(1 << 20); got != 16384 {
		t.Errorf("MaxEntries(1M) = %d, want the floor 16384", got)
	}
}
