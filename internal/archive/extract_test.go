package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// hostileCase is an archive Extract must refuse.
type hostileCase struct {
	name   string
	stream func(t testing.TB, l layout) []byte // the compressed archive
	opts   ExtractOptions
	is     error // ErrUnsafe, ErrTooLarge or ErrCorrupt
}

func hostileCases() []hostileCase {
	const p = "../../../temp/cache"
	tarZst := func(end bool, entries ...tarEntry) func(testing.TB, layout) []byte {
		return func(t testing.TB, _ layout) []byte { return zst(t, tarBytes(t, entries, end)) }
	}
	zeros := func(n int) string { return string(make([]byte, n)) }
	var many []tarEntry
	for i := range 11 {
		many = append(many, dirEnt(p+"/d"+strconv.Itoa(i)+"/"))
	}
	var globals []tarEntry
	for range 20 {
		globals = append(globals, tarEntry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "x"}}})
	}
	return []hostileCase{
		// Names.
		{name: "absolute name into the test root", is: ErrUnsafe, stream: func(t testing.TB, l layout) []byte {
			return zst(t, tarBytes(t, []tarEntry{dirEnt(p + "/"), reg(filepath.Join(l.root, "evil"), "x")}, true))
		}},
		{name: "absolute name", is: ErrUnsafe, stream: tarZst(true, reg("/tmp/evil-archive-test", "x"))},
		{name: "dot dot out of the cache", is: ErrUnsafe, stream: tarZst(true, dirEnt(p+"/"), reg(p+"/../evil", "x"))},
		{name: "dot dot deep", is: ErrUnsafe, stream: tarZst(true, reg(p+"/a/../../../../../evil", "x"))},
		{name: "sibling sharing the prefix", is: ErrUnsafe, stream: tarZst(true, reg(p+"x/evil", "x"))},
		{name: "workspace file", is: ErrUnsafe, stream: tarZst(true, reg("src/main.rs", "fn main() {}"))},
		{name: "directory outside", is: ErrUnsafe, stream: tarZst(true, dirEnt(p+"/"), dirEnt(p+"/../outside/"))},
		// An archive saved elsewhere is taken by its first entry: everything
		// after it must lie inside that directory.
		{name: "saved elsewhere, then outside it", is: ErrUnsafe, stream: tarZst(true, dirEnt("../other/cache/"), reg("../other/evil", "x"))},
		{name: "saved elsewhere, then at the expected place", is: ErrUnsafe, stream: tarZst(true, dirEnt("../other/cache/"), reg(p+"/a", "x"))},
		{name: "saved elsewhere, without its directory", is: ErrUnsafe, stream: tarZst(true, reg("../other/cache/a", "x"))},
		{name: "file in place of the cache dir", is: ErrUnsafe, stream: tarZst(true, reg(p, "x"))},
		// Links and special files.
		{name: "symlink inside", is: ErrUnsafe, stream: tarZst(true, reg(p+"/a", "x"), special(tar.TypeSymlink, p+"/l", "a"))},
		{name: "symlink outside", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeSymlink, p+"/l", "/etc/passwd"))},
		{name: "symlink then write through it", is: ErrUnsafe, stream: func(t testing.TB, l layout) []byte {
			return zst(t, tarBytes(t, []tarEntry{special(tar.TypeSymlink, p+"/l", l.root), reg(p+"/l/evil", "x")}, true))
		}},
		{name: "hardlink to absolute path", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeLink, p+"/h", "/etc/passwd"))},
		{name: "hardlink outside the cache", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeLink, p+"/h", p+"/../outside.txt"))},
		{name: "hardlink to a missing file", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeLink, p+"/h", p+"/missing"))},
		{name: "hardlink to a directory", is: ErrUnsafe, stream: tarZst(true, dirEnt(p+"/d/"), special(tar.TypeLink, p+"/h", p+"/d"))},
		{name: "hardlink to itself", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeLink, p+"/h", p+"/h"))},
		{name: "hardlink as the cache dir", is: ErrUnsafe, stream: tarZst(true, reg(p+"/a", "x"), special(tar.TypeLink, p+"/", p+"/a"))},
		{name: "character device", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeChar, p+"/null", ""))},
		{name: "block device", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeBlock, p+"/sda", ""))},
		{name: "fifo", is: ErrUnsafe, stream: tarZst(true, special(tar.TypeFifo, p+"/fifo", ""))},
		{name: "unknown entry type", is: ErrUnsafe, stream: tarZst(true, special('Z', p+"/z", ""))},
		{name: "file over directory", is: ErrUnsafe, stream: tarZst(true, dirEnt(p+"/x/"), reg(p+"/x", "a"))},
		{name: "directory over file", is: ErrUnsafe, stream: tarZst(true, reg(p+"/x", "a"), dirEnt(p+"/x/"))},
		{name: "file below a file", is: ErrUnsafe, stream: tarZst(true, reg(p+"/x", "a"), reg(p+"/x/y", "b"))},
		// Limits.
		{name: "one file past MaxBytes", is: ErrTooLarge, opts: ExtractOptions{MaxBytes: 1 << 20},
			stream: tarZst(true, reg(p+"/bomb", zeros(2<<20)))},
		{name: "files add up past MaxBytes", is: ErrTooLarge, opts: ExtractOptions{MaxBytes: 1 << 20},
			stream: tarZst(true, reg(p+"/a", zeros(400<<10)), reg(p+"/b", zeros(400<<10)), reg(p+"/c", zeros(400<<10)))},
		{name: "duplicates add up past MaxBytes", is: ErrTooLarge, opts: ExtractOptions{MaxBytes: 1 << 20},
			stream: tarZst(true, reg(p+"/a", zeros(600<<10)), reg(p+"/a", zeros(600<<10)))},
		{name: "declared size of a terabyte", is: ErrTooLarge, stream: tarZst(false,
			tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: p + "/tb", Mode: 0o644, Size: 1 << 40}})},
		{name: "more than MaxEntries", is: ErrTooLarge, opts: ExtractOptions{MaxEntries: 10}, stream: tarZst(true, many...)},
		{name: "global header flood", is: ErrTooLarge, opts: ExtractOptions{MaxEntries: 10}, stream: tarZst(true, globals...)},
		{name: "stacked long-name records", is: ErrTooLarge, stream: func(t testing.TB, _ layout) []byte {
			var raw []byte
			for range 4 {
				raw = append(raw, rawHeader("././@LongLink", 'L', 1<<20-512)...)
				raw = append(raw, bytes.Repeat([]byte("n"), 1<<20-512)...)
			}
			raw = append(raw, tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true)...)
			return zst(t, raw)
		}},
		{name: "zstd window past MaxWindow", is: ErrTooLarge, opts: ExtractOptions{MaxWindow: 1 << 20}, stream: func(t testing.TB, _ layout) []byte {
			rng := rand.New(rand.NewPCG(3, 4))
			body := make([]byte, 3<<20)
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			raw := tarBytes(t, []tarEntry{reg(p+"/big", string(body))}, true)
			return zst(t, raw, zstd.WithWindowSize(8<<20), zstd.WithEncoderConcurrency(1))
		}},
		// Damage.
		{name: "trailing junk after the end marker", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			raw := tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true)
			return zst(t, append(raw, bytes.Repeat([]byte("junk"), 1<<19)...))
		}},
		{name: "missing end marker", is: ErrCorrupt, stream: tarZst(false, dirEnt(p+"/"), reg(p+"/f", "x"))},
		{name: "half an end marker", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			raw := tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true)
			return zst(t, raw[:len(raw)-512])
		}},
		{name: "tar cut inside a file", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			raw := tarBytes(t, []tarEntry{reg(p+"/f", zeros(10000))}, true)
			return zst(t, raw[:3000])
		}},
		{name: "tar header garbage", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			return zst(t, bytes.Repeat([]byte("not a tar header "), 100))
		}},
		{name: "empty input", is: ErrCorrupt, stream: func(testing.TB, layout) []byte { return nil }},
		{name: "empty zstd frame", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte { return zst(t, nil) }},
		{name: "plain tar", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			return tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true)
		}},
		{name: "gzip tar", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true))
			_ = zw.Close()
			return buf.Bytes()
		}},
		{name: "garbage after the zstd frame", is: ErrCorrupt, stream: func(t testing.TB, _ layout) []byte {
			return append(zst(t, tarBytes(t, []tarEntry{reg(p+"/f", "x")}, true)), "garbage!"...)
		}},
	}
}

