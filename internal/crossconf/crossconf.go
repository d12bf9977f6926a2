// Package crossconf adds rustcache-action's environment entries to a project's
// cross (cross-rs) configuration without destroying anything the user wrote.
//
// cross reads its configuration from the file named by CROSS_CONFIG, else from
// Cross.toml in the workspace root, and merges it with the `cross` metadata
// tables of the workspace's Cargo.toml (see [Locate] and [Sources] for the
// exact rules of cross v0.2.5 and main). The entries that matter here live in
// `[build.env]`:
//
//	[build.env]
//	passthrough = ["RUSTC_WRAPPER", "SCCACHE_DIR", "SCCACHE_SERVER_PORT=4227"]
//	volumes = ["SCCACHE_DIR"]
//
// Merging splices text into the document instead of re-encoding it, so
// comments, key order, quoting, indentation and line endings survive byte for
// byte; only the new items are written. Merging is idempotent.
//
// Facts about cross that shape the merge (src/config.rs, src/cross_toml.rs,
// src/lib.rs and src/docker/shared.rs at v0.2.5 and main):
//
//   - passthrough lists are summed: a target's `[target.T.env] passthrough`
//     is appended to `[build.env] passthrough`. Volumes are not: a target's
//     `volumes` replaces the build list for that target. Merge therefore also
//     extends every target `env` array that already exists (passthrough too,
//     because cross marks the summing for removal in 0.3.0), and never creates
//     target tables.
//   - Items are NAME or NAME=value; cross splits at the first '=' and
//     refuses CROSS_RUNNER. A volume NAME=path mounts path; a bare NAME mounts
//     the host value of $NAME (skipped when unset), and that path must exist
//     when cross starts (it is canonicalized). v0.2.5 does not set NAME inside
//     the container (main does), so volume names belong in passthrough too.
//   - Sources are merged table by table and an array from the winning source
//     replaces the other sources' array whole (v0.2.5: Cross.toml wins over
//     [package.metadata.cross]; main: Cargo.toml metadata wins over Cross.toml).
//     [Ensure] therefore extends the array in every source that defines it and
//     creates it only where a release would otherwise find none, never where
//     it would hide an array the user wrote in another source.
//   - CROSS_BUILD_ENV_PASSTHROUGH, CROSS_BUILD_ENV_VOLUMES and
//     CROSS_TARGET_<TRIPLE>_ENV_VOLUMES replace the file's lists; see
//     [EnvOverrides].
package crossconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Kind says what kind of file holds a cross configuration.
type Kind int

const (
	// None means no configuration exists; Location.Path is where a Cross.toml
	// would be created.
	None Kind = iota
	// CrossToml is a standalone file: Cross.toml or the file named by
	// CROSS_CONFIG.
	CrossToml
	// CargoMetadata is a `[workspace.metadata.cross]` or
	// `[package.metadata.cross]` table inside Cargo.toml.
	CargoMetadata
)

// String returns a short name for the kind.
func (k Kind) String() string {
	switch k {
	case CrossToml:
		return "cross-toml"
	case CargoMetadata:
		return "cargo-metadata"
	default:
		return "none"
	}
}

// Prefixes of the cross tables in Cargo.toml.
const (
	WorkspaceMetadata = "workspace.metadata.cross"
	PackageMetadata   = "package.metadata.cross"
)

// Location is one place cross reads configuration from.
type Location struct {
	// Path of the file (for None: where Cross.toml would be created).
	Path string
	// Kind of file.
	Kind Kind
	// Exists reports whether the file exists and, for CargoMetadata, whether
	// it contains the table.
	Exists bool
	// TablePrefix is "" for a standalone file, else WorkspaceMetadata or
	// PackageMetadata: the table under which cross's keys live.
	TablePrefix string
}

// Entries are the items to add to `build.env`.
type Entries struct {
	// Passthrough items: variable names, or NAME=value literals that set the
	// variable inside the container to value.
	Passthrough []string
	// Volumes items: names of variables whose host value is a directory to
	// mount read-write at the same path (NAME=path also works).
	Volumes []string
	// Replaceable reports whether an existing NAME=value item was written by
	// an earlier run and may be replaced in place by a different item for the
	// same NAME. Nil means no: an existing item for the same NAME always wins,
	// whatever its value, and ours is not added (the user's word is final).
	Replaceable func(existing string) bool
}

