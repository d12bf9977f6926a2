package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

// layout is a test's directory arrangement: a workspace (base) and a cache
// directory (dir) that is not below it, as on a runner where the cache lives
// under RUNNER_TEMP and the workspace under _work/<repo>/<repo>.
type layout struct {
	root string // everything of the test lives here
	base string // the workspace
	dir  string // the cache directory
}

func newLayout(t testing.TB) layout {
	t.Helper()
	root := t.TempDir()
	l := layout{
		root: root,
		base: filepath.Join(root, "work", "repo", "repo"),
		dir:  filepath.Join(root, "temp", "cache"),
	}
	if err := os.MkdirAll(l.base, 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// prefix is the entry-name prefix actions/cache gives l.dir.
func (l layout) prefix() string { return "../../../temp/cache" }

// fileSpec describes one file of a test tree.
type fileSpec struct {
	rel     string
	mode    fs.FileMode
	content []byte
}

// dirSpec describes one directory of a test tree.
type dirSpec struct {
	rel  string
	mode fs.FileMode
}

// realisticTree is a small sccache-like tree: two-level hex directories,
// nested and empty directories, files of several modes and sizes (several MB,
// part of it incompressible), long and non-ASCII names.
func realisticTree() ([]dirSpec, []fileSpec) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	text := func(n int) []byte {
		var buf bytes.Buffer
		for i := 0; buf.Len() < n; i++ {
			buf.WriteString("fn symbol_")
			buf.WriteString(strings.Repeat("x", i%17))
			buf.WriteString("() -> Result<(), Error> { todo!() }\n")
		}
		return buf.Bytes()[:n]
	}
	dirs := []dirSpec{
		{".", 0o755},
		{"0", 0o755},
		{"0/1", 0o755},
		{"0/2", 0o755},
		{"a", 0o750},
		{"a/b", 0o700},
		{"a/b/c", 0o755},
		{"empty", 0o755},
		{"nest", 0o755},
		{"nest/empty-too", 0o711},
		{"ünïcødé dir", 0o755},
	}
	long := strings.Repeat("0123456789abcdef", 8) // 128 chars: needs a PAX path
	files := []fileSpec{
		{"0/1/01c0ffee" + strings.Repeat("e", 56), 0o644, random(3 << 20)},
		{"0/2/02" + strings.Repeat("d", 62), 0o644, text(2 << 20)},
		{"0/2/02small", 0o644, random(10 << 10)},
		{"a/b/c/deep.bin", 0o640, random(1 << 20)},
		{"a/exec", 0o755, text(4 << 10)},
		{"a/private", 0o600, []byte("secret\n")},
		{"a/readonly", 0o444, []byte("ro\n")},
		{"a/b/" + long, 0o644, text(1000)},
		{"zero-length", 0o644, nil},
		{"ünïcødé dir/файл with spaces", 0o644, random(777)},
		{"top-level.stats", 0o644, text(1 << 20)},
	}
	return dirs, files
}

// buildTree creates dirs and files below root with the given modes and with
// distinct nanosecond modification times, directories last and deepest first
// so creating children does not move the times again.
func buildTree(t testing.TB, root string, dirs []dirSpec, files []fileSpec) {
	t.Helper()
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	next := func() time.Time {
		when = when.Add(time.Second + 1001)
		return when
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d.rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.rel))
		if err := os.WriteFile(p, f.content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		m := next()
		if err := os.Chtimes(p, m, m); err != nil {
			t.Fatal(err)
		}
	}
	sorted := append([]dirSpec(nil), dirs...)
	sort.SliceStable(sorted, func(i, j int) bool { return depth(sorted[i].rel) > depth(sorted[j].rel) })
	for _, d := range sorted {
		p := filepath.Join(root, d.rel)
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatal(err)
		}
		m := next()
		if err := os.Chtimes(p, m, m); err != nil {
			t.Fatal(err)
		}
	}
}

// entry is what a tree comparison looks at for one path.
type entry struct {
	Dir   bool
	Mode  fs.FileMode
	MTime int64 // Unix nanoseconds
	Size  int64
	Sum   string
}

// snapshot records every path below root (root itself as ".").
func snapshot(t testing.TB, root string) map[string]entry {
	t.Helper()
	snap := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		e := entry{Dir: d.IsDir(), Mode: info.Mode(), MTime: info.ModTime().UnixNano()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			e.Size, e.Sum = int64(len(b)), hex.EncodeToString(sum[:8])
		}
		snap[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	return snap
}

// sameTree fails the test when two snapshots differ.
func sameTree(t testing.TB, want, got map[string]entry) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("trees differ (-want +got):\n%s", d)
	}
}

// parentTimeless drops the modification time of dir's parent from a
// snapshot of root: creating and removing the temporary sibling changes it.
func parentTimeless(snap map[string]entry, root, dir string) map[string]entry {
	rel, _ := filepath.Rel(root, filepath.Dir(dir))
	if e, ok := snap[filepath.ToSlash(rel)]; ok {
		e.MTime = 0
		snap[filepath.ToSlash(rel)] = e
	}
	return snap
}

// noLeftovers fails the test when dir's parent holds temporary siblings.
func noLeftovers(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(dir)+".") {
			t.Errorf("leftover %s next to %s", e.Name(), dir)
		}
	}
}

// writeArchive runs Write into memory.
func writeArchive(t testing.TB, dir, base string, opts WriteOptions) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Write(context.Background(), &buf, dir, base, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), st
}

// tarEntry is one entry of a hand-built archive.
type tarEntry struct {
	hdr  tar.Header
	body []byte
}

// reg, dirEnt, sym and hard build tar entries for hand-made archives.
func reg(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)}, body: []byte(body)}
}

func dirEnt(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: time.Unix(1700000000, 0)}}
}

func special(typ byte, name, link string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: 0o644, ModTime: time.Unix(1700000000, 0)}}
}

// tarBytes builds an uncompressed tar stream; with end false the
// end-of-archive marker is left out.
func tarBytes(t testing.TB, entries []tarEntry, end bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("tar header %q: %v", h.Name, err)
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if end {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		// Pads the last entry; fails, harmlessly, when its body is missing.
		_ = tw.Flush()
	}
	return buf.Bytes()
}

// zst compresses raw bytes into one zstd frame.
func zst(t testing.TB, raw []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawHeader builds a bare ustar header block by hand, for entry types
// archive/tar refuses to write (GNU long-name records).
func rawHeader(name string, typ byte, size int64) []byte {
	var b [512]byte
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], octal(size, 12))
	copy(b[136:148], octal(1700000000, 12))
	b[156] = typ
	copy(b[257:265], "ustar  \x00") // GNU magic
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], octal(sum, 7)+" ")
	return b[:]
}

func octal(v int64, width int) string {
	s := []byte(strings.Repeat("0", width-1))
	for i := width - 2; i >= 0 && v > 0; i-- {
		s[i] = byte('0' + v%8)
		v /= 8
	}
	return string(s) + "\x00"
}

// failingReader returns data, then a non-EOF error: a broken download.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}
