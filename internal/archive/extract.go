package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Defaults for the zero fields of [ExtractOptions].
const (
	DefaultMaxBytes   = 32 << 30  // 32 GiB of file contents
	DefaultMaxEntries = 2_000_000 // files, directories and other headers
	DefaultMaxWindow  = 128 << 20 // the zstd CLI's limit without --long
)

// Allowances for tar metadata in the decompressed stream, on top of the
// declared file contents: one maximal PAX header, then a little per entry
// (GNU tar --posix spends 1.5 KiB on an entry with a short name), then the
// padding GNU tar adds after the end-of-archive marker.
const (
	headerSlack   = 1<<20 + 64<<10
	perEntrySlack = 16 << 10
	trailingMax   = 1 << 20
)

// ExtractOptions bounds what [Extract] accepts. The zero value uses the
// defaults above.
type ExtractOptions struct {
	// MaxBytes caps the total size of the extracted files (decompression
	// bombs, sparse files included); zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxEntries caps the number of tar entries; zero means DefaultMaxEntries.
	MaxEntries int
	// MaxWindow caps the zstd window the stream may declare, which is what
	// the decoder allocates; zero means DefaultMaxWindow. Archives written
	// with zstd --long=30 need 1 << 30.
	MaxWindow uint64
}

// Extract reads a tar+zstd stream from r and materialises its content at dir
// atomically. Entries are written into a new sibling directory of dir (named
// ".<base name of dir>.tmp-*"); only entries inside the archived directory
// are accepted, each placed at its path below it. Names are relative to base
// (the workspace), so the archived directory is expected at dir's path
// relative to base; an archive whose first entry is a directory elsewhere was
// saved with the directory at another place relative to its workspace, and is
// extracted by that first entry's name instead (see [Write]: the directory is
// always the first entry). Only when the whole stream has been read and
// verified does the sibling replace dir (an existing dir is swapped out and
// removed). On any error the sibling is removed and dir is left exactly as it
// was. dir and base must be absolute; dir's parent is created when missing.
//
// Errors from the archive itself wrap [ErrCorrupt] or [ErrUnsafe] (and
// [ErrTooLarge] for the limits); anything else comes from reading r, from
// the file system, or from ctx.
func Extract(ctx context.Context, r io.Reader, dir, base string, opts ExtractOptions) (Stats, error) {
	return ExtractDirs(ctx, r, []string{dir}, base, opts)
}

// ExtractDirs is [Extract] for an archive of several directories (as
// [WriteDirs] writes them, in the same order): every entry must lie inside one
// of the archived directories, each directory is built in its own sibling,
// and once the whole stream checked out each directory that received at least
// one entry replaces its destination; the others are left as they were. The
// directories must not contain one another. When the archive's first entry
// (the first directory) lies elsewhere, the archive was saved from another
// place, and every other directory is expected at the same place relative to
// the first one as dirs has it.
func ExtractDirs(ctx context.Context, r io.Reader, dirs []string, base string, opts ExtractOptions) (Stats, error) {
	what := strings.Join(quoteAll(dirs), ", ")
	if len(dirs) == 0 {
		return Stats{}, fmt.Errorf("extract: no directory given")
	}
	x := &extractor{
		ctx: ctx,
		buf: make([]byte, 256<<10),
	}
	for i, dir := range dirs {
		names, err := newEntryNames(dir, base)
		if err != nil {
			return Stats{}, fmt.Errorf("extract to %q: %w", dir, err)
		}
		dir = filepath.Clean(dir)
		for _, other := range x.dests {
			if other.dir == dir || strings.HasPrefix(dir, other.dir+string(filepath.Separator)) || strings.HasPrefix(other.dir, dir+string(filepath.Separator)) {
				return Stats{}, fmt.Errorf("extract to %s: %q and %q overlap", what, other.dir, dir)
			}
		}
		d := dest{dir: dir, names: names}
		if i > 0 {
			rel, err := filepath.Rel(filepath.Dir(x.dests[0].dir), dir)
			if err != nil {
				return Stats{}, fmt.Errorf("extract to %q: %w", dir, err)
			}
			d.sibling = filepath.ToSlash(rel)
		}
		x.dests = append(x.dests, d)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxWindow == 0 {
		opts.MaxWindow = DefaultMaxWindow
	}
	x.opts = opts
	defer func() {
		for _, d := range x.dests {
			if d.tmp != "" {
				_ = os.RemoveAll(d.tmp)
			}
		}
	}()
	for i, d := range x.dests {
		parent := filepath.Dir(d.dir)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return Stats{}, fmt.Errorf("extract to %q: %w", d.dir, err)
		}
		tmp, err := os.MkdirTemp(parent, "."+filepath.Base(d.dir)+".tmp-")
		if err != nil {
			return Stats{}, fmt.Errorf("extract to %q: %w", d.dir, err)
		}
		x.dests[i].tmp = tmp
	}
	st, err := x.run(r)
	if err == nil {
		err = x.replaceAll()
	}
	if err != nil {
		return Stats{}, fmt.Errorf("extract to %s: %w", what, err)
	}
	return st, nil
}

