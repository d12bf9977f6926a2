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
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// DefaultLevel is the zstd level [Write] uses when [WriteOptions.Level] is
// unset. sccache stores its entries already compressed, so higher levels cost
// time and buy almost nothing (see bench_test.go for the measurements).
const DefaultLevel = zstd.SpeedFastest

// WriteOptions tunes [Write]. The zero value is ready to use.
type WriteOptions struct {
	// Level is the zstd compression level; zero means [DefaultLevel].
	Level zstd.EncoderLevel
	// Concurrency is the number of encoder goroutines. Zero or one
	// compresses synchronously on the calling goroutine, the fastest and
	// cheapest choice for an sccache directory (about 1.2 GB/s of a single
	// core at SpeedFastest, far above an upload's speed; see
	// bench_test.go). More lets the encoder compress one block on its own
	// goroutine while the walk reads the next files (without ParallelBlocks
	// the stream uses two goroutines at most, whatever the number); that
	// cost a quarter more CPU for no gain in the measurements.
	Concurrency int
	// ParallelBlocks splits the stream into jobs of four windows that
	// Concurrency goroutines compress at once (zstd.WithConcurrentBlocks).
	// It pays off for compressible data at SpeedDefault or better; on an
	// sccache directory, whose entries are compressed already, it costs
	// about 1.7 times the CPU for no gain (see bench_test.go), so it is off
	// by default.
	ParallelBlocks bool
	// Skip, when set, is asked about every entry below dir by its
	// slash-separated path relative to dir ("a/b/file"); returning true
	// leaves the entry out, and for a directory everything below it.
	Skip func(rel string) bool
}

// Write streams a tar+zstd archive of every regular file and directory under
// dir (dir itself first) to w. Entry names are the paths relative to base (the
// workspace), slash-separated, as actions/cache names them; dir and base must
// be absolute. Nothing is buffered on disk. On error the output is incomplete
// and must be discarded: Write makes sure it does not end as a valid stream.
func Write(ctx context.Context, w io.Writer, dir, base string, opts WriteOptions) (Stats, error) {
	return WriteDirs(ctx, w, []Source{{Dir: dir, Skip: opts.Skip}}, base, opts)
}

// Source is one directory of a [WriteDirs] archive.
type Source struct {
	// Dir is the absolute path of the directory.
	Dir string
	// Skip, when set, replaces [WriteOptions.Skip] for this directory.
	Skip func(rel string) bool
}

// WriteDirs is [Write] for several directories in one archive, one after the
// other, as actions/cache archives several paths: each directory's entry
// first, then its members, all named relative to base.
func WriteDirs(ctx context.Context, w io.Writer, srcs []Source, base string, opts WriteOptions) (Stats, error) {
	var st Stats
	what := describe(srcs)
	if len(srcs) == 0 {
		return st, fmt.Errorf("archive: no directory given")
	}
	infos := make([]fs.FileInfo, len(srcs))
	prefixes := make([]string, len(srcs))
	for i, src := range srcs {
		prefix, err := prefixFor(src.Dir, base)
		if err != nil {
			return st, fmt.Errorf("archive %q: %w", src.Dir, err)
		}
		info, err := os.Stat(src.Dir)
		if err != nil {
			return st, fmt.Errorf("archive %q: %w", src.Dir, err)
		}
		if !info.IsDir() {
			return st, fmt.Errorf("archive %q: not a directory", src.Dir)
		}
		infos[i], prefixes[i] = info, prefix
	}

	level := opts.Level
	if level == 0 {
		level = DefaultLevel
	}
	conc := max(opts.Concurrency, 1)
	out := &abortWriter{w: w}
	enc, err := zstd.NewWriter(out,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(conc),
		zstd.WithConcurrentBlocks(opts.ParallelBlocks && conc > 1),
		zstd.WithEncoderCRC(true),
	)
	if err != nil {
		return st, fmt.Errorf("archive %s: zstd encoder: %w", what, err)
	}
	tw := tar.NewWriter(enc)
	aw := &archiver{
		ctx: ctx,
		tw:  tw,
		st:  &st,
		buf: make([]byte, 256<<10),
	}

	for i, src := range srcs {
		aw.prefix, aw.skip = prefixes[i], src.Skip
		if err = aw.dir(src.Dir, "", infos[i]); err != nil {
			break
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		// Make every later write fail so that Close cannot finish the zstd
		// frame: a truncated tar inside a well-formed frame would look valid.
		out.abort()
		_ = enc.Close()
		return st, fmt.Errorf("archive %s: %w", what, err)
	}
	if err := enc.Close(); err != nil {
		return st, fmt.Errorf("archive %s: %w", what, err)
	}
	return st, nil
}

// describe names the directories of an archive in messages.
func describe(srcs []Source) string {
	var names []string
	for _, s := range srcs {
		names = append(names, fmt.Sprintf("%q", s.Dir))
	}
	return strings.Join(names, ", ")
}

// archiver holds the state of one [Write] walk.
type archiver struct {
	ctx    context.Context
	tw     *tar.Writer
	prefix string
	skip   func(string) bool
	st     *Stats
	buf    []byte
}

// name returns the archive name of the entry at rel (slash-separated, ""
// for the root).
func (a *archiver) name(rel string, isDir bool) string {
	n := a.prefix
	if rel != "" {
		n = path.Join(a.prefix, rel)
		if a.prefix == "." {
			// path.Join drops a leading "./"; GNU tar keeps it.
			n = "./" + rel
		}
	}
	if isDir {
		n += "/"
	}
	return n
}

// header builds the tar header of a file or directory: permission bits,
// owner ids and the modification time only, so the output depends on the
// tree and not on when it was read.
func (a *archiver) header(info fs.FileInfo, name string) (*tar.Header, error) {
	h, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return nil, fmt.Errorf("header of %q: %w", name, err)
	}
	h.Name = name
	h.Format = tar.FormatPAX
	h.ModTime = info.ModTime()
	h.AccessTime = time.Time{}
	h.ChangeTime = time.Time{}
	h.Mode = int64(info.Mode().Perm())
	return h, nil
}