func TestExtractRejectsHostileArchives(t *testing.T) {
	for _, tc := range hostileCases() {
		for _, existing := range []bool{true, false} {
			name := tc.name + "/into nothing"
			if existing {
				name = tc.name + "/over a cache"
			}
			t.Run(name, func(t *testing.T) {
				l := newLayout(t)
				if err := os.WriteFile(filepath.Join(l.root, "temp-outside.txt"), []byte("keep"), 0o644); err != nil {
					t.Fatal(err)
				}
				if existing {
					buildTree(t, l.dir, []dirSpec{{".", 0o755}, {"ab", 0o755}}, []fileSpec{{"ab/entry", 0o644, []byte("previous")}})
				} else if err := os.MkdirAll(filepath.Dir(l.dir), 0o755); err != nil {
					t.Fatal(err)
				}
				before := parentTimeless(snapshot(t, l.root), l.root, l.dir)
				st, err := Extract(context.Background(), bytes.NewReader(tc.stream(t, l)), l.dir, l.base, tc.opts)
				if !errors.Is(err, tc.is) {
					t.Fatalf("Extract = %+v, %v; want %v", st, err, tc.is)
				}
				if tc.is == ErrCorrupt && errors.Is(err, ErrUnsafe) || tc.is != ErrCorrupt && errors.Is(err, ErrCorrupt) {
					t.Errorf("error %v is both unsafe and corrupt", err)
				}
				sameTree(t, before, parentTimeless(snapshot(t, l.root), l.root, l.dir))
				noLeftovers(t, l.dir)
			})
		}
	}
}

