package crossconf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func envMap(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	cargoPlain     = "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n"
	cargoPackage   = cargoPlain + "\n[package.metadata.cross.build]\nxargo = false\n"
	cargoWorkspace = "[workspace]\nmembers = [\"a\"]\n\n[workspace.metadata.cross.target.aarch64-unknown-linux-gnu]\nimage = \"x\"\n"
	cargoBoth      = cargoPackage + "\n[workspace]\n\n[workspace.metadata.cross.build.env]\nvolumes = [\"W\"]\n"
	crossTomlDoc   = "[build.env]\npassthrough = [\"A\"]\n"
)

func TestLocate(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // relative path -> content
		env   []string
		want  func(dir string) Location
		srcs  func(dir string) []Location
	}{
		{
			name: "nothing",
			want: func(dir string) Location { return Location{Path: filepath.Join(dir, "Cross.toml"), Kind: None} },
		},
		{
			name:  "cargo without metadata",
			files: map[string]string{"Cargo.toml": cargoPlain},
			want:  func(dir string) Location { return Location{Path: filepath.Join(dir, "Cross.toml"), Kind: None} },
		},
		{
			name:  "Cross.toml",
			files: map[string]string{"Cross.toml": crossTomlDoc, "Cargo.toml": cargoPackage},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "Cross.toml"), Kind: CrossToml, Exists: true}
			},
			srcs: func(dir string) []Location {
				return []Location{
					{Path: filepath.Join(dir, "Cross.toml"), Kind: CrossToml, Exists: true},
					{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: PackageMetadata},
				}
			},
		},
		{
			name:  "empty Cross.toml exists",
			files: map[string]string{"Cross.toml": ""},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "Cross.toml"), Kind: CrossToml, Exists: true}
			},
		},
		{
			name:  "CROSS_CONFIG relative",
			files: map[string]string{"ci/cross.toml": crossTomlDoc, "Cross.toml": crossTomlDoc},
			env:   []string{"CROSS_CONFIG", "ci/cross.toml"},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "ci", "cross.toml"), Kind: CrossToml, Exists: true}
			},
		},
		{
			// cross never falls back to ./Cross.toml when CROSS_CONFIG is set.
			name:  "CROSS_CONFIG missing hides Cross.toml",
			files: map[string]string{"Cross.toml": crossTomlDoc},
			env:   []string{"CROSS_CONFIG", "/nonexistent/cross.toml"},
			want: func(dir string) Location {
				return Location{Path: "/nonexistent/cross.toml", Kind: None}
			},
		},
		{
			name:  "package metadata",
			files: map[string]string{"Cargo.toml": cargoPackage},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: PackageMetadata}
			},
		},
		{
			name:  "workspace metadata",
			files: map[string]string{"Cargo.toml": cargoWorkspace},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: WorkspaceMetadata}
			},
		},
		{
			name:  "both metadata tables",
			files: map[string]string{"Cargo.toml": cargoBoth},
			want: func(dir string) Location {
				return Location{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: WorkspaceMetadata}
			},
			srcs: func(dir string) []Location {
				return []Location{
					{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: WorkspaceMetadata},
					{Path: filepath.Join(dir, "Cargo.toml"), Kind: CargoMetadata, Exists: true, TablePrefix: PackageMetadata},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, c := range tt.files {
				writeFile(t, filepath.Join(dir, p), c, 0o644)
			}
			getenv := envMap(tt.env...)
			got, err := Locate(dir, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want(dir), got); diff != "" {
				t.Errorf("Locate (-want +got):\n%s", diff)
			}
			if tt.srcs != nil {
				srcs, err := Sources(dir, getenv)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.srcs(dir), srcs); diff != "" {
					t.Errorf("Sources (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestLocateMalformedCargo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Cargo.toml"), "[package\nname = 1\n", 0o644)
	_, err := Locate(dir, envMap())
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ParseError", err)
	}
	want := filepath.Join(dir, "Cargo.toml") + ":1:9: invalid TOML: expected ']' to close table name"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

var testEntries = Entries{
	Passthrough: []string{"RUSTC_WRAPPER", "RUSTCACHE_ROOT"},
	Volumes:     []string{"RUSTCACHE_ROOT"},
}

func TestApplyCreate(t *testing.T) {
	dir := t.TempDir()
	loc, err := Locate(dir, envMap())
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Apply(loc, testEntries, false)
	if err != nil || changed {
		t.Fatalf("Apply(create=false) = %v, %v; want false, nil", changed, err)
	}
	if _, err := os.Stat(loc.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Cross.toml created without create: %v", err)
	}
	changed, err = Apply(loc, testEntries, true)
	if err != nil || !changed {
		t.Fatalf("Apply(create=true) = %v, %v; want true, nil", changed, err)
	}
	want := "[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n"
	if got := readFile(t, loc.Path); got != want {
		t.Errorf("created:\n%s\nwant:\n%s", got, want)
	}
	fi, err := os.Stat(loc.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	assertNoTempFiles(t, dir)
}

func TestApplyKeepsModeAndSkipsUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Cross.toml")
	writeFile(t, path, crossTomlDoc, 0o600)
	loc := Location{Path: path, Kind: CrossToml, Exists: true}
	changed, err := Apply(loc, testEntries, false)
	if err != nil || !changed {
		t.Fatalf("Apply = %v, %v", changed, err)
	}
	fi1, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi1.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi1.Mode().Perm())
	}
	changed, err = Apply(loc, testEntries, false)
	if err != nil || changed {
		t.Fatalf("second Apply = %v, %v; want false, nil", changed, err)
	}
	fi2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi1, fi2) {
		t.Error("unchanged configuration was rewritten (new inode)")
	}
	assertNoTempFiles(t, dir)
}

func TestApplyFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "config", "cross.toml")
	writeFile(t, real, crossTomlDoc, 0o644)
	link := filepath.Join(dir, "Cross.toml")
	if err := os.Symlink(filepath.Join("config", "cross.toml"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(Location{Path: link, Kind: CrossToml, Exists: true}, testEntries, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced by a regular file")
	}
	if got := readFile(t, real); !strings.Contains(got, "RUSTCACHE_ROOT") {
		t.Errorf("target not updated:\n%s", got)
	}
}

func TestApplyMalformedLeavesFile(t *testing.T) {
	for _, content := range []string{
		"[build.env]\npassthrough = [\"A\",\n",
		"[build.env]\npassthrough = \"SCCACHE_DIR\"\n",
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "Cross.toml")
		writeFile(t, path, content, 0o644)
		changed, err := Apply(Location{Path: path, Kind: CrossToml, Exists: true}, testEntries, true)
		var pe *ParseError
		if !errors.As(err, &pe) || changed {
			t.Fatalf("Apply = %v, %v; want false, *ParseError", changed, err)
		}
		if pe.Path != path || pe.Line != 2 {
			t.Errorf("ParseError = %+v, want path %s line 2", pe, path)
		}
		if !strings.HasPrefix(err.Error(), path+":2:") {
			t.Errorf("error %q does not start with %s:2:", err, path)
		}
		if got := readFile(t, path); got != content {
			t.Errorf("file changed:\n%s", got)
		}
		assertNoTempFiles(t, dir)
	}
}

func TestApplyWrongTypeNamesKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Cross.toml")
	writeFile(t, path, "[build.env]\npassthrough = \"SCCACHE_DIR\"\n", 0o644)
	_, err := Apply(Location{Path: path, Kind: CrossToml, Exists: true}, testEntries, false)
	want := path + `:2:1: build.env.passthrough must be an array of strings, found a string ("SCCACHE_DIR")`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestApplyReadOnlyDir: when the directory cannot be written, Apply fails and
