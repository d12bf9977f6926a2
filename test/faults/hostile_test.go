package faults_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	jobpkg "github.com/org/rustcache-action/internal/job"
)

// cachePrefix is the archive name of the cache directory of an actiontest
// runner, relative to its workspace.
const cachePrefix = "../temp/rustcache/cache/"

// entry is one tar entry of a hand-made archive.
type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
	pax      map[string]string
}

// tarStream writes the entries as a tar stream to w (without closing it).
func tarStream(w io.Writer, entries []entry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: e.mode, ModTime: time.Unix(1700000000, 0), PAXRecords: e.pax}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.typ == tar.TypeChar || e.typ == tar.TypeBlock {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("header %q: %w", e.name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			return err
		}
	}
	return tw.Close()
}

// zstdOf compresses what fill writes.
func zstdOf(t *testing.T, fill func(w io.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	if err := fill(zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawHeader is a ustar header block written by hand, for what archive/tar
// refuses to write (a declared size without the bytes).
func rawHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "15000000000\x00")
	b[156] = typ
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// paxRecord formats one PAX extended-header record ("<len> key=value\n").
func paxRecord(k, v string) string {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(fmt.Sprint(n))+len(rest) != n {
		n++
	}
	return fmt.Sprint(n) + rest
}

// rawPAX is an archive whose one file, name (under the cache directory),
// follows a PAX extended header holding records, written by hand: archive/tar
// refuses to write what these tests need.
func rawPAX(t *testing.T, records, name, body string) []byte {
	t.Helper()
	return zstdOf(t, func(w io.Writer) error {
		var b bytes.Buffer
		b.Write(rawHeader("PaxHeaders/x", tar.TypeXHeader, int64(len(records))))
		b.WriteString(records)
		b.Write(make([]byte, (512-len(records)%512)%512))
		b.Write(rawHeader(cachePrefix+name, tar.TypeReg, int64(len(body))))
		b.WriteString(body)
		b.Write(make([]byte, (512-len(body)%512)%512))
		b.Write(make([]byte, 1024))
		_, err := w.Write(b.Bytes())
		return err
	})
}

// hugeWindowFrame is a zstd frame that declares a 2 GiB window (what a
// decoder would allocate) around one raw block of data.
func hugeWindowFrame(data []byte) []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3} // no checksum, not single-segment; windowLog 31
	n := len(data)
	hdr := uint32(n)<<3 | 0<<1 | 1 // raw block, last
	out = append(out, byte(hdr), byte(hdr>>8), byte(hdr>>16))
	return append(out, data...)
}

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// hostileCase is an entry planted in the fake cache under the job's key.
type hostileCase struct {
	name string
	// build returns the entry; outside is a directory of the runner where
	// nothing may appear.
	build func(t *testing.T, outside string) []byte
	// warn matches what the warning says.
	warn string
	// timeout replaces stepTimeout, for the archives whose rejection
	// takes a while by design (files are created until a limit is hit).
	timeout time.Duration
}