// TestExtractDamagedStream cuts and flips bytes of a real archive.
func TestExtractDamagedStream(t *testing.T) {
	src := newLayout(t)
	dirs, files := realisticTree()
	buildTree(t, src.dir, dirs, files)
	data, _ := writeArchive(t, src.dir, src.base, WriteOptions{})
	if len(data) < 3<<20 {
		t.Fatalf("archive of %d bytes, want several MB", len(data))
	}

	type damage struct {
		name string
		mut  func([]byte) []byte
	}
	var cases []damage
	for _, cut := range []int{0, 1, 17, 4096, len(data) / 3, len(data) / 2, len(data) - 5, len(data) - 1} {
		cases = append(cases, damage{"truncated to " + strconv.Itoa(cut), func(b []byte) []byte { return b[:cut] }})
	}
	for _, frac := range []int{10, 25, 50, 75, 90} {
		at := len(data) * frac / 100
		cases = append(cases, damage{"flipped at " + strconv.Itoa(frac) + "%", func(b []byte) []byte { b[at] ^= 0x55; return b }})
	}
	cases = append(cases, damage{"flipped checksum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t)
			buildTree(t, l.dir, []dirSpec{{".", 0o755}}, []fileSpec{{"old", 0o644, []byte("previous")}})
			before := parentTimeless(snapshot(t, l.root), l.root, l.dir)
			stream := tc.mut(bytes.Clone(data))
			_, err := Extract(context.Background(), bytes.NewReader(stream), l.dir, l.base, ExtractOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Extract error %v, want ErrCorrupt", err)
			}
			sameTree(t, before, parentTimeless(snapshot(t, l.root), l.root, l.dir))
			noLeftovers(t, l.dir)
		})
	}
}

