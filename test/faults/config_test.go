package faults_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/rootdir"
	"github.com/org/rustcache-action/internal/state"
)

// configFaultsTried counts the malformed configuration files and the bad
// release downloads given.
var configFaultsTried atomic.Int64

// TestMalformedCargoMetadata gives setup a workspace whose cross
// configuration in Cargo.toml (or in the file CROSS_CONFIG names) is
// malformed: setup must fail with one ::error:: pointing at the file and
// the line, leave every file byte-identical, export nothing and install
// nothing. (A malformed Cross.toml is covered by setup/cross_test.go.)
func TestMalformedCargoMetadata(t *testing.T) {
	goodCross := "[build.env]\npassthrough = [\"FOO\"]\n"
	tests := []struct {
		name  string
		files map[string]string // workspace files
		env   map[string]string // CROSS_CONFIG, relative to the workspace
		bad   string            // the file the error must point at
		line  int               // its line, 0: any line
	}{
		{name: "Cargo.toml that is not TOML", bad: "Cargo.toml", line: 4, files: map[string]string{
			"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\n"}},
		{name: "duplicate key in package.metadata.cross", bad: "Cargo.toml", line: 6, files: map[string]string{
			"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[package.metadata.cross.build]\nxargo = false\nxargo = true\n"}},
		{name: "passthrough is a string in package.metadata.cross", bad: "Cargo.toml", line: 5, files: map[string]string{
			"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[package.metadata.cross.build.env]\npassthrough = \"FOO\"\n"}},
		{name: "volumes holds a number in workspace.metadata.cross", bad: "Cargo.toml", line: 4, files: map[string]string{
			"Cargo.toml": "[workspace]\nmembers = []\n[workspace.metadata.cross.build.env]\nvolumes = [\"A\", 3]\n"}},
		{name: "build.env is a string in workspace.metadata.cross", bad: "Cargo.toml", line: 4, files: map[string]string{
			"Cargo.toml": "[workspace]\nmembers = []\n[workspace.metadata.cross.build]\nenv = \"FOO\"\n"}},
		{name: "metadata.cross is a string", bad: "Cargo.toml", line: 4, files: map[string]string{
			"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nmetadata = { cross = \"yes\" }\n"}},
		{name: "good Cross.toml, malformed metadata", bad: "Cargo.toml", line: 5, files: map[string]string{
			"Cross.toml": goodCross,
			"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[package.metadata.cross.build.env]\npassthrough = [\"A\",\n"}},
		{name: "CROSS_CONFIG names a malformed file", bad: "ci/cross.toml", line: 2, env: map[string]string{"CROSS_CONFIG": "ci/cross.toml"}, files: map[string]string{
			"Cargo.toml":    "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
			"ci/cross.toml": "[build.env]\npassthrough = [\"A\" \"B\"]\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			configFaultsTried.Add(1)
			r := actiontest.New(t)
			for k, v := range tc.env {
				r.Env[k] = filepath.Join(r.Workspace, v)
			}
			files := map[string][]byte{}
			for name, body := range tc.files {
				files[name] = []byte(body)
			}
			writeTree(t, r.Workspace, files)
			before := tree(t, r.Workspace)

			s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil)
			if s.Code == 0 {
				t.Fatalf("setup accepted it:\n%s", s.Stdout)
			}
			errs := s.Annotations("error")
			t.Logf("%q", errs)
			bad := filepath.Join(r.Workspace, tc.bad)
			// The runner's property escaping: the test's directory name has a comma.
			esc := strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(bad)
			re := regexp.MustCompile(`^::error file=` + regexp.QuoteMeta(esc) + `,line=([0-9]+),`)
			if len(errs) != 1 {
				t.Fatalf("%d error annotations, want one:\n%s", len(errs), s.Stdout)
			}
			m := re.FindStringSubmatch(errs[0])
			if m == nil {
				t.Fatalf("the error does not point at %s and a line: %q", tc.bad, errs[0])
			}
			if n, _ := strconv.Atoi(m[1]); n < 1 || (tc.line != 0 && n != tc.line) {
				t.Errorf("the error points at line %s, want %d", m[1], tc.line)
			}
			if d := treeDiff(before, tree(t, r.Workspace)); d != "" {
				t.Errorf("the workspace changed (-before +after):\n%s", d)
			}
			if len(s.Env) != 0 || len(s.Path) != 0 || len(s.Outputs) != 0 {
				t.Errorf("failed setup wrote env %v path %v outputs %v", s.Env, s.Path, s.Outputs)
			}
			if _, err := os.Stat(filepath.Join(r.Temp, "rustcache", "bin", "sccache")); err == nil {
				t.Error("failed setup installed sccache")
			}
		})
	}
}

// TestBadDownloadInstallsNothing: a release whose bytes do not match the
// published checksum is refused, and nothing is installed — neither in the
// root nor in the runner's tool cache — or exported. A download cut short
// on every try is a fault of the server: setup warns and the job goes on
// without sccache, with nothing installed either. (setup/setup_test.go
// checks the root and the message; this checks the tool cache too.)
func TestBadDownloadInstallsNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakerelease.Fault
		file  string // "" the asset, ".sha256" its checksum file
		want  string
		soft  bool // a warning and exit 0, not a failure
	}{
		{"checksum file names other bytes", fakerelease.WrongChecksum, ".sha256", "checksum", false},
		{"asset with one byte changed", fakerelease.Corrupt, "", "checksum", false},
		{"asset cut short", fakerelease.Truncated, "", "cut short", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			configFaultsTried.Add(1)
			r := actiontest.New(t)
			r.Release.Fail(arch.AssetName(r.Version, "x86_64-unknown-linux-musl")+tc.file, tc.fault, -1)
			s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil)
			root := filepath.Join(r.Temp, "rustcache")
			kind, code, wantEnv, wantOut := "error", s.Code != 0, map[string]string{}, map[string]string{}
			if tc.soft {
				kind, code = "warning", s.Code == 0
				wantEnv, wantOut = map[string]string{"RUSTCACHE_ROOT": root}, map[string]string{"cache-root": root}
			}
			said := strings.Join(s.Annotations(kind), "\n")
			t.Logf("%s", said)
			if !code || said == "" || !strings.Contains(strings.ToLower(said), tc.want) {
				t.Fatalf("exit %d, %ss %q; want one mentioning %q\n%s", s.Code, kind, said, tc.want, s.Stdout)
			}
			if len(s.Path) != 0 || !maps.Equal(s.Env, wantEnv) || !maps.Equal(s.Outputs, wantOut) {
				t.Errorf("setup wrote env %v path %v outputs %v; want env %v outputs %v", s.Env, s.Path, s.Outputs, wantEnv, wantOut)
			}
			for _, dir := range []string{r.ToolCache, root} {
				for name, v := range tree(t, dir) {
					if v != "dir" && !(tc.soft && dir == root && (name == state.FileName || name == rootdir.MarkerFile)) {
						t.Errorf("setup left %s in %s", name, dir)
					}
				}
			}
		})
	}
}
