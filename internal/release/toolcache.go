package release

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/arch"
)

// manifestName is the file beside the binary that records what was
// installed; the reuse path checks the binary against it.
const manifestName = "install.json"

// reasonMissing is what reuse says when there is no complete entry at all,
// which is not worth a warning.
const reasonMissing = "missing"

// entry is one tool-cache entry: <ToolCache>/sccache/<version>/<target>.
type entry struct {
	version, target, asset string
	versionDir             string // <ToolCache>/sccache/<version without v>
	dir                    string // versionDir/<target>
	marker                 string // versionDir/<target>.complete
	exe                    string // sccache or sccache.exe
}

func (in *Installer) entry(tag, target string) entry {
	vdir := filepath.Join(in.ToolCache, "sccache", strings.TrimPrefix(tag, "v"))
	return entry{
		version:    tag,
		target:     target,
		asset:      AssetName(tag, target),
		versionDir: vdir,
		dir:        filepath.Join(vdir, target),
		marker:     filepath.Join(vdir, target+".complete"),
		exe:        arch.ExeName(target),
	}
}

func (e entry) binary() string { return filepath.Join(e.dir, e.exe) }

// manifest is the content of install.json.
type manifest struct {
	Version       string    `json:"version"`
	Target        string    `json:"target"`
	Asset         string    `json:"asset"`
	URL           string    `json:"url"`
	ArchiveSHA256 string    `json:"archive_sha256"`
	Pinned        bool      `json:"pinned"`
	BinarySHA256  string    `json:"binary_sha256"`
	BinaryBytes   int64     `json:"binary_bytes"`
	InstalledAt   time.Time `json:"installed_at"`
}

// reuse returns the entry's Result when it is complete and intact. Otherwise
// it returns why not: reasonMissing when there is no complete entry, or a
// sentence saying what is wrong with the existing one.
func (e entry) reuse() (Result, string) {
	if _, err := os.Stat(e.marker); err != nil {
		return Result{}, reasonMissing
	}
	data, err := os.ReadFile(filepath.Join(e.dir, manifestName))
	if err != nil {
		return Result{}, "its " + manifestName + " could not be read"
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Result{}, "its " + manifestName + " is not valid JSON"
	}
	if m.Version != e.version || m.Target != e.target || m.Asset != e.asset {
		return Result{}, fmt.Sprintf("its %s describes %s for %s", manifestName, m.Asset, m.Target)
	}
	if want, ok := PinnedDigest(e.version, e.target); ok && m.ArchiveSHA256 != want {
		return Result{}, fmt.Sprintf("it was installed from an archive with sha256 %s, not the built-in %s", m.ArchiveSHA256, want)
	}
	sum, n, err := hashFile(e.binary())
	if err != nil {
		return Result{}, "its binary could not be read"
	}
	if sum != m.BinarySHA256 || n != m.BinaryBytes {
		return Result{}, fmt.Sprintf("its binary changed after it was installed (sha256 %s, recorded %s)", sum, m.BinarySHA256)
	}
	return Result{
		Path:    e.binary(),
		Version: e.version,
		Target:  e.target,
		Asset:   e.asset,
		SHA256:  m.ArchiveSHA256,
		Pinned:  m.Pinned,
	}, ""
}

// commit moves a fully written staging directory into place and then marks
// the entry complete. A previous entry (without marker, or one reuse
// refused) is removed first; its marker goes before anything else so the
// entry is never complete while it changes.
func (e entry) commit(staging string) error {
	// Another install of the same release (a parallel job on this runner)
	// finished first: its verified entry serves, and is not pulled away
	// from under it.
	if _, reason := e.reuse(); reason == "" {
		return nil
	}
	if err := os.Remove(e.marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %q: %w", e.marker, err)
	}
	if err := os.RemoveAll(e.dir); err != nil {
		return fmt.Errorf("remove stale tool-cache entry %q: %w", e.dir, err)
	}
	if err := os.Rename(staging, e.dir); err != nil {
		if errors.Is(err, fs.ErrExist) && e.awaitOther() {
			return nil
		}
		return fmt.Errorf("move sccache into the tool cache at %q: %w", e.dir, err)
	}
	f, err := os.CreateTemp(e.versionDir, "."+e.target+".complete-*")
	if err != nil {
		return fmt.Errorf("mark tool-cache entry complete: %w", err)
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mark tool-cache entry complete: %w", err)
	}
	if err := os.Rename(tmp, e.marker); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mark tool-cache entry complete: %w", err)
	}
	return nil
}

// writeManifest writes install.json into dir.
func writeManifest(dir string, m manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", manifestName, err)
	}
	if err := os.WriteFile(filepath.Join(dir, manifestName), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", manifestName, err)
	}
	return nil
}

// hashFile returns the lowercase hex SHA-256 and size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// awaitOther waits briefly for another install that moved its entry into
// place a moment before this one to mark it complete, and reports whether
// that entry serves.
func (e entry) awaitOther() bool {
	for range 250 {
		if _, reason := e.reuse(); reason == "" {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
