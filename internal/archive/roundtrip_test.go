package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/mholt/archives"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestPrefixAndEntryNames(t *testing.T) {
	tests := []struct {
		name, dir, base string
		prefix          string
		entry           string
		rel             string
		unsafe          bool
	}{
		{name: "dir outside workspace", dir: "/r/temp/cache", base: "/r/work/repo", prefix: "../../temp/cache", entry: "../../temp/cache/a/b", rel: "a/b"},
		{name: "root entry with slash", dir: "/r/temp/cache", base: "/r/work/repo", prefix: "../../temp/cache", entry: "../../temp/cache/", rel: "."},
		{name: "dir is workspace", dir: "/w", base: "/w", prefix: ".", entry: "./x/", rel: "x"},
		{name: "dir below workspace", dir: "/w/target/cache", base: "/w", prefix: "target/cache", entry: "target/cache/x", rel: "x"},
		{name: "dot dot inside stays inside", dir: "/w/c", base: "/w", prefix: "c", entry: "c/a/../b", rel: "b"},
		{name: "escape by dot dot", dir: "/w/c", base: "/w", prefix: "c", entry: "c/../d", unsafe: true},
		{name: "sibling with common prefix", dir: "/w/c", base: "/w", prefix: "c", entry: "cc/x", unsafe: true},
		{name: "workspace file", dir: "/r/temp/cache", base: "/r/work/repo", prefix: "../../temp/cache", entry: "src/main.rs", unsafe: true},
		{name: "absolute", dir: "/w/c", base: "/w", prefix: "c", entry: "/w/c/x", unsafe: true},
		{name: "empty", dir: "/w/c", base: "/w", prefix: "c", entry: "", unsafe: true},
		{name: "nul", dir: "/w/c", base: "/w", prefix: "c", entry: "c/a\x00b", unsafe: true},
		{name: "workspace root escape", dir: "/w", base: "/w", prefix: ".", entry: "./../x", unsafe: true},
		{name: "above an outside root", dir: "/r/temp/cache", base: "/r/work/repo", prefix: "../../temp/cache", entry: "../../temp/x", unsafe: true},
		{name: "dot dot below an outside root", dir: "/r/temp/cache", base: "/r/work/repo", prefix: "../../temp/cache", entry: "../../temp/cache/a/../../../x", unsafe: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := prefixFor(tt.dir, tt.base)
			if err != nil || p != tt.prefix {
				t.Errorf("prefixFor = %q, %v; want %q", p, err, tt.prefix)
			}
			names, err := newEntryNames(tt.dir, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			rel, err := names.rel(tt.entry)
			if tt.unsafe {
				if !errors.Is(err, ErrUnsafe) {
					t.Errorf("rel(%q) = %q, %v; want ErrUnsafe", tt.entry, rel, err)
				}
				return
			}
			if err != nil || rel != filepath.FromSlash(tt.rel) {
				t.Errorf("rel(%q) = %q, %v; want %q", tt.entry, rel, err, tt.rel)
			}
		})
	}
	if _, err := prefixFor("relative", "/w"); err == nil {
		t.Error("prefixFor accepted a relative directory")
	}
	if _, err := prefixFor("/w/c", "w"); err == nil {
		t.Error("prefixFor accepted a relative workspace")
	}
}

