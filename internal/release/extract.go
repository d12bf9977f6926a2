package release

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/mholt/archives"
	"github.com/org/rustcache-action/arch"
)

// extractBinary copies the one binary of an sccache release archive (already
// verified) to dst and returns its SHA-256 and size. Every entry must lie in
// the release directory sccache-<tag>-<target>/ and be a directory or a
// regular file; the binary must appear exactly once. Nothing but the binary
// is written.
func extractBinary(ctx context.Context, archive *os.File, e entry, dst string) (string, int64, error) {
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("rewind %s: %w", e.asset, err)
	}
	var format archives.Extractor = archives.CompressedArchive{
		Compression: archives.Gz{},
		Extraction:  archives.Tar{},
	}
	if strings.HasSuffix(e.asset, ".zip") {
		format = archives.Zip{}
	}

	top := arch.ArchiveDir(e.version, e.target)
	want := top + "/" + e.exe
	var (
		bad   *ArchiveError // the entry that stopped the walk
		found bool
		sum   string
		size  int64
	)
	reject := func(entry, reason string) error {
		bad = &ArchiveError{Asset: e.asset, Entry: entry, Reason: reason}
		return bad
	}
	err := format.Extract(ctx, archive, func(ctx context.Context, f archives.FileInfo) error {
		name := f.NameInArchive
		clean := path.Clean(strings.TrimPrefix(name, "./"))
		switch {
		case name == "" || strings.ContainsRune(name, '\\') || strings.ContainsRune(name, 0):
			return reject(name, "the name is not a plain relative path")
		case path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../"):
			return reject(name, "the path leaves the archive")
		case clean != top && !strings.HasPrefix(clean, top+"/"):
			return reject(name, "the path is outside "+top+"/")
		}
		if !plainEntry(f) {
			return reject(name, "only directories and regular files are expected (links, devices and pipes are refused)")
		}
		if clean != want {
			return nil // README.md, LICENSE, directories: not extracted
		}
		if f.IsDir() {
			return reject(name, "the binary is a directory")
		}
		if found {
			return reject(name, "the binary appears twice")
		}
		found = true
		if f.Size() > maxBinaryBytes {
			return reject(name, fmt.Sprintf("the binary is larger than %d bytes", maxBinaryBytes))
		}
		var err error
		sum, size, err = writeBinary(f, dst)
		if errors.Is(err, errTooLarge) {
			return reject(name, fmt.Sprintf("the binary is larger than %d bytes", maxBinaryBytes))
		}
		return err
	})
	if bad != nil {
		return "", 0, bad
	}
	if err != nil {
		return "", 0, fmt.Errorf("extract %s from %s: %w", want, e.asset, err)
	}
	if !found {
		return "", 0, &ArchiveError{Asset: e.asset, Reason: "it holds no " + want}
	}
	return sum, size, nil
}

// plainEntry reports whether an archive entry is a directory or a regular
// file (a tar hard link reports a regular mode, so the header decides).
func plainEntry(f archives.FileInfo) bool {
	if h, ok := f.Header.(*tar.Header); ok {
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeDir, '\x00':
		default:
			return false
		}
	}
	if f.LinkTarget != "" {
		return false
	}
	m := f.Mode()
	return m.IsDir() || m.IsRegular()
}

var errTooLarge = errors.New("binary too large")

// writeBinary copies an archive entry to a new executable file at dst.
func writeBinary(f archives.FileInfo, dst string) (string, int64, error) {
	src, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(src, maxBinaryBytes+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	if n > maxBinaryBytes {
		return "", 0, errTooLarge
	}
	// The umask may have taken bits away; the binary must run for the
	// container user too.
	if err := os.Chmod(dst, 0o755); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
