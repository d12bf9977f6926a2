// Package diskcache reads sccache's local disk cache as a set of entries: it
// takes snapshots (path, size, modification time), compares two snapshots to
// count what the builds did, and trims the cache to a size limit by least
// recent use.
//
// The accounting rests on one property of sccache's disk cache, true of every
// release since the cache was written: a cache hit sets the entry file's
// modification time to now (LruDiskCache::get_file), and a cache miss that
// produced a cacheable result adds a new entry file. Comparing the snapshot
// taken right after restore with the one taken after sccache stopped therefore
// counts hits and misses of every sccache server that used the directory —
// including servers that ran inside cross containers, which the host's
// `sccache --show-stats` never sees. Counts are distinct entries: one entry
// hit twice in a job counts once.
package diskcache

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/org/rustcache-action/internal/safefile"
)

// Entry is one cache file.
type Entry struct {
	Size    int64
	ModTime int64 // nanoseconds since the epoch
}

// Snapshot maps slash-separated paths relative to the cache dir to entries.
type Snapshot map[string]Entry

// Skip reports files that are not cache entries: temporary files sccache is
// still writing (hidden names) and lock files.
func Skip(rel string) bool {
	base := rel[strings.LastIndexByte(rel, '/')+1:]
	return strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".lock") || strings.HasSuffix(base, ".tmp")
}

// Take walks dir and records every cache entry. A missing dir is an empty
// snapshot.
func Take(dir string) (Snapshot, error) {
	s := Snapshot{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return filepath.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if Skip(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed by a concurrent trim
			}
			return err
		}
		s[rel] = Entry{Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan cache %q: %w", dir, err)
	}
	return s, nil
}

// Bytes is the total size of the snapshot's entries.
func (s Snapshot) Bytes() int64 {
	var n int64
	for _, e := range s {
		n += e.Size
	}
	return n
}

// Diff is what happened between two snapshots.
type Diff struct {
	Hits    int // entries present before whose modification time moved
	Misses  int // entries added
	Removed int // entries gone (evicted by sccache or trimmed)
	Changed int // entries whose size changed (rewritten)
	Added   int64
}

// ContentChanged reports whether the set of entries or their bytes changed —
// the condition for uploading a new cache entry. Hits alone only move times.
func (d Diff) ContentChanged() bool { return d.Misses > 0 || d.Removed > 0 || d.Changed > 0 }

// Compare counts what the builds did between before and after.
func Compare(before, after Snapshot) Diff {
	var d Diff
	for p, a := range after {
		b, ok := before[p]
		switch {
		case !ok:
			d.Misses++
			d.Added += a.Size
		case a.Size != b.Size:
			d.Changed++
		case a.ModTime != b.ModTime:
			d.Hits++
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			d.Removed++
		}
	}
	return d
}

// Trim removes the least recently used entries of dir (oldest modification
// time first) until the total is at most limit. It returns the entries removed
// and the bytes freed, and updates s to match.
func Trim(dir string, s Snapshot, limit int64) (removed int, freed int64, err error) {
	total := s.Bytes()
	if total <= limit {
		return 0, 0, nil
	}
	paths := make([]string, 0, len(s))
	for p := range s {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := s[paths[i]], s[paths[j]]
		if a.ModTime != b.ModTime {
			return a.ModTime < b.ModTime
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		if total <= limit {
			break
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !os.IsNotExist(err) {
			return removed, freed, fmt.Errorf("trim cache: %w", err)
		}
		e := s[p]
		total -= e.Size
		freed += e.Size
		removed++
		delete(s, p)
	}
	return removed, freed, nil
}

// snapshotHeader opens every snapshot file; the number is the format's.
const snapshotHeader = "rustcache-snapshot 2\n"

// maxNameLen bounds a name in a snapshot file (far above any file system's
// path limit), so a damaged length cannot make Read allocate gigabytes.
const maxNameLen = 1 << 16

// Write stores a snapshot, sorted by path: a header line, then per entry
// "mtime size length:path\n" with the path's length in bytes. A name is
// taken by its length, never by a separator, so no file name (newlines,
// spaces, bytes that are not UTF-8) can break the format.
func (s Snapshot) Write(w io.Writer) error {
	paths := make([]string, 0, len(s))
	for p := range s {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	bw := bufio.NewWriter(w)
	bw.WriteString(snapshotHeader)
	for _, p := range paths {
		e := s[p]
		if _, err := fmt.Fprintf(bw, "%d %d %d:%s\n", e.ModTime, e.Size, len(p), p); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Read parses what Write stored. Anything else — an older format, a cut or
// edited file — is an error saying where it stopped making sense.
func Read(r io.Reader) (Snapshot, error) {
	br := bufio.NewReader(r)
	head, err := br.ReadString('\n')
	if err != nil || head != snapshotHeader {
		return nil, fmt.Errorf("not a snapshot of this format (header %q)", strings.TrimSpace(head))
	}
	s := Snapshot{}
	for n := 1; ; n++ {
		prefix, err := br.ReadString(':')
		if err == io.EOF && prefix == "" {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot entry %d: cut short", n)
		}
		f := strings.Fields(strings.TrimSuffix(prefix, ":"))
		var v [3]int64
		if len(f) != 3 {
			return nil, fmt.Errorf("snapshot entry %d: want mtime, size and length", n)
		}
		for i := range f {
			if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
				return nil, fmt.Errorf("snapshot entry %d: bad number %q", n, f[i])
			}
		}
		if v[1] < 0 || v[2] <= 0 || v[2] > maxNameLen {
			return nil, fmt.Errorf("snapshot entry %d: size %d or name length %d out of range", n, v[1], v[2])
		}
		name := make([]byte, v[2]+1)
		if _, err := io.ReadFull(br, name); err != nil || name[v[2]] != '\n' {
			return nil, fmt.Errorf("snapshot entry %d: name not %d bytes and a newline", n, v[2])
		}
		p := string(name[:v[2]])
		if _, dup := s[p]; dup {
			return nil, fmt.Errorf("snapshot entry %d: %q listed twice", n, p)
		}
		s[p] = Entry{ModTime: v[0], Size: v[1]}
	}
}

// SaveFile writes the snapshot to path through a temporary file renamed
// over it, so a link planted at path is replaced, not written through.
func (s Snapshot) SaveFile(path string) error {
	if err := safefile.WriteWith(path, 0o644, s.Write); err != nil {
		return fmt.Errorf("record the cache snapshot: %w", err)
	}
	return nil
}

// LoadFile reads a snapshot saved with SaveFile; a link in its place is an
// error.
func LoadFile(path string) (Snapshot, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the cache snapshot: %w", err)
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read the cache snapshot %q: %w", path, err)
	}
	return s, nil
}
