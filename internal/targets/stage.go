package targets

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/org/rustcache-action/internal/safefile"
)

// ManifestFile names, in a staging directory, the JSON list that maps each
// numbered subdirectory to the target directory it came from.
const ManifestFile = "dirs.json"

// manifestEntry is one staged target directory.
type manifestEntry struct {
	// N is the subdirectory holding it.
	N string `json:"n"`
	// Dir is the target directory relative to the workspace, slash-separated
	// (absolute when outside it).
	Dir string `json:"dir"`
}

// cacheDirTag is what cargo writes into the target directories it creates.
const cacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by cargo.\n" +
	"# For information about cache directory tags see https://bford.info/cachedir/\n"

// Stage writes the selected files of every selection to dest: hard links
// where the file system allows, else copies with their modes and
// modification times, in dest/<n>/, plus the manifest naming each one's
// target directory relative to workspace. The files are written into a new
// directory beside dest that then replaces it, so two saves sharing a root
// (two jobs on one self-hosted runner) never write into each other's
// staging, and a reader sees a complete staging, old or new.
func Stage(dest, workspace string, sels []*Selection) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+"-*")
	if err != nil {
		return fmt.Errorf("could not create a staging directory beside %q: %w", dest, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("could not create %q: %w", tmp, err)
	}
	if err := stageInto(tmp, workspace, sels); err != nil {
		return err
	}
	return swapDir(tmp, dest)
}

// stageInto writes the selections and the manifest into the new directory
// dir.
func stageInto(dir, workspace string, sels []*Selection) error {
	var man []manifestEntry
	for i, s := range sels {
		n := strconv.Itoa(i)
		man = append(man, manifestEntry{N: n, Dir: relName(workspace, s.Dir)})
		for _, f := range s.Files {
			src := filepath.Join(s.Dir, filepath.FromSlash(f))
			dst := filepath.Join(dir, n, filepath.FromSlash(f))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("could not create %q: %w", filepath.Dir(dst), err)
			}
			if err := os.Link(src, dst); err == nil {
				continue
			}
			if err := copyFile(src, dst); err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", ManifestFile, err)
	}
	return safefile.Write(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// swapDir puts the directory next in the place of dest (which may be
// missing, or a link or file planted there): dest is moved aside and
// removed, and next renamed into place. When another Stage swaps at the
// same moment, one of them wins and the other tries again, a bounded number
// of times.
func swapDir(next, dest string) error {
	var err error
	for range 10 {
		old := next + ".old"
		if rerr := os.Rename(dest, old); rerr == nil {
			os.RemoveAll(old)
		} else if !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("could not replace %q: %w", dest, rerr)
		}
		if err = os.Rename(next, dest); err == nil {
			return nil
		}
	}
	return fmt.Errorf("could not put the staging in place at %q: %w", dest, err)
}

// relName names a target directory in the manifest.
func relName(workspace, dir string) string {
	if rel, err := filepath.Rel(workspace, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(dir)
}

// copyFile copies a regular file with its permission bits and times.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("could not read %q: %w", src, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("could not read %q: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return fmt.Errorf("could not create %q: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("could not copy %q: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("could not write %q: %w", dst, err)
	}
	if err := os.Chtimes(dst, fi.ModTime(), fi.ModTime()); err != nil {
		return fmt.Errorf("could not set the times of %q: %w", dst, err)
	}
	return nil
}

// Restored is what [Restore] put back into one target directory.
type Restored struct {
	// Dir is the target directory.
	Dir string
	// Units are the IDs ("release/serde-<hash>") of the units whose
	// fingerprint was put in place.
	Units []string
	// Files and Bytes count the files moved in.
	Files int
	Bytes int64
	// Existing counts files left alone because the target directory
	// already had them.
	Existing int
	// Problem, when set, says why the restore of this directory stopped
	// early (a read-only target directory, a symbolic link in the way); the
	// units not put in place are rebuilt by cargo.
	Problem string
}