// the original file is untouched.
func TestApplyReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Cross.toml")
	writeFile(t, path, crossTomlDoc, 0o644)
	makeReadOnly(t, dir)

	changed, err := Apply(Location{Path: path, Kind: CrossToml, Exists: true}, testEntries, false)
	if err == nil || changed {
		t.Fatalf("Apply in a read-only directory = %v, %v; want an error", changed, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if got := readFile(t, path); got != crossTomlDoc {
		t.Errorf("file changed:\n%s", got)
	}
	assertNoTempFiles(t, dir)
}

// makeReadOnly makes dir unwritable, even for root (where permission bits do
// not apply): the immutable attribute, which needs chattr and a filesystem
// that supports it.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("running as root without chattr: cannot make a directory read-only")
	}
	if out, err := exec.Command(chattr, "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root and chattr +i failed (%v: %s): cannot make a directory read-only", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command(chattr, "-i", dir).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v: %s", dir, err, out)
		}
	})
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestApplyCargoMetadata(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Cargo.toml")
	writeFile(t, path, cargoPackage, 0o644)
	loc, err := Locate(dir, envMap())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(loc, testEntries, true); err != nil {
		t.Fatal(err)
	}
	want := cargoPackage + "\n[package.metadata.cross.build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n"
	if diff := cmp.Diff(want, readFile(t, path)); diff != "" {
		t.Errorf("Cargo.toml (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "Cross.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Error("Cross.toml created although Cargo.toml holds the configuration")
	}
}

type ensureCase struct {
	name        string
	files       map[string]string
	create      bool
	want        map[string]string // files after Ensure
	wantChanged []string
}

func TestEnsure(t *testing.T) {
	tests := []ensureCase{
		{
			name:  "nothing, no create",
			files: map[string]string{"Cargo.toml": cargoPlain},
			want:  map[string]string{"Cargo.toml": cargoPlain},
		},
		{
			name:        "nothing, create",
			files:       map[string]string{"Cargo.toml": cargoPlain},
			create:      true,
			want:        map[string]string{"Cargo.toml": cargoPlain, "Cross.toml": "[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n"},
			wantChanged: []string{"Cross.toml"},
		},
		{
			// Cross.toml defines nothing: it gets both arrays; Cargo.toml
			// metadata (merged by cross) is left alone.
			name:        "Cross.toml and package metadata without env",
			files:       map[string]string{"Cross.toml": "[build]\nxargo = false\n", "Cargo.toml": cargoPackage},
			want:        map[string]string{"Cross.toml": "[build]\nxargo = false\n\n[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n", "Cargo.toml": cargoPackage},
			wantChanged: []string{"Cross.toml"},
		},
		{
			// The user's passthrough lives in Cargo.toml: creating one in
			// Cross.toml would hide it on cross 0.2.5 (Cross.toml wins and
			// arrays are replaced whole), so Cargo.toml's is extended.
			name: "passthrough only in package metadata",
			files: map[string]string{
				"Cross.toml": "[build.env]\nvolumes = [\"V\"]\n",
				"Cargo.toml": cargoPlain + "\n[package.metadata.cross.build.env]\npassthrough = [\"MINE\"]\n",
			},
			want: map[string]string{
				"Cross.toml": "[build.env]\nvolumes = [\"V\", \"RUSTCACHE_ROOT\"]\n",
				"Cargo.toml": cargoPlain + "\n[package.metadata.cross.build.env]\npassthrough = [\"MINE\", \"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\n",
			},
			wantChanged: []string{"Cross.toml", "Cargo.toml"},
		},
		{
			// Both define passthrough: both are extended, whichever wins.
			name: "passthrough in both",
			files: map[string]string{
				"Cross.toml": crossTomlDoc,
				"Cargo.toml": cargoPlain + "\n[package.metadata.cross.build.env]\npassthrough = [\"MINE\"]\n",
			},
			want: map[string]string{
				"Cross.toml": "[build.env]\npassthrough = [\"A\", \"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n",
				"Cargo.toml": cargoPlain + "\n[package.metadata.cross.build.env]\npassthrough = [\"MINE\", \"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\n",
			},
			wantChanged: []string{"Cross.toml", "Cargo.toml"},
		},
		{
			// No Cross.toml, both metadata tables: cross 0.2.5 reads only the
			// package table, main only the workspace one; both get what they
			// lack (the workspace volumes are invisible to 0.2.5), and no
			// Cross.toml is created although create is true.
			name:   "workspace and package metadata",
			files:  map[string]string{"Cargo.toml": cargoBoth},
			create: true,
			want: map[string]string{
				"Cargo.toml": cargoPackage +
					"\n[package.metadata.cross.build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n" +
					"\n[workspace]\n\n[workspace.metadata.cross.build.env]\nvolumes = [\"W\", \"RUSTCACHE_ROOT\"]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\n",
			},
			wantChanged: []string{"Cargo.toml"},
		},
	}
	wsEnv := "\n[workspace.metadata.cross.build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n"
	tests = append(tests,
		ensureCase{
			// cross main reads the workspace table; v0.2.5 ignores it and
			// gets nothing without create.
			name:        "workspace metadata only, no create",
			files:       map[string]string{"Cargo.toml": cargoWorkspace},
			want:        map[string]string{"Cargo.toml": cargoWorkspace + wsEnv},
			wantChanged: []string{"Cargo.toml"},
		},
		ensureCase{
			// With create, v0.2.5 gets a Cross.toml; for main the workspace
			// table wins over it.
			name:   "workspace metadata only, create",
			files:  map[string]string{"Cargo.toml": cargoWorkspace},
			create: true,
			want: map[string]string{
				"Cargo.toml": cargoWorkspace + wsEnv,
				"Cross.toml": "[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"RUSTCACHE_ROOT\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n",
			},
			wantChanged: []string{"Cross.toml", "Cargo.toml"},
		},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, c := range tt.files {
				writeFile(t, filepath.Join(dir, p), c, 0o644)
			}
			changed, err := Ensure(dir, envMap(), testEntries, tt.create)
			if err != nil {
				t.Fatal(err)
			}
			var rel []string
			for _, c := range changed {
				r, _ := filepath.Rel(dir, c)
				rel = append(rel, r)
			}
			if diff := cmp.Diff(tt.wantChanged, rel); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			for p, want := range tt.want {
				if diff := cmp.Diff(want, readFile(t, filepath.Join(dir, p))); diff != "" {
					t.Errorf("%s (-want +got):\n%s", p, diff)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "Cross.toml")); err == nil && tt.want["Cross.toml"] == "" {
				t.Error("Cross.toml created unexpectedly")
			}
			// Idempotent.
			again, err := Ensure(dir, envMap(), testEntries, tt.create)
			if err != nil || len(again) != 0 {
				t.Errorf("second Ensure changed %v (err %v)", again, err)
			}
		})
	}
}

func TestEnsureMalformedTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	cross := "[build]\nxargo = false\n"
	cargo := cargoPlain + "\n[package.metadata.cross.build.env]\npassthrough = 3\n"
	writeFile(t, filepath.Join(dir, "Cross.toml"), cross, 0o644)
	writeFile(t, filepath.Join(dir, "Cargo.toml"), cargo, 0o644)
	_, err := Ensure(dir, envMap(), testEntries, true)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "Cargo.toml") {
		t.Fatalf("err = %v, want *ParseError for Cargo.toml", err)
	}
	if got := readFile(t, filepath.Join(dir, "Cross.toml")); got != cross {
		t.Errorf("Cross.toml changed:\n%s", got)
	}
	if got := readFile(t, filepath.Join(dir, "Cargo.toml")); got != cargo {
		t.Errorf("Cargo.toml changed:\n%s", got)
	}
}

func TestEnvOverrides(t *testing.T) {
	getenv := envMap(
		"CROSS_BUILD_ENV_VOLUMES", "X",
		"CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_ENV_VOLUMES", "Y",
		"CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_ENV_PASSTHROUGH", "Z",
	)
	got := EnvOverrides(getenv, "aarch64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf", "aarch64-unknown-linux-gnu")
	want := []string{"CROSS_BUILD_ENV_VOLUMES", "CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_ENV_VOLUMES"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EnvOverrides (-want +got):\n%s", diff)
	}
	if got := EnvOverrides(envMap()); got != nil {
		t.Errorf("EnvOverrides with no variables = %v", got)
	}
}

func TestMergeRejectsBadEntries(t *testing.T) {
	for _, e := range []Entries{
		{Passthrough: []string{""}},
		{Passthrough: []string{"=x"}},
		{Passthrough: []string{"A B"}},
		{Volumes: []string{"A\nB"}},
		{Passthrough: []string{"CROSS_RUNNER"}},
	} {
		if _, _, err := Merge(nil, "", e); err == nil {
			t.Errorf("Merge accepted entries %+v", e)
		}
	}
}
