//go:build linux

package archive

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/testkit"
)

// The commands below are the ones actions/toolkit packages/cache runs on
// Linux (src/internal/tar.ts): created in a scratch folder holding the
// manifest, extracted with -P -C $GITHUB_WORKSPACE.

// toolkitCreate runs the toolkit's tar creation with the given compression
// program and returns the archive's path.
func toolkitCreate(t *testing.T, l layout, format, compressor string) string {
	t.Helper()
	testkit.NeedTool(t, "tar")
	testkit.NeedTool(t, strings.Fields(compressor)[0])
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, "manifest.txt"), []byte(l.prefix()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tar", format, "-cf", "cache.tzst", "--exclude", "cache.tzst",
		"-P", "-C", l.base, "--files-from", "manifest.txt", "--use-compress-program", compressor)
	cmd.Dir = folder
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	return filepath.Join(folder, "cache.tzst")
}

// toolkitExtract runs the toolkit's tar extraction.
func toolkitExtract(t *testing.T, archivePath, base string) {
	t.Helper()
	testkit.NeedTool(t, "tar")
	testkit.NeedTool(t, "unzstd")
	cmd := exec.Command("tar", "-xf", archivePath, "-P", "-C", base, "--use-compress-program", "unzstd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}

// toolList lists an archive with GNU tar, sorted.
func toolList(t *testing.T, archivePath string) []string {
	t.Helper()
	out, err := exec.Command("tar", "-tf", archivePath, "-P", "--use-compress-program", "unzstd").Output()
	if err != nil {
		t.Fatalf("tar -tf: %v", err)
	}
	names := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	slices.Sort(names)
	return names
}

// maskUmask drops from expected modes what GNU tar drops when it does not
// run as root (it applies the umask unless told to preserve permissions).
func maskUmask(snap map[string]entry) map[string]entry {
	if os.Geteuid() == 0 {
		return snap
	}
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	for k, e := range snap {
		e.Mode &^= os.FileMode(mask)
		snap[k] = e
	}
	return snap
}

func TestToolkitArchiveExtracts(t *testing.T) {
	dirs, files := realisticTree()
	tests := []struct {
		name       string
		format     string
		compressor string
		opts       ExtractOptions
		is         error
		seconds    bool // the format keeps whole-second times only
	}{
		{name: "zstd-without-long (what the toolkit writes)", format: "--posix", compressor: "zstdmt"},
		{name: "zstd -T0, level 19", format: "--posix", compressor: "zstd -T0 -19"},
		{name: "gnu format", format: "--format=gnu", compressor: "zstdmt", seconds: true},
		{name: "long=30 refused by default", format: "--posix", compressor: "zstdmt --long=30", is: ErrTooLarge},
		{name: "long=30 with a 1 GiB window", format: "--posix", compressor: "zstdmt --long=30", opts: ExtractOptions{MaxWindow: 1 << 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			buildTree(t, l.dir, dirs, files)
			want := snapshot(t, l.dir)
			if tt.seconds {
				for k, e := range want {
					e.MTime -= e.MTime % 1e9
					want[k] = e
				}
			}
			path := toolkitCreate(t, l, tt.format, tt.compressor)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()

			// Replace the tree with something else first, so a successful
			// restore has to bring every byte back.
			if err := os.RemoveAll(l.dir); err != nil {
				t.Fatal(err)
			}
			buildTree(t, l.dir, []dirSpec{{".", 0o755}}, []fileSpec{{"stale", 0o644, []byte("stale")}})
			stale := snapshot(t, l.dir)

			st, err := Extract(context.Background(), f, l.dir, l.base, tt.opts)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("Extract error %v, want %v", err, tt.is)
				}
				sameTree(t, stale, snapshot(t, l.dir))
				noLeftovers(t, l.dir)
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if st.Files != len(files) || st.Dirs != len(dirs) {
				t.Errorf("stats %+v, want %d files and %d dirs", st, len(files), len(dirs))
			}
			sameTree(t, want, snapshot(t, l.dir))
			noLeftovers(t, l.dir)
		})
	}
}

func TestWriteOutputExtractsWithToolkit(t *testing.T) {
	dirs, files := realisticTree()
	for _, level := range []struct {
		name string
		opts WriteOptions
	}{
		{"default options", WriteOptions{}},
		{"parallel blocks", WriteOptions{Concurrency: 2, ParallelBlocks: true}},
	} {
		t.Run(level.name, func(t *testing.T) {
			l := newLayout(t)
			buildTree(t, l.dir, dirs, files)
			want := maskUmask(snapshot(t, l.dir))
			data, _ := writeArchive(t, l.dir, l.base, level.opts)
			path := filepath.Join(t.TempDir(), "cache.tzst")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}

			// Same names as GNU tar gives the same tree.
			theirs := toolList(t, toolkitCreate(t, l, "--posix", "zstdmt"))
			if d := cmp.Diff(theirs, toolList(t, path)); d != "" {
				t.Errorf("entry names differ from GNU tar's (-tar +ours):\n%s", d)
			}

			if err := os.RemoveAll(l.dir); err != nil {
				t.Fatal(err)
			}
			toolkitExtract(t, path, l.base)
			sameTree(t, want, snapshot(t, l.dir))
		})
	}
}
