package archive

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrUnsafe marks an archive that tries to do something this package never
// does: write outside the destination, create symbolic links, hard links to
// anything but its own files, devices or FIFOs, or expand past the configured
// limits. Callers treat it like a cache miss with a
// warning: the destination was left untouched.
var ErrUnsafe = errors.New("unsafe archive")

// ErrTooLarge marks an archive that goes past one of the limits of
// [ExtractOptions]: file bytes, entries, zstd window, or tar metadata out of
// proportion to the entries. It wraps [ErrUnsafe], so errors.Is(err,
// ErrUnsafe) holds for it too.
var ErrTooLarge = fmt.Errorf("%w: archive too large", ErrUnsafe)

// ErrCorrupt marks an archive whose bytes are damaged: a zstd or checksum
// error, a truncated stream, a malformed tar header or a missing end marker.
// Like [ErrUnsafe], it means the destination was left untouched.
var ErrCorrupt = errors.New("corrupt archive")

// Stats counts what an archive holds or held.
type Stats struct {
	// Files counts regular files, hard links included. Extract counts
	// entries as archived: a name stored twice counts twice.
	Files int
	// Dirs counts directories, the root directory included.
	Dirs int
	// Bytes is the total uncompressed size of the regular files.
	Bytes int64
	// Skipped counts what [Write] left out: entries refused by
	// [WriteOptions.Skip], files that are neither regular nor directories,
	// and files that vanished while the directory was read.
	Skipped int
}

// prefixFor returns the slash-separated name of dir relative to base, as
// actions/cache writes it into its manifest ("." when they are equal, a
// "../"-prefixed name when dir lies outside base). Both must be absolute.
func prefixFor(dir, base string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("directory %q is not an absolute path", dir)
	}
	if !filepath.IsAbs(base) {
		return "", fmt.Errorf("workspace %q is not an absolute path", base)
	}
	rel, err := filepath.Rel(filepath.Clean(base), filepath.Clean(dir))
	if err != nil {
		return "", fmt.Errorf("name %q relative to %q: %w", dir, base, err)
	}
	return filepath.ToSlash(rel), nil
}

// resolve maps an archive entry name to a path relative to dir, in the form
// filepath uses, after joining it to base the way tar -P -C base would. It
// returns "." for dir itself and ErrUnsafe for absolute names and names that
// resolve outside dir.
func resolve(name, dir, base string) (string, error) {
	trimmed := strings.TrimRight(name, "/")
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty entry name", ErrUnsafe)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: entry name %q contains NUL", ErrUnsafe, name)
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(trimmed) != "":
		return "", fmt.Errorf("%w: absolute entry name %q", ErrUnsafe, name)
	}
	joined := filepath.Join(base, filepath.FromSlash(trimmed))
	rel, err := filepath.Rel(dir, joined)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: entry %q resolves to %q, outside %q", ErrUnsafe, name, joined, dir)
	}
	return rel, nil
}