func quoteAll(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = fmt.Sprintf("%q", d)
	}
	return out
}

// dest is one destination directory of an extraction.
type dest struct {
	dir     string     // destination
	tmp     string     // sibling of dir that receives the entries
	names   entryNames // where its entries are expected
	sibling string     // its path relative to the first destination's parent (not for the first)
	seen    bool       // an entry landed in it
}

// extractor holds the state of one [Extract].
type extractor struct {
	ctx   context.Context
	dests []dest
	opts  ExtractOptions
	buf   []byte

	rooted   bool // whether the first entry was seen
	st       Stats
	expanded int64     // declared file sizes so far, duplicates included
	dirs     []dirMeta // directories whose mode and time are set at the end
}

// dirMeta is the mode and time a directory gets once its contents are in.
type dirMeta struct {
	dest  int
	rel   string
	mode  fs.FileMode
	mtime time.Time
	atime time.Time
}

// run decodes the stream into x.tmp and returns what it held.
func (x *extractor) run(r io.Reader) (Stats, error) {
	src := &sourceReader{ctx: x.ctx, r: r}
	zr, err := zstd.NewReader(src,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(x.opts.MaxWindow),
	)
	if err != nil {
		return Stats{}, fmt.Errorf("zstd decoder: %w", err)
	}
	defer zr.Close()
	tr := &budgetReader{r: zr, limit: headerSlack}
	err = x.entries(tar.NewReader(tr), tr)
	if err == nil {
		err = drain(zr)
	}
	if err != nil {
		return Stats{}, classify(x.ctx, err, src)
	}
	if err := x.finishDirs(); err != nil {
		return Stats{}, err
	}
	return x.st, nil
}

// classify decides what a failure while reading the stream was: the
// source's own error or the context's when there is one (an I/O problem, not
// the archive's fault), the archive's damage otherwise.
func classify(ctx context.Context, err error, src *sourceReader) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case src.err != nil:
		return fmt.Errorf("read archive: %w", src.err)
	case errors.Is(err, ErrUnsafe), errors.Is(err, ErrCorrupt):
		return err
	case errors.Is(err, errFS):
		return err
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	default:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
}

// errFS marks destination file-system failures so classify leaves them alone.
var errFS = errors.New("file system")

// fsErr wraps a destination file-system error.
func fsErr(err error) error { return fmt.Errorf("%w: %w", errFS, err) }

// entries extracts every tar entry until the end-of-archive marker.
func (x *extractor) entries(tr *tar.Reader, br *budgetReader) error {
	for n := 0; ; n++ {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if br.sawEOF {
				// The stream ended where a header or the second half of the
				// marker should have been: tar.Reader forgives that, we do not.
				return fmt.Errorf("%w: stream ends without the tar end-of-archive marker", ErrCorrupt)
			}
			if n == 0 {
				return fmt.Errorf("%w: archive has no entries", ErrCorrupt)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if n >= x.opts.MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrTooLarge, x.opts.MaxEntries)
		}
		if err := x.entry(h, tr, br); err != nil {
			return err
		}
	}
}

// entry checks one header and creates what it describes under x.tmp.
func (x *extractor) entry(h *tar.Header, tr *tar.Reader, br *budgetReader) error {
	br.limit += perEntrySlack
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil // PAX global defaults: nothing this package uses
	}
	if !x.rooted {
		if err := x.first(h.Name, h.Typeflag == tar.TypeDir); err != nil {
			return err
		}
		x.rooted = true
	}
	i, rel, err := x.resolve(h.Name)
	if err != nil {
		return err
	}
	target := filepath.Join(x.dests[i].tmp, rel)
	switch h.Typeflag {
	case tar.TypeDir:
		return x.mkdir(h, i, rel, target)
	case tar.TypeReg: // tar.Reader reports the legacy '\x00' type as TypeReg
		if rel == "." {
			return fmt.Errorf("%w: file entry %q names the destination directory itself", ErrUnsafe, h.Name)
		}
		if h.Size < 0 || h.Size > x.opts.MaxBytes-x.expanded {
			return fmt.Errorf("%w: entry %q makes the contents larger than %d bytes", ErrTooLarge, h.Name, x.opts.MaxBytes)
		}
		x.expanded += h.Size
		br.limit += (h.Size + 511) &^ 511
		return x.file(h, tr, rel, target)
	case tar.TypeLink:
		return x.link(h, i, rel, target)
	case tar.TypeSymlink:
		return fmt.Errorf("%w: symbolic link %q -> %q", ErrUnsafe, h.Name, h.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("%w: device node %q", ErrUnsafe, h.Name)
	case tar.TypeFifo:
		return fmt.Errorf("%w: FIFO %q", ErrUnsafe, h.Name)
	default:
		return fmt.Errorf("%w: entry %q has unsupported type %q", ErrUnsafe, h.Name, h.Typeflag)
	}
}