func hostileCases() []hostileCase {
	good := entry{name: cachePrefix + "0/0/good-entry", typ: tar.TypeReg, body: "an honest cache entry"}
	dir := entry{name: cachePrefix, typ: tar.TypeDir, mode: 0o755}
	plain := func(entries ...entry) func(t *testing.T, outside string) []byte {
		return func(t *testing.T, outside string) []byte {
			all := append([]entry{dir, good}, entries...)
			return zstdOf(t, func(w io.Writer) error { return tarStream(w, all) })
		}
	}
	withOutside := func(mk func(outside string) []entry) func(t *testing.T, outside string) []byte {
		return func(t *testing.T, outside string) []byte {
			all := append([]entry{dir, good}, mk(outside)...)
			return zstdOf(t, func(w io.Writer) error { return tarStream(w, all) })
		}
	}
	return []hostileCase{
		{name: "absolute path", warn: `absolute`,
			build: withOutside(func(o string) []entry {
				return []entry{{name: filepath.Join(o, "abs-evil"), typ: tar.TypeReg, body: "x"}}
			})},
		{name: "dot-dot out of the workspace", warn: `outside`,
			build: plain(entry{name: "../../outside/dotdot-evil", typ: tar.TypeReg, body: "x"})},
		{name: "dot-dot inside the name", warn: `outside`,
			build: plain(entry{name: cachePrefix + "a/../../../../outside/dotdot-evil", typ: tar.TypeReg, body: "x"})},
		{name: "dot-dot into the root beside the cache", warn: `outside`,
			build: plain(entry{name: "../temp/rustcache/state.json", typ: tar.TypeReg, body: `{"sccache_path":"/bin/sh"}`})},
		{name: "another cache directory", warn: `outside`,
			build: plain(entry{name: "../temp/other/cache/0/0/x", typ: tar.TypeReg, body: "x"})},
		{name: "symlink out, then a file through it", warn: `symbolic link`,
			build: withOutside(func(o string) []entry {
				return []entry{
					{name: cachePrefix + "0/link", typ: tar.TypeSymlink, linkname: o},
					{name: cachePrefix + "0/link/through-symlink", typ: tar.TypeReg, body: "x"},
				}
			})},
		{name: "relative symlink out", warn: `symbolic link`,
			build: plain(entry{name: cachePrefix + "0/link", typ: tar.TypeSymlink, linkname: "../../../../outside"})},
		{name: "hardlink to an absolute file", warn: `hard link|absolute`,
			build: withOutside(func(o string) []entry {
				return []entry{{name: cachePrefix + "0/hl", typ: tar.TypeLink, linkname: filepath.Join(o, "secret")}}
			})},
		{name: "hardlink to the state file", warn: `hard link|outside`,
			build: plain(entry{name: cachePrefix + "0/hl", typ: tar.TypeLink, linkname: "../temp/rustcache/state.json"})},
		{name: "hardlink to a later entry", warn: `hard link`,
			build: plain(entry{name: cachePrefix + "0/hl", typ: tar.TypeLink, linkname: cachePrefix + "0/not-yet"})},
		{name: "character device", warn: `device`,
			build: plain(entry{name: cachePrefix + "0/null", typ: tar.TypeChar, mode: 0o666})},
		{name: "block device", warn: `device`,
			build: plain(entry{name: cachePrefix + "0/disk", typ: tar.TypeBlock, mode: 0o660})},
		{name: "FIFO", warn: `FIFO`,
			build: plain(entry{name: cachePrefix + "0/fifo", typ: tar.TypeFifo})},
		{name: "file clashing with a directory", warn: `clashes`,
			build: plain(
				entry{name: cachePrefix + "1/x", typ: tar.TypeReg, body: "file"},
				entry{name: cachePrefix + "1/x/y", typ: tar.TypeReg, body: "under a file"})},
		{name: "NUL in a PAX path", warn: `NUL|corrupt`,
			build: func(t *testing.T, outside string) []byte {
				return rawPAX(t, paxRecord("path", cachePrefix+"0/a\x00../../../outside/nul-evil"), "0/a", "x")
			}},
		{name: "PAX header bomb", warn: `too large|corrupt|long`,
			build: func(t *testing.T, outside string) []byte {
				return rawPAX(t, paxRecord("comment", strings.Repeat("A", 3<<20)), "0/p", "x")
			}},
		{name: "bomb: a file declaring 1 TiB", warn: `too large|larger`,
			build: func(t *testing.T, outside string) []byte {
				return zstdOf(t, func(w io.Writer) error {
					if _, err := w.Write(rawHeader(cachePrefix+"0/huge", '0', 1<<40)); err != nil {
						return err
					}
					_, err := io.Copy(w, &zeroReader{n: 64 << 20}) // the first 64 MiB of it
					return err
				})
			}},
		{name: "bomb: 4 GiB of zeros after the end of the archive", warn: `after the tar end|corrupt|too large`,
			build: func(t *testing.T, outside string) []byte {
				return zstdOf(t, func(w io.Writer) error {
					if err := tarStream(w, []entry{dir, good}); err != nil {
						return err
					}
					_, err := io.Copy(w, &zeroReader{n: 4 << 30})
					return err
				})
			}},
		{name: "bomb: zstd window of 2 GiB", warn: `too large|window`,
			build: func(t *testing.T, outside string) []byte {
				var tb bytes.Buffer
				if err := tarStream(&tb, []entry{dir, good}); err != nil {
					t.Fatal(err)
				}
				return hugeWindowFrame(tb.Bytes())
			}},
		{name: "not a tar", warn: `corrupt`,
			build: func(t *testing.T, outside string) []byte {
				return zstdOf(t, func(w io.Writer) error { _, err := w.Write(bytes.Repeat([]byte("not a tar header "), 100)); return err })
			}},
		{name: "empty archive", warn: `corrupt|no entries`,
			build: func(t *testing.T, outside string) []byte {
				return zstdOf(t, func(w io.Writer) error { return tar.NewWriter(w).Close() })
			}},
		{name: "no end-of-archive marker", warn: `corrupt|marker`,
			build: func(t *testing.T, outside string) []byte {
				return zstdOf(t, func(w io.Writer) error {
					var tb bytes.Buffer
					if err := tarStream(&tb, []entry{dir, good}); err != nil {
						return err
					}
					_, err := w.Write(tb.Bytes()[:tb.Len()-1024])
					return err
				})
			}},
		{name: "one million tiny entries", warn: `too large|entries`, timeout: 90 * time.Second,
			build: func(t *testing.T, outside string) []byte {
				return millionEntries(t)
			}},
	}
}

