package targets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// SelectCargoHome chooses what the entry carries of the cargo home at home
// for the packages of locks, so a warm job downloads nothing: the registry
// index cache files of those packages (registry/index/*/.cache, found by the
// package name, as rust-cache keeps them), their downloaded .crate files
// (registry/cache/*/<name>-<version>.crate) and the git databases of their
// git sources (git/db/<repository>-<hash>). Never the extracted sources
// (registry/src, git/checkouts, which cargo recreates), credentials,
// configuration or installed binaries. Symbolic links are skipped and
// reported; a missing home is an empty selection.
func SelectCargoHome(home string, locks []*Lock) (*Selection, error) {
	s := &Selection{Dir: home}
	if ok, err := startDir(home, "cargo home"); !ok {
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	names, crates, repos := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range locks {
		for _, p := range l.Packages {
			switch {
			case strings.HasPrefix(p.Source, "registry+"), strings.HasPrefix(p.Source, "sparse+"):
				names[p.Name] = true
				crates[p.Name+"-"+p.Version+".crate"] = true
			case strings.HasPrefix(p.Source, "git+"):
				repos[gitRepoName(p.Source)] = true
			}
		}
	}
	// registry/index/<registry>/.cache/**: files named after a package.
	for _, reg := range s.subdirs("registry/index") {
		if err := s.walk(reg+"/.cache", func(rel string) bool { return names[path.Base(rel)] }); err != nil {
			return nil, err
		}
	}
	// registry/cache/<registry>/<name>-<version>.crate.
	for _, reg := range s.subdirs("registry/cache") {
		if err := s.walk(reg, func(rel string) bool { return path.Dir(rel) == reg && crates[path.Base(rel)] }); err != nil {
			return nil, err
		}
	}
	// git/db/<repository>-<hash>/**.
	for _, db := range s.subdirs("git/db") {
		name := path.Base(db)
		if i := strings.LastIndexByte(name, '-'); i > 0 && repos[name[:i]] {
			if err := s.walk(db, func(string) bool { return true }); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(s.Files)
	return s, nil
}

// gitRepoName is the last path segment of a git source URL, as cargo names
// its database directory before the hash ("git+https://host/o/name.git?rev=x#abc" → "name").
func gitRepoName(source string) string {
	u := strings.TrimPrefix(source, "git+")
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return u[strings.LastIndexByte(u, '/')+1:]
}

// subdirs lists the real directories in rel (slash-separated, relative to
// s.Dir); a missing rel has none.
func (s *Selection) subdirs(rel string) []string {
	ents, err := os.ReadDir(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			s.Skipped = append(s.Skipped, rel+"/"+e.Name()+": symbolic link, not followed")
		case e.IsDir():
			out = append(out, rel+"/"+e.Name())
		}
	}
	return out
}

// walk adds the regular files below rel (slash-separated, relative to the
// selection's directory) that keep accepts (every one when keep is nil),
// if rel exists; symbolic links are skipped and reported.
func (s *Selection) walk(rel string, keep func(rel string) bool) error {
	root := filepath.Join(s.Dir, filepath.FromSlash(rel))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		r, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return err
		}
		r = filepath.ToSlash(r)
		if keep != nil && !keep(r) {
			return nil
		}
		return s.addFile(r, d)
	})
	if err != nil {
		return fmt.Errorf("could not read %q: %w", root, err)
	}
	return nil
}

// addFile adds one regular file (rel to the selection's directory,
// slash-separated); anything else is reported and skipped.
func (s *Selection) addFile(rel string, d fs.DirEntry) error {
	if !d.Type().IsRegular() {
		if d.Type()&fs.ModeSymlink != 0 {
			s.Skipped = append(s.Skipped, rel+": symbolic link, not carried")
		}
		return nil
	}
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("could not read %q: %w", rel, err)
	}
	s.Files = append(s.Files, rel)
	s.Bytes += info.Size()
	if info.ModTime().After(s.Newest) {
		s.Newest = info.ModTime()
	}
	return nil
}