// mkdir creates a directory entry and remembers its mode and time.
func (x *extractor) mkdir(h *tar.Header, i int, rel, target string) error {
	if rel != "." {
		if err := x.mkdirAll(target, h.Name); err != nil {
			return err
		}
	}
	x.dirs = append(x.dirs, dirMeta{
		dest:  i,
		rel:   rel,
		mode:  safeMode(h.Mode) | 0o700,
		mtime: h.ModTime,
		atime: h.AccessTime,
	})
	x.st.Dirs++
	return nil
}

// mkdirAll creates target and its missing parents inside x.tmp. Something
// other than a directory in the way was put there by an earlier entry.
func (x *extractor) mkdirAll(target, name string) error {
	err := os.MkdirAll(target, 0o755)
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: entry %q clashes with an earlier non-directory entry", ErrUnsafe, name)
	}
	return fsErr(err)
}

// prepare makes target's parent and clears the way for a file or link at
// target: a duplicate name replaces the earlier file, as with tar.
func (x *extractor) prepare(target, name string) error {
	if err := x.mkdirAll(filepath.Dir(target), name); err != nil {
		return err
	}
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fsErr(err)
	case fi.IsDir():
		return fmt.Errorf("%w: entry %q clashes with an earlier directory entry", ErrUnsafe, name)
	}
	if err := os.Remove(target); err != nil {
		return fsErr(err)
	}
	return nil
}

// file writes a regular file with its mode and times.
func (x *extractor) file(h *tar.Header, tr *tar.Reader, rel, target string) error {
	if err := x.prepare(target, h.Name); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fsErr(err)
	}
	n, err := io.CopyBuffer(fsWriter{f}, onlyReader{tr}, x.buf)
	if err != nil {
		f.Close()
		// Write errors carry errFS; read errors are the archive's or the
		// source's, and classify sorts them out.
		return fmt.Errorf("entry %q: %w", h.Name, err)
	}
	if n != h.Size {
		f.Close()
		return fmt.Errorf("%w: entry %q holds %d bytes, header says %d", ErrCorrupt, h.Name, n, h.Size)
	}
	if err := f.Chmod(safeMode(h.Mode)); err != nil {
		f.Close()
		return fsErr(err)
	}
	if err := f.Close(); err != nil {
		return fsErr(err)
	}
	if err := os.Chtimes(target, atimeOf(h.AccessTime, h.ModTime), h.ModTime); err != nil {
		return fsErr(err)
	}
	x.st.Files++
	x.st.Bytes += n
	return nil
}

// safeMode is an entry's permission bits without group and other write:
// the cache directory lies under the action's root, which another local user
// of the runner must not be able to edit, whatever modes an entry claims.
func safeMode(m int64) fs.FileMode { return fs.FileMode(m).Perm() &^ 0o022 }

// link recreates a hard link to a regular file extracted earlier.
func (x *extractor) link(h *tar.Header, i int, rel, target string) error {
	if rel == "." {
		return fmt.Errorf("%w: hard link %q names the destination directory itself", ErrUnsafe, h.Name)
	}
	ti, trel, err := x.resolve(h.Linkname)
	if err != nil {
		return fmt.Errorf("hard link %q: %w", h.Name, err)
	}
	src := filepath.Join(x.dests[ti].tmp, trel)
	fi, err := os.Lstat(src)
	if err != nil || !fi.Mode().IsRegular() || ti == i && trel == rel {
		return fmt.Errorf("%w: hard link %q -> %q does not name an earlier file of this archive", ErrUnsafe, h.Name, h.Linkname)
	}
	if err := x.prepare(target, h.Name); err != nil {
		return err
	}
	if err := os.Link(src, target); err != nil {
		return fsErr(err)
	}
	x.st.Files++
	return nil
}

// finishDirs sets directory modes and times, deepest first, so creating the
// children no longer changes them.
func (x *extractor) finishDirs() error {
	sort.SliceStable(x.dirs, func(i, j int) bool {
		return depth(x.dirs[i].rel) > depth(x.dirs[j].rel)
	})
	for _, d := range x.dirs {
		p := filepath.Join(x.dests[d.dest].tmp, d.rel)
		if err := os.Chmod(p, d.mode); err != nil {
			return fsErr(err)
		}
		if err := os.Chtimes(p, atimeOf(d.atime, d.mtime), d.mtime); err != nil {
			return fsErr(err)
		}
	}
	return nil
}