// TestExtractSourceAndContextErrors checks that a failing download or a
// cancelled context is reported as such, not as a corrupt archive.
func TestExtractSourceAndContextErrors(t *testing.T) {
	src := newLayout(t)
	dirs, files := realisticTree()
	buildTree(t, src.dir, dirs, files)
	data, _ := writeArchive(t, src.dir, src.base, WriteOptions{})
	errNet := errors.New("connection reset by peer")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	tests := []struct {
		name string
		ctx  context.Context
		r    io.Reader
		is   error
	}{
		{name: "download fails midway", ctx: context.Background(), r: &failingReader{r: bytes.NewReader(data[:len(data)/2]), err: errNet}, is: errNet},
		{name: "download fails at once", ctx: context.Background(), r: &failingReader{r: bytes.NewReader(nil), err: errNet}, is: errNet},
		{name: "cancelled", ctx: cancelled, r: bytes.NewReader(data), is: context.Canceled},
		{name: "deadline passed", ctx: expired, r: bytes.NewReader(data), is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			buildTree(t, l.dir, []dirSpec{{".", 0o755}}, []fileSpec{{"old", 0o644, []byte("previous")}})
			before := parentTimeless(snapshot(t, l.root), l.root, l.dir)
			_, err := Extract(tt.ctx, tt.r, l.dir, l.base, ExtractOptions{})
			if !errors.Is(err, tt.is) {
				t.Fatalf("Extract error %v, want %v", err, tt.is)
			}
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsafe) {
				t.Errorf("error %v blames the archive", err)
			}
			sameTree(t, before, parentTimeless(snapshot(t, l.root), l.root, l.dir))
			noLeftovers(t, l.dir)
		})
	}
}

