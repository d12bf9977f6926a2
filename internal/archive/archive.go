package archive

import (
	"errors"
	"fmt"
	"path"
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

// checkName rejects the entry names no archive of a directory holds: empty
// names, names with NUL, and absolute names.
func checkName(name string) error {
	trimmed := strings.TrimRight(name, "/")
	switch {
	case name == "":
		return fmt.Errorf("%w: empty entry name", ErrUnsafe)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: entry name %q contains NUL", ErrUnsafe, name)
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(trimmed) != "":
		return fmt.Errorf("%w: absolute entry name %q", ErrUnsafe, name)
	}
	return nil
}

// entryNames maps the entry names of one archive to paths below the
// directory it is extracted to. Names are relative to the workspace, and the
// directory's own name is the prefix of every entry: the directory's path
// relative to the extracting job's workspace, to begin with. An archive of a
// directory (what [Write] and actions/cache make) begins with the directory
// itself; when that first entry is a directory at another place, the archive
// was saved with the directory elsewhere relative to its workspace (another
// RUNNER_TEMP, another cache-root, another workspace), and its first entry's
// name becomes the prefix: the entry is extracted by its own layout.
type entryNames struct {
	root string // the archived directory's name, cleaned ("." for the workspace itself)
}

// newEntryNames expects the archived directory at dir relative to base.
func newEntryNames(dir, base string) (entryNames, error) {
	prefix, err := prefixFor(dir, base)
	if err != nil {
		return entryNames{}, err
	}
	return entryNames{root: path.Clean(prefix)}, nil
}

// first sees the archive's first entry: one inside the expected directory
// keeps the expectation, a directory elsewhere becomes the archive's root.
func (l *entryNames) first(name string, isDir bool) error {
	_, err := l.rel(name)
	if err == nil || !isDir || checkName(name) != nil {
		return err
	}
	l.root = path.Clean(name)
	return nil
}

// rel maps an entry name to a path relative to the destination, in the form
// filepath uses: "." for the archived directory itself, and ErrUnsafe for a
// name outside it.
func (l *entryNames) rel(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	clean := path.Clean(name)
	var rest string
	switch {
	case clean == l.root:
		return ".", nil
	case l.root == ".":
		rest = clean
	case strings.HasPrefix(clean, l.root+"/"):
		rest = clean[len(l.root)+1:]
	default:
		return "", fmt.Errorf("%w: entry %q lies outside the archived directory %q", ErrUnsafe, name, l.root)
	}
	if !filepath.IsLocal(filepath.FromSlash(rest)) || !isLocalSlash(rest) {
		return "", fmt.Errorf("%w: entry %q lies outside the archived directory %q", ErrUnsafe, name, l.root)
	}
	return filepath.FromSlash(rest), nil
}

// isLocalSlash reports whether a cleaned slash-separated path stays below its
// base: neither ".." nor starting with "../".
func isLocalSlash(p string) bool {
	return p != ".." && !strings.HasPrefix(p, "../")
}