func TestRoundTrip(t *testing.T) {
	dirs, files := realisticTree()
	tests := []struct {
		name string
		// where the cache and the workspace are, relative to a temp root
		dir, base string
		prefix    string
		opts      WriteOptions
	}{
		{name: "cache outside workspace", dir: "temp/cache", base: "work/repo/repo", prefix: "../../../temp/cache/"},
		{name: "cache is workspace", dir: "ws", base: "ws", prefix: "./"},
		{name: "cache below workspace", dir: "ws/target/sccache", base: "ws", prefix: "target/sccache/"},
		{name: "default level, async encoder", dir: "temp/cache", base: "work/repo/repo", prefix: "../../../temp/cache/",
			opts: WriteOptions{Level: zstd.SpeedDefault, Concurrency: 2}},
		{name: "better level, parallel blocks", dir: "temp/cache", base: "work/repo/repo", prefix: "../../../temp/cache/",
			opts: WriteOptions{Level: zstd.SpeedBetterCompression, Concurrency: 4, ParallelBlocks: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, tt.dir)
			base := filepath.Join(root, tt.base)
			buildTree(t, dir, dirs, files)
			if err := os.MkdirAll(base, 0o755); err != nil {
				t.Fatal(err)
			}
			want := snapshot(t, dir)

			data, wst := writeArchive(t, dir, base, tt.opts)
			names := tarNames(t, data)
			if names[0] != tt.prefix {
				t.Errorf("first entry %q, want the directory itself %q", names[0], tt.prefix)
			}
			for _, n := range names {
				if !strings.HasPrefix(n, tt.prefix) {
					t.Errorf("entry %q lacks prefix %q", n, tt.prefix)
				}
			}

			// Restore into a fresh place, then over the existing tree.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			for _, pass := range []string{"fresh", "replace"} {
				xst, err := Extract(context.Background(), bytes.NewReader(data), dir, base, ExtractOptions{})
				if err != nil {
					t.Fatalf("%s: Extract: %v", pass, err)
				}
				if wst != xst {
					t.Errorf("%s: Write stats %+v, Extract stats %+v", pass, wst, xst)
				}
				sameTree(t, want, snapshot(t, dir))
				noLeftovers(t, dir)
			}
			if wst.Files != len(files) || wst.Dirs != len(dirs) {
				t.Errorf("stats %+v, want %d files and %d dirs", wst, len(files), len(dirs))
			}
		})
	}
}

// TestRoundTripElsewhere saves a cache from one runner's layout and restores
// it on runners whose cache directory and workspace lie elsewhere, at other
// depths: the tree comes back whole below the new directory.
func TestRoundTripElsewhere(t *testing.T) {
	dirs, files := realisticTree()
	root := t.TempDir()
	src, srcBase := filepath.Join(root, "a", "_temp", "rustcache", "cache"), filepath.Join(root, "a", "_work", "repo", "repo")
	buildTree(t, src, dirs, files)
	if err := os.MkdirAll(srcBase, 0o755); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)
	data, wst := writeArchive(t, src, srcBase, WriteOptions{})
	tests := []struct{ name, dir, base string }{
		{"other runner directory", "b/_temp/rustcache/cache", "b/_work/repo/repo"},
		{"other cache-root, same workspace", "x/y/z/root/cache", "a/_work/repo/repo"},
		{"other workspace, same cache-root", "a/_temp/rustcache/cache", "w"},
		{"cache below the workspace", "ws/.cache/rustcache/cache", "ws"},
		{"cache is the workspace", "c", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, base := filepath.Join(root, tt.dir), filepath.Join(root, tt.base)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			xst, err := Extract(context.Background(), bytes.NewReader(data), dir, base, ExtractOptions{})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if xst != wst {
				t.Errorf("Write stats %+v, Extract stats %+v", wst, xst)
			}
			sameTree(t, want, snapshot(t, dir))
			noLeftovers(t, dir)
		})
	}
}

// tarNames lists the entry names of a tar+zstd archive.
func tarNames(t testing.TB, data []byte) []string {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		names = append(names, h.Name)
	}
}