// millionEntries streams a tar of one million empty files straight into the
// compressor, never holding the tar itself.
func millionEntries(t *testing.T) []byte {
	t.Helper()
	return zstdOf(t, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := tw.WriteHeader(&tar.Header{Name: cachePrefix, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(1700000000, 0)}); err != nil {
			return err
		}
		for i := 0; i < 1_000_000; i++ {
			h := &tar.Header{Name: fmt.Sprintf("%s%x/%x/%07d", cachePrefix, i%16, i/16%16, i), Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(1700000000, 0)}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		return tw.Close()
	})
}

// hostileTried counts the hostile archives planted.
var hostileTried atomic.Int64

// TestHostileArchives plants each hostile archive in the cache service under
// the job's key: restore must warn, exit 0, leave the cache directory empty,
// write nothing outside its temporary directory, and stay within bounded
// time and memory.
func TestHostileArchives(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			hostileTried.Add(1)
			svc := newService(t, v1)
			j := newJob(t, svc, nil)
			outside := filepath.Join(j.r.Dir, "outside")
			writeTree(t, outside, map[string][]byte{"secret": []byte("keep me")})
			data := c.build(t, outside)
			size := len(data)
			j.seed(data)
			data = nil
			beforeDir := runnerTree(t, j)
			if c.timeout > 0 {
				j.r.Env[jobpkg.TimeoutVar] = c.timeout.String()
			}

			peak := watchMemory()
			s := j.run("restore", nil)
			grown := peak()

			warns := s.Annotations("warning")
			t.Logf("entry of %d bytes; heap grew by at most %d MiB; %q", size, grown>>20, warns)
			if s.Code != 0 || len(warns) != 1 || len(s.Annotations("error")) != 0 {
				t.Fatalf("exit %d, warnings %q; want exit 0 and one warning\n%s", s.Code, warns, s.Stdout)
			}
			if !regexp.MustCompile(`(?i)rejected`).MatchString(warns[0]) || !regexp.MustCompile("(?i)"+c.warn).MatchString(warns[0]) {
				t.Errorf("warning does not say the entry was rejected for /%s/: %q", c.warn, warns[0])
			}
			checkHint(t, warns[0])
			if got := tree(t, j.cacheDir); len(got) != 0 {
				t.Errorf("cache dir is not empty: %v", names(got))
			}
			if d := treeDiff(beforeDir, runnerTree(t, j)); d != "" {
				t.Errorf("restore wrote outside its cache directory (-before +after):\n%s", d)
			}
			j.checkNoLeftovers()
			if grown > 256<<20 {
				t.Errorf("the heap grew by %d MiB during the restore, want at most 256", grown>>20)
			}
		})
	}
}

// runnerTree lists everything under the runner's directory except what a
// restore may write: the cache directory, the state and snapshot files and
// the workflow command files.
func runnerTree(t *testing.T, j *job) map[string]string {
	t.Helper()
	all := tree(t, j.r.Dir)
	for k := range all {
		p := filepath.Join(j.r.Dir, k)
		switch {
		case strings.HasPrefix(p, j.cacheDir+string(filepath.Separator)) || p == j.cacheDir,
			p == filepath.Join(j.root, "state.json"), p == filepath.Join(j.root, "snapshot.txt"),
			strings.HasPrefix(k, "cmdfiles"):
			delete(all, k)
		}
	}
	return all
}

// watchMemory samples the heap until the returned function is called, which
// reports the largest growth over the heap at the start.
func watchMemory() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse + ms.StackInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if v := m.HeapInuse + m.StackInuse; v > base && v-base > peak.Load() {
				peak.Store(v - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