// ParseError is a configuration file cross cannot use: malformed TOML, or a
// value of the wrong type under a key cross reads. The file is left untouched.
type ParseError struct {
	// Path of the file ("" when merging bytes without a file).
	Path string
	// Line and Column (1-based, columns in bytes) of the offending text; 0
	// when unknown.
	Line, Column int
	// Key is the dotted key concerned, when known.
	Key string
	// Msg describes the problem.
	Msg string
}

// Error formats the error as path:line:col: message.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func withPath(err error, path string) error {
	var pe *ParseError
	if errors.As(err, &pe) && pe.Path == "" {
		cp := *pe
		cp.Path = path
		return &cp
	}
	return err
}

// configPath returns the standalone configuration path cross uses for dir and
// whether it came from CROSS_CONFIG. A relative CROSS_CONFIG is resolved
// against dir (cross resolves it against its own working directory, which is
// the workspace directory when cross is run there).
func configPath(dir string, getenv func(string) string) string {
	if p := getenv("CROSS_CONFIG"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return p
	}
	return filepath.Join(dir, "Cross.toml")
}

// Sources lists every existing place cross reads configuration from for the
// workspace in dir, in this order: the standalone file (CROSS_CONFIG if set,
// else dir/Cross.toml; when CROSS_CONFIG is set cross never reads
// dir/Cross.toml), then `[workspace.metadata.cross]` and
// `[package.metadata.cross]` in dir/Cargo.toml. cross v0.2.5 reads only the
// package table; main reads the workspace table and, only when that is
// absent, the members' package tables. Members' own manifests are not
// inspected here. A malformed Cargo.toml is a *ParseError.
func Sources(dir string, getenv func(string) string) ([]Location, error) {
	var out []Location
	cfg := configPath(dir, getenv)
	ok, err := isFile(cfg)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, Location{Path: cfg, Kind: CrossToml, Exists: true})
	}
	cargo := filepath.Join(dir, "Cargo.toml")
	content, err := os.ReadFile(cargo)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", cargo, err)
	}
	tree, err := decode(content)
	if err != nil {
		return nil, withPath(err, cargo)
	}
	for _, prefix := range []string{WorkspaceMetadata, PackageMetadata} {
		if _, found := lookup(tree, splitPrefix(prefix)); found {
			out = append(out, Location{Path: cargo, Kind: CargoMetadata, Exists: true, TablePrefix: prefix})
		}
	}
	return out, nil
}

// Locate finds the configuration cross reads first for the workspace in dir:
// the standalone file if it exists, else `[workspace.metadata.cross]`, else
// `[package.metadata.cross]` in dir/Cargo.toml. When there is none it returns
// Kind None, Exists false and the path where a Cross.toml would go (the
// CROSS_CONFIG path when that variable is set). getenv is os.Getenv in
// production.
func Locate(dir string, getenv func(string) string) (Location, error) {
	srcs, err := Sources(dir, getenv)
	if err != nil {
		return Location{}, err
	}
	if len(srcs) > 0 {
		return srcs[0], nil
	}
	return Location{Path: configPath(dir, getenv), Kind: None}, nil
}

// EnvOverrides returns the variables set in the environment that make cross
// ignore the configuration files' passthrough or volumes lists, for the given
// target triples: CROSS_BUILD_ENV_PASSTHROUGH replaces every passthrough list
// (build and target), CROSS_BUILD_ENV_VOLUMES replaces the build volumes, and
// CROSS_TARGET_<TRIPLE>_ENV_VOLUMES replaces all volumes for that target.
// (CROSS_TARGET_<TRIPLE>_ENV_PASSTHROUGH alone is ignored by cross, so it is
// not reported.) Entries merged into files have no effect while these are set.
func EnvOverrides(getenv func(string) string, targets ...string) []string {
	names := []string{"CROSS_BUILD_ENV_PASSTHROUGH", "CROSS_BUILD_ENV_VOLUMES"}
	for _, t := range targets {
		names = append(names, "CROSS_TARGET_"+strings.ToUpper(strings.ReplaceAll(t, "-", "_"))+"_ENV_VOLUMES")
	}
	var set []string
	for _, n := range names {
		if _, dup := indexOf(set, n); !dup && getenv(n) != "" {
			set = append(set, n)
		}
	}
	return set
}

func indexOf(list []string, s string) (int, bool) {
	for i, v := range list {
		if v == s {
			return i, true
		}
	}
	return -1, false
}

func isFile(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %q: %w", path, err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("cross configuration %q is a directory", path)
	}
	return true, nil
}

func splitPrefix(prefix string) []string {
	if prefix == "" {
		return nil
	}
	return strings.Split(prefix, ".")
}