func TestWriteSkipAndSpecialFiles(t *testing.T) {
	l := newLayout(t)
	buildTree(t, l.dir, []dirSpec{{".", 0o755}, {"a", 0o755}, {"tmp", 0o755}},
		[]fileSpec{{"a/keep", 0o644, []byte("k")}, {"a/x.tmp", 0o644, []byte("t")}, {"tmp/y", 0o644, []byte("y")}})
	if err := os.Symlink("keep", filepath.Join(l.dir, "a", "link")); err != nil {
		t.Fatal(err)
	}
	var asked []string
	data, st := writeArchive(t, l.dir, l.base, WriteOptions{Skip: func(rel string) bool {
		asked = append(asked, rel)
		return rel == "tmp" || strings.HasSuffix(rel, ".tmp")
	}})
	want := []string{l.prefix() + "/", l.prefix() + "/a/", l.prefix() + "/a/keep"}
	if d := cmp.Diff(want, tarNames(t, data)); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a", "a/keep", "a/link", "a/x.tmp", "tmp"}, asked); d != "" {
		t.Errorf("Skip was asked (-want +got):\n%s", d)
	}
	if want := (Stats{Files: 1, Dirs: 2, Bytes: 1, Skipped: 3}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestWriteErrors(t *testing.T) {
	l := newLayout(t)
	buildTree(t, l.dir, []dirSpec{{".", 0o755}}, []fileSpec{{"f", 0o644, []byte("data")}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		dir, base string
		w         io.Writer
		is        error
	}{
		{name: "missing dir", ctx: context.Background(), dir: filepath.Join(l.root, "nope"), base: l.base, w: io.Discard, is: os.ErrNotExist},
		{name: "file as dir", ctx: context.Background(), dir: filepath.Join(l.dir, "f"), base: l.base, w: io.Discard},
		{name: "relative dir", ctx: context.Background(), dir: "cache", base: l.base, w: io.Discard},
		{name: "relative base", ctx: context.Background(), dir: l.dir, base: "repo", w: io.Discard},
		{name: "cancelled", ctx: ctx, dir: l.dir, base: l.base, w: io.Discard, is: context.Canceled},
		{name: "upload fails", ctx: context.Background(), dir: l.dir, base: l.base, w: errWriter{}, is: errUpload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(tt.ctx, tt.w, tt.dir, tt.base, WriteOptions{Concurrency: 1})
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
		})
	}
}

var errUpload = errors.New("upload failed")

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errUpload }

// TestWriteFailureLeavesNoValidStream checks that an archive cut short by an
// error cannot pass for a complete one.
func TestWriteFailureLeavesNoValidStream(t *testing.T) {
	l := newLayout(t)
	buildTree(t, l.dir, []dirSpec{{".", 0o755}, {"d", 0o755}}, []fileSpec{{"d/f", 0o644, []byte("data")}})
	var buf bytes.Buffer
	_, err := Write(context.Background(), &buf, l.dir, l.base, WriteOptions{Concurrency: 1, Skip: func(rel string) bool {
		if rel == "d/f" {
			_ = os.RemoveAll(filepath.Join(l.dir, "d")) // something goes wrong mid-walk
			_ = os.WriteFile(filepath.Join(l.dir, "d"), nil, 0o644)
		}
		return false
	}})
	if err == nil {
		t.Fatal("Write succeeded although a directory turned into a file mid-walk")
	}
	dest := filepath.Join(l.root, "restore")
	if _, xerr := Extract(context.Background(), bytes.NewReader(buf.Bytes()), dest, l.base, ExtractOptions{}); xerr == nil {
		t.Errorf("output of a failed Write (%v) extracted without error", err)
	}
}

// TestGoldenNames pins the entry names and order of a small tree.
func TestGoldenNames(t *testing.T) {
	l := newLayout(t)
	buildTree(t, l.dir,
		[]dirSpec{{".", 0o755}, {"0", 0o755}, {"0/a", 0o755}, {"f", 0o755}, {"f/3", 0o755}, {"empty", 0o755}},
		[]fileSpec{
			{"0/a/0a5e" + strings.Repeat("0", 60), 0o644, []byte("entry")},
			{"f/3/f3" + strings.Repeat("9", 62), 0o644, []byte("entry")},
			{".stats", 0o644, []byte("{}")},
		})
	data, _ := writeArchive(t, l.dir, l.base, WriteOptions{})
	got := strings.Join(tarNames(t, data), "\n") + "\n"
	golden := filepath.Join("testdata", "names.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
}

// TestIdentifiedAsTarZst checks with mholt/archives that the output is
// recognised as a zstd-compressed tar, as any archive tool would see it.
func TestIdentifiedAsTarZst(t *testing.T) {
	l := newLayout(t)
	buildTree(t, l.dir, []dirSpec{{".", 0o755}}, []fileSpec{{"f", 0o644, []byte("x")}})
	data, _ := writeArchive(t, l.dir, l.base, WriteOptions{})
	format, _, err := archives.Identify(context.Background(), "", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Identify: %v", err)
	}
	ca, ok := format.(archives.CompressedArchive)
	if !ok {
		t.Fatalf("identified as %T, want a compressed archive", format)
	}
	if _, ok := ca.Compression.(archives.Zstd); !ok {
		t.Errorf("compression %T, want Zstd", ca.Compression)
	}
	if _, ok := ca.Archival.(archives.Tar); !ok {
		t.Errorf("archival %T, want Tar", ca.Archival)
	}
}
