// Package state is the small JSON file under the action's root that carries facts
// from one step to the next: setup records the installed sccache and the layout,
// restore records what it restored, save reads both for the upload decision and
// the job report. The file lives under the root (not in GITHUB_STATE) so cross
// containers and later steps see it at the same path.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/org/rustcache-action/internal/safefile"
)

// FileName is the state file's name inside the root.
const FileName = "state.json"

// State is everything one step hands to the next.
type State struct {
	// Setup.
	SccacheVersion  string   `json:"sccache_version,omitempty"`
	SccacheTarget   string   `json:"sccache_target,omitempty"`
	SccachePath     string   `json:"sccache_path,omitempty"`
	ContainerTarget string   `json:"container_target,omitempty"`
	Platform        string   `json:"platform,omitempty"`
	CacheDir        string   `json:"cache_dir,omitempty"`
	CacheSize       int64    `json:"cache_size,omitempty"`
	ServerPort      int      `json:"server_port,omitempty"`
	ContainerPort   int      `json:"container_port,omitempty"`
	Cross           []string `json:"cross_configs,omitempty"`
	SetupSeconds    float64  `json:"setup_seconds,omitempty"`
	Downloaded      bool     `json:"downloaded,omitempty"`
	Backend         *Backend `json:"backend,omitempty"`
	// WithoutSccache says why setup went on without sccache (the release
	// could not be downloaded); restore and save then skip.
	WithoutSccache string `json:"without_sccache,omitempty"`

	// CacheTargets and CacheCargoHome record whether the entry carries the
	// target part and cargo home (the cache-targets and cache-cargo-home
	// inputs of restore); save follows them unless its own inputs say
	// otherwise.
	CacheTargets   bool `json:"cache_targets,omitempty"`
	CacheCargoHome bool `json:"cache_cargo_home,omitempty"`

	// Restore.
	Restore *Restore `json:"restore,omitempty"`
}

// Backend records the remote cache backend setup chose.
type Backend struct {
	Kind     string `json:"kind"`
	Active   bool   `json:"active"`              // builds use the store
	ReadOnly bool   `json:"read_only,omitempty"` // sccache never writes to it
	Chain    bool   `json:"chain,omitempty"`     // the local disk cache is its first level
	Describe string `json:"describe,omitempty"`  // backend, address (no credentials), mode
	Fallback string `json:"fallback,omitempty"`  // why the store is not used
	Trust    string `json:"trust,omitempty"`     // why the run counts as untrusted
}

// RemoteOnly reports whether a remote backend holds the sccache cache alone
// (no local first level): the GitHub Actions cache entry then carries no
// sccache entries.
func (s *State) RemoteOnly() bool {
	return s.Backend != nil && s.Backend.Active && !s.Backend.Chain
}

// Archive reports whether restore and save carry an entry through the
// GitHub Actions cache: always, unless a remote backend holds the sccache
// cache alone and neither the target part nor cargo home is carried.
func (s *State) Archive() bool {
	return !s.RemoteOnly() || s.CacheTargets || s.CacheCargoHome
}

// TargetRestore is what restore put back into one target directory.
type TargetRestore struct {
	Dir     string   `json:"dir"`
	Units   []string `json:"units,omitempty"` // "release/serde-<hash>"
	Files   int      `json:"files"`
	Bytes   int64    `json:"bytes"`
	Problem string   `json:"problem,omitempty"`
}

// Restore records the outcome of the restore step.
type Restore struct {
	PrimaryKey   string    `json:"primary_key"`
	RestoreKeys  []string  `json:"restore_keys,omitempty"`
	KeyPrefix    string    `json:"key_prefix"`
	Version      string    `json:"version"`
	MatchedKey   string    `json:"matched_key,omitempty"`
	Exact        bool      `json:"exact"`
	Bytes        int64     `json:"bytes"`
	Files        int       `json:"files"`
	Seconds      float64   `json:"seconds"`
	Protocol     string    `json:"protocol,omitempty"`
	Skipped      string    `json:"skipped,omitempty"` // why restore did not run
	Warning      string    `json:"warning,omitempty"` // a cache fault, already annotated
	At           time.Time `json:"at"`
	SnapshotFile string    `json:"snapshot_file,omitempty"`
	// Targets are the target directories the target part went back into.
	Targets []TargetRestore `json:"targets,omitempty"`
	// CargoHomeFiles counts the files put back into cargo home.
	CargoHomeFiles int `json:"cargo_home_files,omitempty"`
	// Handoff names the step that moves the entry when this program does
	// not (actions/cache/restore); restore-finish completes the record.
	Handoff string `json:"handoff,omitempty"`
}

// Path is the state file's path under root.
func Path(root string) string { return filepath.Join(root, FileName) }

// Load reads the state under root; a missing file gives an empty State.
func Load(root string) (*State, error) {
	b, err := safefile.ReadFile(Path(root))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse state %q: %w", Path(root), err)
	}
	return &s, nil
}

// Save writes the state under root through a temporary file renamed over
// it (a link planted at its name is replaced, not followed), mode 0644: no
// other user may edit what the next step reads.
func Save(root string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return safefile.Write(Path(root), append(b, '\n'), 0o644)
}

// WriteFileAtomic is [safefile.Write]: a temporary file beside path renamed
// over it, with mode (which must not let group or others write).
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) error {
	return safefile.Write(path, data, mode)
}