// depth counts the separators of a relative path; "." is shallowest.
func depth(rel string) int {
	if rel == "." {
		return -1
	}
	return strings.Count(rel, string(filepath.Separator))
}

// atimeOf is the access time to set: the archived one, else the mtime.
func atimeOf(atime, mtime time.Time) time.Time {
	if atime.IsZero() {
		return mtime
	}
	return atime
}

// first sees the archive's first entry: the first destination's directory,
// at the expected place or elsewhere (then every destination moves with it).
func (x *extractor) first(name string, isDir bool) error {
	d0 := &x.dests[0]
	expected := d0.names.root
	if err := d0.names.first(name, isDir); err != nil {
		return err
	}
	if d0.names.root == expected {
		return nil
	}
	for i := 1; i < len(x.dests); i++ {
		root := path.Clean(path.Join(path.Dir(d0.names.root), x.dests[i].sibling))
		if root == "." || root == ".." {
			return fmt.Errorf("%w: archive rooted at %q leaves no place for %q", ErrUnsafe, d0.names.root, x.dests[i].dir)
		}
		x.dests[i].names.root = root
	}
	return nil
}

// resolve finds the destination an entry name belongs to and its path
// relative to that destination.
func (x *extractor) resolve(name string) (int, string, error) {
	var first error
	for i := range x.dests {
		rel, err := x.dests[i].names.rel(name)
		if err == nil {
			x.dests[i].seen = true
			return i, rel, nil
		}
		if first == nil {
			first = err
		}
	}
	if len(x.dests) > 1 {
		return 0, "", fmt.Errorf("%w: entry %q lies outside every archived directory", ErrUnsafe, name)
	}
	return 0, "", first
}

// replaceAll moves every destination that received entries into place.
func (x *extractor) replaceAll() error {
	for _, d := range x.dests {
		if !d.seen {
			continue
		}
		if err := replace(d.tmp, d.dir); err != nil {
			return err
		}
	}
	return nil
}

// replace moves tmp to dir. An existing dir is first renamed away, so
// there is never a moment when a half-written tree sits at dir (only a
// moment when nothing does); if the second rename fails, the old tree is put
// back.
func replace(tmp, dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fsErr(err)
		}
		return nil
	}
	if err != nil {
		return fsErr(err)
	}
	if !fi.IsDir() {
		return fsErr(fmt.Errorf("%q exists and is not a directory", dir))
	}
	// The previous tree moves into a fresh hidden sibling first (os.Rename
	// will not replace a directory, not even an empty one).
	holder, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".old-")
	if err != nil {
		return fsErr(err)
	}
	old := filepath.Join(holder, filepath.Base(dir))
	if err := os.Rename(dir, old); err != nil {
		_ = os.Remove(holder)
		return fsErr(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fsErr(fmt.Errorf("%w (and restoring the previous directory from %q failed: %v)", err, old, rerr))
		}
		_ = os.Remove(holder)
		return fsErr(err)
	}
	// The new tree is in place; a failure to delete the old one only leaves
	// a hidden sibling behind, which is not worth failing the restore for.
	_ = os.RemoveAll(holder)
	return nil
}

// drain reads what follows the tar end-of-archive marker to the end of the
// zstd stream, so the frame checksum is verified and truncation is noticed.
// GNU tar pads its output to a 10 KiB record; more than trailingMax bytes of
// anything is not a tar archive's tail.
func drain(zr io.Reader) error {
	n, err := io.Copy(io.Discard, io.LimitReader(zr, trailingMax+1))
	if err != nil {
		return err
	}
	if n > trailingMax {
		return fmt.Errorf("%w: more than %d bytes after the tar end-of-archive marker", ErrCorrupt, trailingMax)
	}
	return nil
}

// fsWriter marks the errors of writing an extracted file as errFS.
type fsWriter struct{ f *os.File }

func (w fsWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = fsErr(err)
	}
	return n, err
}

// sourceReader reads the compressed stream, stops when ctx ends, and keeps
// the first error of the underlying reader so classify can tell a broken
// download from a broken archive.
type sourceReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// budgetReader passes the decompressed tar stream to tar.Reader, failing with
// ErrTooLarge once it runs past limit bytes (raised as entries are accepted),
// and notes whether the stream reached its end, which a complete tar archive
// never makes tar.Reader do.
type budgetReader struct {
	r      io.Reader
	read   int64
	limit  int64
	sawEOF bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.read >= b.limit {
		return 0, fmt.Errorf("%w: tar stream runs past its declared contents", ErrTooLarge)
	}
	if rest := b.limit - b.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if errors.Is(err, io.EOF) && n == 0 {
		b.sawEOF = true
	}
	return n, err
}
