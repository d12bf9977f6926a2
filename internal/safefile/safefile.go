// Package safefile writes and reads the files the action keeps under its
// root, a directory that other code can reach: cross mounts it read-write
// into build containers, and on a shared self-hosted runner other local users
// may see it. Every write goes to a fresh temporary file beside the target
// (created exclusively, so a planted name is never opened) that is renamed
// over the target, so a symbolic link planted at the target's name is
// replaced, never written through. Modes with group or other write are
// refused: nothing under the root may be editable by another user.
package safefile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrWritableMode is returned for a mode that lets group or others write.
var ErrWritableMode = errors.New("mode lets group or others write")

// Write replaces path with data, readers seeing the old or the new content,
// never a part. The file gets exactly mode (umask aside, which only removes
// bits).
func Write(path string, data []byte, mode fs.FileMode) error {
	return WriteWith(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith is Write with the content produced by fill, buffered.
func WriteWith(path string, mode fs.FileMode, fill func(io.Writer) error) error {
	if mode&0o022 != 0 {
		return fmt.Errorf("write %q with mode %v: %w", path, mode, ErrWritableMode)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	bw := bufio.NewWriter(f)
	if err := fill(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	// Chmod on the open descriptor: the name could be swapped meanwhile.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("chmod %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename into %q: %w", path, err)
	}
	return nil
}

// Open opens path for reading without following a symbolic link at its last
// element (where the platform allows): a link planted in place of a file the
// action wrote is an error, not another file's content.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")}
	}
	return f, nil
}

// ReadFile reads the whole file at path through Open.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
