// Package rootdir is the layout of the action's root directory (input
// cache-root) and the rules that keep it the action's own:
//
//	<root>/.rustcache-root   marker: setup created or already owns this root
//	<root>/bin/sccache[.exe] the binary RUSTC_WRAPPER names, the only one
//	                         restore and save ever run
//	<root>/cache/            SCCACHE_DIR
//
// A root is only used when it is missing, empty, or carries the marker, so a
// cache-root pointing at the repository or any other directory with content
// is refused before anything in it is touched. It must belong to the job's
// user, and everything in it is kept free of group and other write, so
// another local user of a shared runner cannot edit what the action later
// runs or restores.
package rootdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/safefile"
)

// MarkerFile is the name of the file that marks a root as the action's.
const MarkerFile = ".rustcache-root"

const markerText = "This directory is a cache root of rustcache-action; its contents are replaced and deleted by the action.\n"

// ErrForeign means the root holds files the action did not put there.
var ErrForeign = errors.New("not empty and not created by rustcache-action")

// Bin is the directory of the installed binaries.
func Bin(root string) string { return filepath.Join(root, "bin") }

// Cache is the sccache disk cache directory (SCCACHE_DIR).
func Cache(root string) string { return filepath.Join(root, "cache") }

// Sccache is where setup installs sccache for the release target: the only
// sccache restore and save run, never a path read back from a file.
func Sccache(root, target string) string { return filepath.Join(Bin(root), arch.ExeName(target)) }

// Owned reports whether root carries the marker setup writes (a regular
// file, not a link).
func Owned(root string) bool {
	fi, err := os.Lstat(filepath.Join(root, MarkerFile))
	return err == nil && fi.Mode().IsRegular()
}

// Check reports, without writing anything, whether setup may use root: a
// missing root needs a writable directory above it; an existing one must be
// a directory of this user, writable, and empty or marked as the action's.
func Check(root string) error {
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return checkParent(root)
	}
	if err != nil {
		return fmt.Errorf("could not inspect %q: %w", root, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%q is not a directory", root)
	}
	if err := ownedByUs(root, fi); err != nil {
		return err
	}
	if !Owned(root) {
		ents, err := os.ReadDir(root)
		if err != nil {
			return fmt.Errorf("could not list %q: %w", root, err)
		}
		if len(ents) > 0 {
			return fmt.Errorf("%q is %w (it has no %s, and holds %s): choose a new or empty directory", root, ErrForeign, MarkerFile, ents[0].Name())
		}
	}
	if err := safefile.CanWrite(root); err != nil {
		return fmt.Errorf("%q is not writable: %w", root, err)
	}
	return nil
}

// NotDirectory reports a root that can never be one: the path itself, or a
// directory above it, is an existing non-directory (a cache-root under a
// regular file). A missing root is no error here.
func NotDirectory(root string) error {
	for d := root; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("%q is not a directory", d)
		case err == nil:
			return nil
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// checkParent finds the nearest existing directory above a missing root and
// checks it can receive the root.
func checkParent(root string) error {
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("cannot create %q: %q is not a directory", root, d)
		case err == nil:
			if err := safefile.CanWrite(d); err != nil {
				return fmt.Errorf("cannot create %q: %q is not writable: %w", root, d, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("cannot create %q: %w", root, err)
		}
		if filepath.Dir(d) == d {
			return fmt.Errorf("cannot create %q: no directory above it exists", root)
		}
	}
}

// Prepare creates the layout under root after Check passed: the root and
// its marker, bin/ and cache/ as real directories of mode 0755 (a link or
// file planted in their place, e.g. by a build inside a container, is
// removed first, so nothing is installed through it), and group and other
// write removed from directories the action owns.
func Prepare(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("create %q: %w", root, err)
	}
	if err := dropWrite(root); err != nil {
		return err
	}
	if !Owned(root) {
		if err := safefile.Write(filepath.Join(root, MarkerFile), []byte(markerText), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{Bin(root), Cache(root)} {
		if err := RealDir(d); err != nil {
			return err
		}
	}
	return nil
}

// RealDir makes sure dir is a directory and not a link to one: a link or
// file in its place is removed and a directory of mode 0755 created; an
// existing directory loses group and other write.
func RealDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case err == nil && fi.IsDir():
		return dropWrite(dir)
	case err == nil:
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("remove %q, which is not a directory: %w", dir, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("could not inspect %q: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create %q: %w", dir, err)
	}
	return nil
}

// dropWrite removes group and other write from a directory.
func dropWrite(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("could not inspect %q: %w", dir, err)
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		if err := os.Chmod(dir, m&^0o022); err != nil {
			return fmt.Errorf("chmod %q: %w", dir, err)
		}
	}
	return nil
}

// Installed reports whether path is a binary restore and save may run: a
// regular file (not a link) of this user that group and others cannot
// write.
func Installed(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("sccache is not installed at %q: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file (%v): not running it", path, fi.Mode().Type())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%q can be written by group or others (mode %v): not running it", path, fi.Mode().Perm())
	}
	return ownedByUs(path, fi)
}
