// Package workload prepares throw-away copies of the project's realistic Rust
// workload (testdata/workload: the logstat binary crate and three workspace
// library crates using regex, serde, serde_json and clap) for tests,
// benchmarks and the demo. Each copy carries a .cargo/config.toml that builds
// offline against Debian's crate registry, so no network is needed.
package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

// DebianRegistry is where Debian's librust-*-dev packages install crate
// sources; the workload's cargo config replaces crates.io with it.
const DebianRegistry = "/usr/share/cargo/registry"

// CrateName is the workload's binary (and root package) name.
const CrateName = "logstat"

// Members are the workspace library crates, project-specific code that a
// cache holds beside the registry dependencies.
var Members = []string{"logscan", "tally", "report"}

// Config returns the cargo configuration written into every copy: a
// directory source replacing crates.io with registry, and offline mode.
func Config(registry string) string {
	return fmt.Sprintf(`# Build offline against Debian's crate registry (librust-*-dev packages).
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = %q

[net]
offline = true
`, registry)
}

// SourceDir locates testdata/workload in this module: next to this source
// file when it is known (a normal build), else by walking up from the working
// directory to the module root (a -trimpath build run inside the tree).
func SourceDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		d := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "workload")
		if isCrate(d) {
			return filepath.Clean(d), nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate workload: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "testdata", "workload")
		if isCrate(c) {
			return c, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("locate workload: no testdata/workload above %q", wd)
		}
	}
}

func isCrate(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "Cargo.lock"))
	return err == nil
}

// Prepare copies the workload into a new directory created under parent
// (os.TempDir() when parent is empty), writes its .cargo/config.toml for
// DebianRegistry, and returns the new directory. Build output (target/) is
// never copied.
func Prepare(parent string) (string, error) {
	src, err := SourceDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "workload-")
	if err != nil {
		return "", fmt.Errorf("prepare workload: %w", err)
	}
	if err := copyTree(src, dir); err != nil {
		return "", fmt.Errorf("prepare workload in %q: %w", dir, err)
	}
	cfg := filepath.Join(dir, ".cargo", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		return "", fmt.Errorf("prepare workload: %w", err)
	}
	if err := os.WriteFile(cfg, []byte(Config(DebianRegistry)), 0o644); err != nil {
		return "", fmt.Errorf("prepare workload: %w", err)
	}
	return dir, nil
}

// PrepareT is Prepare into t.TempDir(). It skips the test (fails under CI)
// when Debian's registry lacks a crate the workload's Cargo.lock needs, and
// fails the test on any other error.
func PrepareT(t testing.TB) string {
	t.Helper()
	src, err := SourceDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckRegistry(DebianRegistry, filepath.Join(src, "Cargo.lock")); err != nil {
		testkit.Missing(t, err.Error())
	}
	dir, err := Prepare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ErrMissingCrate reports that the registry lacks a crate named in Cargo.lock.
var ErrMissingCrate = errors.New("crate missing from registry")

// AddedDependency is the package AddDependency adds (in Debian's registry,
// without dependencies of its own).
const AddedDependency = "lazy_static"

// AddDependency adds AddedDependency to the root package of the workload copy
// at dir, so its Cargo.lock changes at the next cargo command (cargo metadata
// brings it up to date offline).
func AddDependency(dir string) error {
	p := filepath.Join(dir, "Cargo.toml")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("add a dependency: %w", err)
	}
	s := string(b)
	if !strings.Contains(s, "[dependencies]\n") {
		return fmt.Errorf("add a dependency: %q has no [dependencies] table", p)
	}
	s = strings.Replace(s, "[dependencies]\n", "[dependencies]\n"+AddedDependency+" = \"1.4\"\n", 1)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		return fmt.Errorf("add a dependency: %w", err)
	}
	return nil
}

// CheckRegistry verifies that every registry package in the Cargo.lock file
// lock has its source directory (name-version) in registry.
func CheckRegistry(registry, lock string) error {
	f, err := os.Open(lock)
	if err != nil {
		return fmt.Errorf("check registry: %w", err)
	}
	defer f.Close()
	var name, version string
	var missing []string
	flush := func(hasSource bool) {
		if name != "" && hasSource {
			if _, err := os.Stat(filepath.Join(registry, name+"-"+version)); err != nil {
				missing = append(missing, name+"-"+version)
			}
		}
	}
	hasSource := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "[[package]]":
			flush(hasSource)
			name, version, hasSource = "", "", false
		case strings.HasPrefix(line, "name = "):
			name = strings.Trim(strings.TrimPrefix(line, "name = "), `"`)
		case strings.HasPrefix(line, "version = "):
			version = strings.Trim(strings.TrimPrefix(line, "version = "), `"`)
		case strings.HasPrefix(line, "source = "):
			hasSource = true
		}
	}
	flush(hasSource)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("check registry: read %q: %w", lock, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w %s: %s (install Debian's librust-regex-dev librust-serde-json-dev librust-clap-dev librust-serde-derive-dev)",
			ErrMissingCrate, registry, strings.Join(missing, ", "))
	}
	return nil
}

// copyTree copies regular files and directories from src into dst, skipping
// build output and version-control metadata.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if d.IsDir() && (d.Name() == "target" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		out := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case info.Mode().IsRegular():
			return CopyFile(p, out, info.Mode().Perm())
		default:
			return nil
		}
	})
}

// CopyFile copies the regular file src to dst, which must not exist yet,
// with permission bits perm.
func CopyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
