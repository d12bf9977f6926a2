package crossconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/org/rustcache-action/internal/safefile"
	"github.com/org/rustcache-action/internal/workdir"
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
	c, err := prepare(loc, e, mode, create)
	if err != nil || c == nil {
		return false, err
	}
	if err := c.Write(); err != nil {
		return false, err
	}
	return true, nil
}

// Change is a file [Plan] found to need the entries, with its new content.
type Change struct {
	// Path is the file's name as cross reads it (a link stays a link).
	Path string

	target  string // the file written: Path with links resolved
	content []byte
	perm    fs.FileMode
}

// Write replaces the file atomically (a temporary file in the same
// directory, fsync, rename); a link is followed, not replaced.
func (c Change) Write() error { return writeAtomic(c.target, c.content, c.perm) }

// prepare merges e into the configuration at loc without writing; nil means
// nothing changes.
func prepare(loc Location, e Entries, mode createMode, create bool) (*Change, error) {
	path := loc.Path
	prefix := loc.TablePrefix
	content, perm, err := readConfig(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create || loc.Kind == CargoMetadata {
			return nil, nil
		}
		content, perm, prefix = nil, 0o644, ""
	case err != nil:
		return nil, err
	}
	out, changed, err := merge(content, prefix, e, mode)
	if err != nil {
		return nil, withPath(err, path)
	}
	if !changed {
		return nil, nil
	}
	target := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	}
	return &Change{Path: path, target: target, content: out, perm: perm}, nil
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

// Plan computes, without writing anything, how to make cross see the entries for the workspace in dir whichever
// cross release reads it, and returns the files to change with their new content. cross merges its
// sources table by table with arrays replaced whole, and v0.2.5 and main read
// different sources with different precedence (see the package doc), so for
// each of build.env.passthrough and build.env.volumes:
//   - every source that defines the array gets the missing items;
//   - for each of v0.2.5 (standalone file over [package.metadata.cross]) and
//     main ([workspace.metadata.cross], else [package.metadata.cross], over
//     the standalone file) that would find no such array, it is created where
//     that release reads it without hiding an array the user defined
//     elsewhere: the standalone file, else the Cargo.toml table that release
//     reads, else (only when create is true) a new Cross.toml at the path
//     Locate reports.
//
// Existing target env arrays are extended in every source. A malformed
// source is a *ParseError. Every source, and the Cross.toml to create, must
// resolve (links followed) inside scope — the workspace — and the directory
// receiving each change must be writable; otherwise Plan refuses, naming
// the file. With only [workspace.metadata.cross] and create false, cross
// v0.2.5 (which ignores that table) gets nothing.
func Plan(dir, scope string, getenv func(string) string, e Entries, create bool) ([]Change, error) {
	srcs, err := Sources(dir, getenv)
	if err != nil {
		return nil, err
	}
	type source struct {
		loc  Location
		defs createMode // arrays the source defines
		make createMode // arrays to create in it
	}
	var standalone, workspace, pkg *source
	var all []*source
	for _, l := range srcs {
		s := &source{loc: l}
		content, _, err := readConfig(l.Path)
		if err != nil {
			return nil, err
		}
		if s.defs, err = defines(content, l.TablePrefix); err != nil {
			return nil, withPath(err, l.Path)
		}
		switch {
		case l.Kind == CrossToml:
			standalone = s
		case l.TablePrefix == WorkspaceMetadata:
			workspace = s
		default:
			pkg = s
		}
		all = append(all, s)
	}
	// A Cross.toml that does not exist yet: the last resort, when create.
	fresh := &source{loc: Location{Path: configPath(dir, getenv), Kind: CrossToml}}
	if standalone == nil && create {
		all = append([]*source{fresh}, all...)
	}
	meta := workspace // what cross main reads from Cargo.toml
	if meta == nil {
		meta = pkg
	}
	for _, k := range []struct {
		def func(*source) bool
		set func(*source)
	}{
		{func(s *source) bool { return s != nil && s.defs.passthrough }, func(s *source) { s.make.passthrough = true }},
		{func(s *source) bool { return s != nil && s.defs.volumes }, func(s *source) { s.make.volumes = true }},
	} {
		// cross v0.2.5: the standalone file wins over the package table.
		if !k.def(standalone) && !k.def(pkg) {
			switch {
			case standalone != nil:
				k.set(standalone)
			case pkg != nil:
				k.set(pkg)
			default:
				k.set(fresh)
			}
		}
		// cross main: the metadata table wins over the standalone file. An
		// array created in the standalone file would hide a package-table
		// array from v0.2.5.
		if !k.def(standalone) && !k.def(meta) {
			switch {
			case standalone != nil && !k.def(pkg):
				k.set(standalone)
			case meta != nil:
				k.set(meta)
			default:
				k.set(fresh)
			}
		}
	}
	var changes []Change
	for _, s := range all {
		if s.loc.Exists || !s.make.empty() {
			if _, err := workdir.Within(scope, s.loc.Path); err != nil {
				return nil, fmt.Errorf("cross configuration %q is not written: %w (a link or CROSS_CONFIG may not lead out of the workspace)", s.loc.Path, err)
			}
		}
		c, err := prepare(s.loc, e, s.make, !s.loc.Exists)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		if err := safefile.CanWrite(filepath.Dir(c.target)); err != nil {
			return nil, fmt.Errorf("cross configuration %q cannot be written: its directory %q is not writable: %w", c.Path, filepath.Dir(c.target), err)
		}
		// Cargo.toml can hold both tables: one change with both merged.
		if i := changeIndex(changes, c.Path); i >= 0 {
			if c, err = prepareOver(changes[i], s.loc, e, s.make); err != nil {
				return nil, err
			}
			changes[i] = *c
			continue
		}
		changes = append(changes, *c)
	}
	return changes, nil
}

// Ensure is [Plan] with dir as the scope, followed by writing every change;
// it returns the files it changed.
func Ensure(dir string, getenv func(string) string, e Entries, create bool) (changed []string, err error) {
	changes, err := Plan(dir, dir, getenv, e, create)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if err := c.Write(); err != nil {
			return changed, err
		}
		changed = append(changed, c.Path)
	}
	return changed, nil
}

func changeIndex(cs []Change, path string) int {
	for i, c := range cs {
		if c.Path == path {
			return i
		}
	}
	return -1
}

// prepareOver merges e into a file's content already changed by an earlier
// source of the same file (the other metadata table of Cargo.toml).
func prepareOver(prev Change, loc Location, e Entries, mode createMode) (*Change, error) {
	out, changed, err := merge(prev.content, loc.TablePrefix, e, mode)
	if err != nil {
		return nil, withPath(err, loc.Path)
	}
	if changed {
		prev.content = out
	}
	return &prev, nil
}