// TestExtractAccepts covers archives that are unusual but fine.
func TestExtractAccepts(t *testing.T) {
	const p = "../../../temp/cache"
	mtime := time.Date(2023, 1, 2, 3, 4, 5, 600700800, time.UTC)
	withMode := func(e tarEntry, mode int64) tarEntry { e.hdr.Mode = mode; e.hdr.ModTime = mtime; return e }
	tests := []struct {
		name    string
		entries []tarEntry
		want    map[string]entry // by path below the cache; Sum left out
		stats   Stats
	}{
		{
			name:    "hard link inside",
			entries: []tarEntry{dirEnt(p + "/"), reg(p+"/a", "data"), special(tar.TypeLink, p+"/b", p+"/a")},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "a": {Mode: 0o644, Size: 4}, "b": {Mode: 0o644, Size: 4},
			},
			stats: Stats{Files: 2, Dirs: 1, Bytes: 4},
		},
		{
			name:    "duplicate file, the later wins",
			entries: []tarEntry{dirEnt(p + "/"), reg(p+"/a", "first"), reg(p+"/a", "second!")},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "a": {Mode: 0o644, Size: 7},
			},
			stats: Stats{Files: 2, Dirs: 1, Bytes: 12},
		},
		{
			name: "no root entry, implicit parents",
			entries: []tarEntry{
				withMode(reg(p+"/x/y/f", "f"), 0o600),
			},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o700}, "x": {Dir: true, Mode: os.ModeDir | 0o755},
				"x/y": {Dir: true, Mode: os.ModeDir | 0o755}, "x/y/f": {Mode: 0o600, Size: 1},
			},
			stats: Stats{Files: 1, Bytes: 1},
		},
		{
			name: "group and other write dropped",
			entries: []tarEntry{
				withMode(dirEnt(p+"/"), 0o777), withMode(dirEnt(p+"/d/"), 0o775), withMode(reg(p+"/d/f", "f"), 0o666), withMode(reg(p+"/x", "x"), 0o777),
			},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "d": {Dir: true, Mode: os.ModeDir | 0o755},
				"d/f": {Mode: 0o644, Size: 1}, "x": {Mode: 0o755, Size: 1},
			},
			stats: Stats{Files: 2, Dirs: 2, Bytes: 2},
		},
		{
			// Saved by a job whose cache dir lay elsewhere relative to its
			// workspace (another RUNNER_TEMP, cache-root or workspace).
			name: "saved with the cache elsewhere",
			entries: []tarEntry{
				dirEnt("../../../../runner-2/_temp/rustcache/cache/"), dirEnt("../../../../runner-2/_temp/rustcache/cache/d/"),
				reg("../../../../runner-2/_temp/rustcache/cache/d/f", "data"),
				special(tar.TypeLink, "../../../../runner-2/_temp/rustcache/cache/g", "../../../../runner-2/_temp/rustcache/cache/d/f"),
			},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "d": {Dir: true, Mode: os.ModeDir | 0o755},
				"d/f": {Mode: 0o644, Size: 4}, "g": {Mode: 0o644, Size: 4},
			},
			stats: Stats{Files: 2, Dirs: 2, Bytes: 4},
		},
		{
			name:    "saved with the cache inside the workspace",
			entries: []tarEntry{dirEnt("./"), reg("./a", "x"), reg("b/c", "yz")},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "a": {Mode: 0o644, Size: 1}, "b": {Dir: true, Mode: os.ModeDir | 0o755},
				"b/c": {Mode: 0o644, Size: 2},
			},
			stats: Stats{Files: 2, Dirs: 1, Bytes: 3},
		},
		{
			name: "read-only directory and special bits",
			entries: []tarEntry{
				dirEnt(p + "/"), withMode(dirEnt(p+"/ro/"), 0o555|0o1000), withMode(reg(p+"/ro/suid", "s"), 0o4755),
			},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "ro": {Dir: true, Mode: os.ModeDir | 0o755},
				"ro/suid": {Mode: 0o755, Size: 1},
			},
			stats: Stats{Files: 1, Dirs: 2, Bytes: 1},
		},
		{
			name: "global header is ignored",
			entries: []tarEntry{
				{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "g", PAXRecords: map[string]string{"comment": "hi"}}},
				dirEnt(p + "/"),
				{hdr: tar.Header{Typeflag: tar.TypeReg, Name: p + "/old", Mode: 0o644, Size: 2, Format: tar.FormatUSTAR}, body: []byte("ok")},
			},
			want: map[string]entry{
				".": {Dir: true, Mode: os.ModeDir | 0o755}, "old": {Mode: 0o644, Size: 2},
			},
			stats: Stats{Files: 1, Dirs: 1, Bytes: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			st, err := Extract(context.Background(), bytes.NewReader(zst(t, tarBytes(t, tt.entries, true))), l.dir, l.base, ExtractOptions{})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
			got := snapshot(t, l.dir)
			for k, e := range got {
				e.Sum, e.MTime = "", 0
				got[k] = e
			}
			sameTree(t, tt.want, got)
			noLeftovers(t, l.dir)
		})
	}
}

// TestExtractKeepsTimes checks nanosecond mtimes of files and directories,
// the root included, from hand-built headers.
func TestExtractKeepsTimes(t *testing.T) {
	const p = "../../../temp/cache"
	at := func(s int64) time.Time { return time.Unix(1600000000+s, 123456789+s) }
	entries := []tarEntry{dirEnt(p + "/"), dirEnt(p + "/d/"), reg(p+"/d/f", "x")}
	for i := range entries {
		entries[i].hdr.ModTime = at(int64(i))
	}
	l := newLayout(t)
	if _, err := Extract(context.Background(), bytes.NewReader(zst(t, tarBytes(t, entries, true))), l.dir, l.base, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, rel := range []string{".", "d", "d/f"} {
		fi, err := os.Stat(filepath.Join(l.dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(at(int64(i))) {
			t.Errorf("%s: mtime %v, want %v", rel, fi.ModTime(), at(int64(i)))
		}
	}
}
