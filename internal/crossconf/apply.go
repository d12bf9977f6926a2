package crossconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Apply merges e into the configuration at loc and writes the file
// atomically (a temporary file in the same directory, fsync, rename; the
// file's mode is kept and a symlink is followed, not replaced). Nothing is
// written when nothing changes. When loc does not exist, Apply creates a
// Cross.toml at loc.Path if create is true and does nothing otherwise. A
// malformed file is a *ParseError naming it; the file is left untouched.
func Apply(loc Location, e Entries, create bool) (changed bool, err error) {
	return apply(loc, e, createMode{passthrough: true, volumes: true}, create)
}

func apply(loc Location, e Entries, mode createMode, create bool) (bool, error) {
	path := loc.Path
	prefix := loc.TablePrefix
	content, perm, err := readConfig(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create || loc.Kind == CargoMetadata {
			return false, nil
		}
		content, perm, prefix = nil, 0o644, ""
	case err != nil:
		return false, err
	}
	out, changed, err := merge(content, prefix, e, mode)
	if err != nil {
		return false, withPath(err, path)
	}
	if !changed {
		return false, nil
	}
	if err := writeAtomic(path, out, perm); err != nil {
		return false, err
	}
	return true, nil
}

// readConfig reads the file at path (following symlinks) and its permission
// bits.
func readConfig(path string) ([]byte, fs.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("stat %q: %w", path, err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read %q: %w", path, err)
	}
	return content, fi.Mode().Perm(), nil
}

// writeAtomic replaces path with content through a temporary file in the
// same directory, so a reader sees the old or the new file, never a mix.
func writeAtomic(path string, content []byte, perm fs.FileMode) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(content); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	// Make the rename durable; not every filesystem supports syncing a
	// directory, and the data is already safe, so errors are ignored.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Ensure makes cross see the entries for the workspace in dir whichever
// source wins in the cross version at hand, and returns the files it
// changed. cross merges its sources table by table with arrays replaced
// whole, and v0.2.5 and main disagree on which source wins (see the package
// doc), so for each of build.env.passthrough and build.env.volumes:
//   - every source that defines the array gets the missing items;
//   - when no source defines it, it is created in the standalone file if that
//     exists, else in every Cargo.toml cross table, else (only when create is
//     true) in a new Cross.toml at the path Locate reports.
//
// Existing target env arrays are extended in every source. All sources are
// checked before anything is written, so a malformed file leaves every file
// untouched.
func Ensure(dir string, getenv func(string) string, e Entries, create bool) (changed []string, err error) {
	srcs, err := Sources(dir, getenv)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		loc, err := Locate(dir, getenv)
		if err != nil {
			return nil, err
		}
		ok, err := Apply(loc, e, create)
		if ok {
			changed = append(changed, loc.Path)
		}
		return changed, err
	}
	defs := make([]createMode, len(srcs))
	var anyDef createMode
	for i, s := range srcs {
		content, _, err := readConfig(s.Path)
		if err != nil {
			return nil, err
		}
		if defs[i], err = defines(content, s.TablePrefix); err != nil {
			return nil, withPath(err, s.Path)
		}
		anyDef.passthrough = anyDef.passthrough || defs[i].passthrough
		anyDef.volumes = anyDef.volumes || defs[i].volumes
	}
	standalone := srcs[0].Kind == CrossToml
	for i, s := range srcs {
		owner := s.Kind == CrossToml || !standalone
		mode := createMode{
			passthrough: defs[i].passthrough || (!anyDef.passthrough && owner),
			volumes:     defs[i].volumes || (!anyDef.volumes && owner),
		}
		ok, err := apply(s, e, mode, false)
		if err != nil {
			return changed, err
		}
		if ok && !contains(changed, s.Path) {
			changed = append(changed, s.Path)
		}
	}
	return changed, nil
}

func contains(list []string, s string) bool {
	_, ok := indexOf(list, s)
	return ok
}