// dir writes the directory at full (relative path rel) and everything below it.
func (a *archiver) dir(full, rel string, info fs.FileInfo) error {
	if err := a.ctx.Err(); err != nil {
		return err
	}
	h, err := a.header(info, a.name(rel, true))
	if err != nil {
		return err
	}
	if err := a.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write %q: %w", h.Name, err)
	}
	a.st.Dirs++

	entries, err := os.ReadDir(full)
	if err != nil {
		if rel != "" && errors.Is(err, fs.ErrNotExist) {
			return nil // removed after its header went out: it stays empty
		}
		return fmt.Errorf("read directory %q: %w", full, err)
	}
	for _, e := range entries {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		childRel := e.Name()
		if rel != "" {
			childRel = rel + "/" + e.Name()
		}
		if a.skip != nil && a.skip(childRel) {
			a.st.Skipped++
			continue
		}
		childFull := filepath.Join(full, e.Name())
		switch {
		case e.IsDir():
			ci, err := os.Lstat(childFull)
			if errors.Is(err, fs.ErrNotExist) {
				a.st.Skipped++
				continue
			}
			if err != nil {
				return fmt.Errorf("stat %q: %w", childFull, err)
			}
			if !ci.IsDir() {
				a.st.Skipped++
				continue
			}
			if err := a.dir(childFull, childRel, ci); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := a.file(childFull, childRel); err != nil {
				return err
			}
		default:
			a.st.Skipped++
		}
	}
	return nil
}

// file writes one regular file. Its size and time are taken from the opened
// file; a file that shrinks while it is read is an error, bytes appended
// while it is read are left out.
func (a *archiver) file(full, rel string) error {
	f, err := os.Open(full)
	if errors.Is(err, fs.ErrNotExist) {
		a.st.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %q: %w", full, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %q: %w", full, err)
	}
	if !info.Mode().IsRegular() {
		a.st.Skipped++
		return nil
	}
	h, err := a.header(info, a.name(rel, false))
	if err != nil {
		return err
	}
	if err := a.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write %q: %w", h.Name, err)
	}
	n, err := io.CopyBuffer(onlyWriter{a.tw}, io.LimitReader(onlyReader{f}, h.Size), a.buf)
	if err != nil {
		return fmt.Errorf("copy %q: %w", full, err)
	}
	if n != h.Size {
		return fmt.Errorf("copy %q: file shrank from %d to %d bytes while it was read", full, h.Size, n)
	}
	a.st.Files++
	a.st.Bytes += n
	return nil
}

// onlyWriter hides io.ReaderFrom so io.CopyBuffer uses the given buffer.
type onlyWriter struct{ io.Writer }

// onlyReader hides io.WriterTo so io.CopyBuffer uses the given buffer.
type onlyReader struct{ io.Reader }

// abortWriter forwards writes until abort is called, then fails them all.
type abortWriter struct {
	w       io.Writer
	aborted atomic.Bool
}

var errAborted = errors.New("archive aborted")

func (a *abortWriter) Write(p []byte) (int, error) {
	if a.aborted.Load() {
		return 0, errAborted
	}
	return a.w.Write(p)
}

func (a *abortWriter) abort() { a.aborted.Store(true) }
