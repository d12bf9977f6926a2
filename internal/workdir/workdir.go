// Package workdir resolves the working-directory input, the one rule setup,
// restore and save share: a relative directory starts at GITHUB_WORKSPACE
// and must stay inside it, after cleaning and after resolving symbolic
// links; an absolute directory is the user's explicit choice and taken as
// given. Either must exist and be a directory.
package workdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/inputs"
)

// Input is the name of the input this package reads.
const Input = "working-directory"

// ErrOutside means a path leaves the directory it must stay in.
var ErrOutside = errors.New("outside")

// Read reads the working-directory input (one directory a line, "." by
// default) and resolves each line against workspace; bad values are
// recorded in r.
func Read(r *inputs.Reader, workspace string) []string {
	dirs := r.Lines(Input, []string{"."}, false)
	for i, d := range dirs {
		res, err := Resolve(workspace, d)
		r.Check(err == nil, Input, d, fmt.Sprint(err))
		if err == nil {
			dirs[i] = res
		}
	}
	return dirs
}

// Resolve returns the absolute, cleaned path of the working directory dir:
// an absolute dir as given, a relative one joined to workspace, which it may
// not climb out of (by "..", or by a symbolic link leading elsewhere). The
// error says what is accepted.
func Resolve(workspace, dir string) (string, error) {
	const want = "expected an existing directory (relative paths start at GITHUB_WORKSPACE)"
	path := filepath.Clean(dir)
	if !filepath.IsAbs(path) {
		path = filepath.Join(workspace, path)
		if _, err := Within(workspace, path); err != nil {
			return "", fmt.Errorf("expected a directory inside GITHUB_WORKSPACE %q, not one that climbs out of it (%v); an absolute path is taken as given", workspace, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return "", errors.New(want)
	}
	return path, nil
}

// Within returns the real path of path (symbolic links resolved; for a path
// that does not exist yet, its parent's real path joined with its name) and
// an error wrapping ErrOutside when that real path is not base or below the
// real path of base. A link that points nowhere is an error too.
func Within(base, path string) (string, error) {
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("could not resolve %q: %w", base, err)
	}
	real, err := realPath(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(realBase, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		if real != filepath.Clean(path) {
			return real, fmt.Errorf("%q resolves to %q, %w %q", path, real, ErrOutside, realBase)
		}
		return real, fmt.Errorf("%q is %w %q", path, ErrOutside, realBase)
	}
	return real, nil
}

// realPath resolves the links of path; a missing last element is allowed
// (it gets its parent's real path), a link to nothing is not.
func realPath(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		return real, nil
	}
	if fi, lerr := os.Lstat(path); lerr == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("%q is a symbolic link to something that does not exist", path)
		}
		return "", fmt.Errorf("could not resolve %q: %w", path, err)
	}
	parent, err := realPath(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	return filepath.Join(parent, filepath.Base(path)), nil
}

// Scope is the directory whose files setup may write for the working
// directory dir: the workspace when dir lies inside it, else dir itself (an
// absolute working directory elsewhere, the user's explicit choice).
func Scope(workspace, dir string) string {
	if workspace != "" {
		if _, err := Within(workspace, dir); err == nil {
			return workspace
		}
	}
	return dir
}
