package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/org/rustcache-action/internal/workload"
)

const hexDigits = "0123456789abcdef"

// entryName returns a path below dir laid out as sccache's disk cache lays
// out its entries: a 64-digit hex hash below two levels of one-digit
// directories named by its first two digits.
func entryName(dir string, rng *rand.Rand) string {
	name := make([]byte, 64)
	for i := range name {
		name[i] = hexDigits[rng.IntN(16)]
	}
	return filepath.Join(dir, string(name[0:1]), string(name[1:2]), string(name))
}

// treeInfo is what a generated or scanned tree holds.
type treeInfo struct {
	files int
	bytes int64
}

// makeSccacheLike fills dir with about total bytes in files of 10 KB to 2 MB
// (eight in ten below 100 KB, the rest up to 2 MB; sccache's rlib and rmeta
// entries), named like sccache's entries. sccache compresses every entry with
// zstd, so the contents are incompressible except for a short readable
// header. The same seed gives the same tree.
func makeSccacheLike(dir string, total int64, seed uint64) (treeInfo, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var info treeInfo
	for info.bytes < total {
		size := 10<<10 + rng.IntN(90<<10)
		if rng.IntN(10) >= 8 {
			size = 100<<10 + rng.IntN(1948<<10)
		}
		if err := writeEntry(entryName(dir, rng), size, rng); err != nil {
			return info, err
		}
		info.files++
		info.bytes += int64(size)
	}
	return info, nil
}

// makeSmallFiles fills dir with count files of minSize to maxSize bytes,
// named like sccache's entries: the per-file costs, not the bytes.
func makeSmallFiles(dir string, count, minSize, maxSize int, seed uint64) (treeInfo, error) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var info treeInfo
	for range count {
		size := minSize + rng.IntN(maxSize-minSize+1)
		if err := writeEntry(entryName(dir, rng), size, rng); err != nil {
			return info, err
		}
		info.files++
		info.bytes += int64(size)
	}
	return info, nil
}

// header is the readable start of every generated entry (a twentieth of
// it at most), like the uncompressed framing of sccache's entries.
const header = "_ZN4core3fmt5Write9write_str17h0123456789abcdefE"

func writeEntry(p string, size int, rng *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	body := make([]byte, size)
	text := min(size/20, 4096)
	for i := range text {
		body[i] = header[i%len(header)]
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], rng.Uint64())
	binary.LittleEndian.PutUint64(seed[8:], rng.Uint64())
	rand.NewChaCha8(seed).Read(body[text:])
	return os.WriteFile(p, body, 0o644)
}

// treeSum is a digest of a tree's regular files: their names relative to
// the tree, sizes and contents, in walk order.
type treeSum struct {
	treeInfo
	digest [sha256.Size]byte
}

// sumTree digests dir. Directories take part by their names only, through
// the files below them.
func sumTree(dir string) (treeSum, error) {
	var s treeSum
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", rel)
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "\x00%d\x00", n)
		s.files++
		s.bytes += n
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("digest %q: %w", dir, err)
	}
	copy(s.digest[:], h.Sum(nil))
	return s, nil
}

// sameTree returns an error when got differs from want.
func sameTree(want treeSum, got string) error {
	s, err := sumTree(got)
	if err != nil {
		return err
	}
	if s != want {
		return fmt.Errorf("%q holds %d files, %d bytes (digest %x), want %d files, %d bytes (digest %x)",
			got, s.files, s.bytes, s.digest[:6], want.files, want.bytes, want.digest[:6])
	}
	return nil
}

// copyTree copies the directories and regular files of src to dst (which
// must not exist), keeping modes and modification times.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(out, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			if err := workload.CopyFile(p, out, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chtimes(out, info.ModTime(), info.ModTime())
		default:
			return nil
		}
	})
}
