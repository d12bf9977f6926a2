package targets

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ErrSymlink marks a target directory (or a directory cargo's layout puts in
// it) that is a symbolic link: it is never followed.
var ErrSymlink = errors.New("is a symbolic link")

// Options tune [Select].
type Options struct {
	// PathPackages are the names of the packages cargo fingerprints by the
	// mtimes of their sources ([Lock.PathPackages]): never carried, and the
	// roots of the dependency graph.
	PathPackages map[string]bool
	// Since is when this job's builds began (the restore). Dependency units
	// written after it are kept even when no root reaches them, and only the
	// path units written after it are roots when there are such; zero means
	// every path unit is a root and nothing is kept by its time.
	Since time.Time
}

// Unit is one carried compilation unit.
type Unit struct {
	// ID is the profile directory and the unit, "release/serde-0123456789abcdef".
	ID string
	// Lib is true for a library target: what a user counts as a crate.
	Lib bool
	// ModTime is the newest modification time of the unit's fingerprint
	// hash files: when cargo last built it.
	ModTime time.Time
}

// Selection is the carried part of one target directory.
type Selection struct {
	// Dir is the target directory.
	Dir string
	// Profiles are the profile directories found, relative to Dir
	// ("release", "aarch64-unknown-linux-gnu/debug").
	Profiles []string
	// Units are the carried units, sorted by ID.
	Units []Unit
	// Files are the carried files, slash-separated and relative to Dir, sorted.
	Files []string
	// Bytes is the size of Files.
	Bytes int64
	// Dropped counts the dependency units present but not used by the
	// current build (not reached from the workspace, not written by this job).
	Dropped int
	// Skipped says what was left out and why: symbolic links, unreadable
	// fingerprints.
	Skipped []string
	// Newest is the latest modification time of Files.
	Newest time.Time
}

// unit is a .fingerprint entry being classified.
type unit struct {
	profile string // its profile directory, relative to the target directory
	name    string // <package>-<hash>
	pkg     string
	hash    string
	lib     bool
	fps     []uint64 // what its hash files hold
	deps    []uint64 // the hash files of its dependencies
	modTime time.Time
}

// startDir inspects the directory a selection starts from (what names it
// in errors): false and no error for a missing one, [ErrSymlink] for a
// link, which is never followed.
func startDir(dir, what string) (bool, error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("could not read %s %q: %w", what, dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, fmt.Errorf("%s %q %w: not carried", what, dir, ErrSymlink)
	case !fi.IsDir():
		return false, fmt.Errorf("%s %q is not a directory", what, dir)
	}
	return true, nil
}

// Select finds every profile directory of the target directory dir and
// chooses in each the units to carry (see the package documentation). A
// missing dir is an empty selection; a dir that is a symbolic link is
// refused with [ErrSymlink].
func Select(dir string, opts Options) (*Selection, error) {
	s := &Selection{Dir: dir}
	if ok, err := startDir(dir, "target directory"); !ok {
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	profiles, err := s.findProfiles()
	if err != nil {
		return nil, err
	}
	// One graph for all profiles: with --target, the units of a target
	// triple's profile depend on build scripts and proc-macros built for the
	// host in target/<profile>.
	var units []*unit
	for _, p := range profiles {
		us, err := s.readUnits(p, filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		units = append(units, us...)
	}
	keep := chooseUnits(units, opts)
	for _, p := range profiles {
		if err := s.selectProfile(p, units, keep, opts); err != nil {
			return nil, err
		}
	}
	sort.Slice(s.Units, func(i, j int) bool { return s.Units[i].ID < s.Units[j].ID })
	sort.Strings(s.Files)
	return s, nil
}

// findProfiles returns the directories holding a .fingerprint directory, one
// or two levels below the target directory.
func (s *Selection) findProfiles() ([]string, error) {
	top, err := s.realDirs("")
	if err != nil {
		return nil, err
	}
	for _, d := range top {
		if s.isProfile(d) {
			s.Profiles = append(s.Profiles, d)
			continue
		}
		subs, err := s.realDirs(d)
		if err != nil {
			return nil, err
		}
		for _, sd := range subs {
			if s.isProfile(sd) {
				s.Profiles = append(s.Profiles, sd)
			}
		}
	}
	return s.Profiles, nil
}

// realDirs lists the directories (not links to them) in rel, slash-separated.
func (s *Selection) realDirs(rel string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", filepath.Join(s.Dir, rel), err)
	}
	var out []string
	for _, e := range ents {
		r := path.Join(rel, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			s.Skipped = append(s.Skipped, r+": symbolic link, not followed")
		case e.IsDir() && rel == "" && (e.Name() == "doc" || e.Name() == "package" || e.Name() == "tmp"):
		case e.IsDir():
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Selection) isProfile(rel string) bool {
	fi, err := os.Lstat(filepath.Join(s.Dir, filepath.FromSlash(rel), ".fingerprint"))
	return err == nil && fi.IsDir()
}

// selectProfile records the carried units of one profile directory and
// their files.
func (s *Selection) selectProfile(profile string, units []*unit, keep map[*unit]bool, opts Options) error {
	pdir := filepath.Join(s.Dir, filepath.FromSlash(profile))
	kept := map[string]bool{}
	for _, u := range units {
		if u.profile != profile || opts.PathPackages[u.pkg] {
			continue
		}
		if !keep[u] {
			s.Dropped++
			continue
		}
		kept[u.hash] = true
		s.Units = append(s.Units, Unit{ID: profile + "/" + u.name, Lib: u.lib, ModTime: u.modTime})
		if err := s.walk(path.Join(profile, ".fingerprint", u.name), nil); err != nil {
			return err
		}
		if err := s.walk(path.Join(profile, "build", u.name), nil); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(filepath.Join(pdir, "deps"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("could not read %q: %w", filepath.Join(pdir, "deps"), err)
	}
	for _, e := range ents {
		if h := fileHash(e.Name()); h != "" && kept[h] {
			if err := s.addFile(path.Join(profile, "deps", e.Name()), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// chooseUnits returns the dependency units the current build used: those
// reached from the roots through the fingerprints' dependency hashes, and
// those written since opts.Since.
func chooseUnits(units []*unit, opts Options) map[*unit]bool {
	byFP := map[uint64][]*unit{}
	var roots, recentRoots []*unit
	for _, u := range units {
		for _, fp := range u.fps {
			byFP[fp] = append(byFP[fp], u)
		}
		if opts.PathPackages[u.pkg] {
			roots = append(roots, u)
			if !opts.Since.IsZero() && !u.modTime.Before(opts.Since) {
				recentRoots = append(recentRoots, u)
			}
		}
	}
	if len(recentRoots) > 0 {
		roots = recentRoots
	}
	keep := map[*unit]bool{}
	var visit func(u *unit)
	visit = func(u *unit) {
		for _, d := range u.deps {
			for _, v := range byFP[d] {
				if !keep[v] {
					keep[v] = true
					visit(v)
				}
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	for _, u := range units {
		if !opts.Since.IsZero() && !u.modTime.Before(opts.Since) && !keep[u] {
			keep[u] = true
			visit(u)
		}
	}
	return keep
}

// readUnits reads the .fingerprint directory of a profile.
func (s *Selection) readUnits(profile, pdir string) ([]*unit, error) {
	fpdir := filepath.Join(pdir, ".fingerprint")
	ents, err := os.ReadDir(fpdir)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", fpdir, err)
	}
	var units []*unit
	for _, e := range ents {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i <= 0 || !isHash(e.Name()[i+1:]) {
			if e.Type()&fs.ModeSymlink != 0 {
				s.Skipped = append(s.Skipped, profile+"/.fingerprint/"+e.Name()+": symbolic link, not followed")
			}
			continue
		}
		u := &unit{profile: profile, name: e.Name(), pkg: e.Name()[:i], hash: e.Name()[i+1:]}
		if err := u.read(filepath.Join(fpdir, e.Name())); err != nil {
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s/.fingerprint/%s: %v", profile, e.Name(), err))
			continue
		}
		units = append(units, u)
	}
	return units, nil
}

// read loads a unit's hash files and the dependency hashes of its JSON
// fingerprints. Cargo writes the hash of a fingerprint as the hex of its
// little-endian bytes, and lists each dependency in the JSON as
// [package id hash, name, public, fingerprint hash].
func (u *unit) read(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || name == "invoked.timestamp" || strings.HasPrefix(name, "dep-") || strings.HasPrefix(name, "output-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if strings.HasSuffix(name, ".json") {
			var fp struct {
				Deps [][4]json.RawMessage `json:"deps"`
			}
			if err := json.Unmarshal(b, &fp); err != nil {
				return fmt.Errorf("fingerprint %s: %w", name, err)
			}
			for _, d := range fp.Deps {
				var h uint64
				if err := json.Unmarshal(d[3], &h); err != nil {
					return fmt.Errorf("fingerprint %s: dependency hash: %w", name, err)
				}
				u.deps = append(u.deps, h)
			}
			continue
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != 8 {
			return fmt.Errorf("hash file %s does not hold 16 hex digits", name)
		}
		u.fps = append(u.fps, binary.LittleEndian.Uint64(raw))
		u.lib = u.lib || strings.HasPrefix(name, "lib-")
		if info, err := e.Info(); err == nil && info.ModTime().After(u.modTime) {
			u.modTime = info.ModTime()
		}
	}
	if len(u.fps) == 0 {
		return errors.New("no fingerprint hash file")
	}
	return nil
}

// isHash reports whether s looks like cargo's 16-digit metadata hash.
func isHash(s string) bool {
	if len(s) != 16 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// fileHash returns the unit hash in a deps file name ("libserde-<hash>.rlib",
// "serde-<hash>.d", "app-<hash>"), or "".
func fileHash(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return ""
	}
	h := name[i+1:]
	if j := strings.IndexByte(h, '.'); j >= 0 {
		h = h[:j]
	}
	if !isHash(h) {
		return ""
	}
	return h
}