// Restore moves what [Stage] wrote under src into the target directories
// dirs (absolute) whose manifest names match, keeping modification times
// (cargo compares them), and then removes src. Files already present are left
// alone; nothing is created through a symbolic link. Within a profile, a
// unit's fingerprint is moved after its artifacts, so a restore cut short
// leaves units that cargo rebuilds, never a fingerprint without its files.
// A fault in one target directory is reported in its [Restored.Problem];
// only a damaged staging directory is an error. With tag, a directory of
// dirs that Restore creates gets cargo's CACHEDIR.TAG (target directories).
func Restore(src, workspace string, dirs []string, tag bool) ([]Restored, error) {
	defer os.RemoveAll(src)
	b, err := os.ReadFile(filepath.Join(src, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", filepath.Join(src, ManifestFile), err)
	}
	var man []manifestEntry
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("could not parse %q: %w", filepath.Join(src, ManifestFile), err)
	}
	staged := map[string]string{}
	for _, m := range man {
		if m.N == "" || strings.ContainsAny(m.N, `/\.`) {
			return nil, fmt.Errorf("%q names the staged directory %q", filepath.Join(src, ManifestFile), m.N)
		}
		staged[m.Dir] = filepath.Join(src, m.N)
	}
	var out []Restored
	for _, d := range dirs {
		from, ok := staged[relName(workspace, d)]
		if !ok {
			continue
		}
		r := Restored{Dir: d}
		if err := r.move(from, d, tag); err != nil {
			r.Problem = err.Error()
		}
		out = append(out, r)
	}
	return out, nil
}

// move puts the files below from into dir.
func (r *Restored) move(from, dir string, tag bool) error {
	var files []string
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(from, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("could not read the staged files: %w", err)
	}
	// Fingerprints last: sort by (profile, fingerprint?, path).
	sort.SliceStable(files, func(i, j int) bool {
		fi, fj := isFingerprint(files[i]), isFingerprint(files[j])
		if fi != fj {
			return fj
		}
		return files[i] < files[j]
	})
	mk := &dirMaker{base: dir, tag: tag, made: map[string]bool{}}
	units := map[string]bool{}
	for _, f := range files {
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := mk.parents(f); err != nil {
			return err
		}
		if _, err := os.Lstat(dst); err == nil {
			r.Existing++
			continue
		}
		fi, err := os.Lstat(filepath.Join(from, filepath.FromSlash(f)))
		if err != nil {
			return fmt.Errorf("could not read the staged %q: %w", f, err)
		}
		if err := moveFile(filepath.Join(from, filepath.FromSlash(f)), dst); err != nil {
			return err
		}
		r.Files++
		r.Bytes += fi.Size()
		if id, ok := unitOf(f); ok && !units[id] {
			units[id] = true
			r.Units = append(r.Units, id)
		}
	}
	return nil
}

// isFingerprint reports whether a staged path is inside a .fingerprint directory.
func isFingerprint(rel string) bool {
	return strings.Contains("/"+rel, "/.fingerprint/")
}

// unitOf returns "profile/unit" for a path profile/.fingerprint/unit/file.
func unitOf(rel string) (string, bool) {
	i := strings.Index(rel, "/.fingerprint/")
	if i < 0 {
		return "", false
	}
	rest := rel[i+len("/.fingerprint/"):]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return "", false
	}
	return rel[:i] + "/" + rest[:j], true
}

// moveFile renames src to dst, or copies it (times kept) across file systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EXDEV) {
		return fmt.Errorf("could not write %q: %w", dst, err)
	}
	return copyFile(src, dst)
}

// dirMaker creates directories below base one component at a time and
// refuses to go through a symbolic link or a non-directory; base itself is
// created when missing.
type dirMaker struct {
	base string
	tag  bool // write CACHEDIR.TAG into a created base
	made map[string]bool
}

func (m *dirMaker) parents(rel string) error {
	if !m.made["."] {
		if err := m.one(m.base); err != nil {
			return err
		}
		m.made["."] = true
	}
	dir := path.Dir(rel)
	if dir == "." || m.made[dir] {
		return nil
	}
	if err := m.parents(dir); err != nil {
		return err
	}
	if err := m.one(filepath.Join(m.base, filepath.FromSlash(dir))); err != nil {
		return err
	}
	m.made[dir] = true
	return nil
}

func (m *dirMaker) one(p string) error {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("could not create %q: %w", p, err)
		}
		if p == m.base && m.tag {
			_ = os.WriteFile(filepath.Join(p, "CACHEDIR.TAG"), []byte(cacheDirTag), 0o644)
		}
		return nil
	case err != nil:
		return fmt.Errorf("could not read %q: %w", p, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%q %w: nothing is restored through it", p, ErrSymlink)
	case !fi.IsDir():
		return fmt.Errorf("%q is not a directory", p)
	}
	return nil
}
