// Package scripts_test tests the project's shell scripts.
package scripts_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
)

// checkDeps runs the check part of install-deps (nothing is installed) with
// the given PATH and extra variables, and returns its exit code and stderr.
func checkDeps(t *testing.T, path string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(testkit.NeedTool(t, "bash"), "install-deps", "--check")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "PATH="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatalf("install-deps --check: %v", err)
	}
	return 0, stderr.String()
}

// checkedRE matches a check of install-deps and captures the program it
// runs: check NAME PROGRAM ARGS...
var checkedRE = regexp.MustCompile(`(?m)^check ("[^"]*"|\S+) (\S+)`)

// pathWithout is a PATH of links to the programs install-deps runs — the
// utilities of the script and every program a check runs — leaving out the
// one named.
func pathWithout(t *testing.T, left string) string {
	t.Helper()
	script, err := os.ReadFile("install-deps")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"dirname", "mktemp", "cp", "rm", "grep", "head"}
	for _, m := range checkedRE.FindAllStringSubmatch(string(script), -1) {
		if m[2] != "test" { // a shell builtin
			names = append(names, m[2])
		}
	}
	dir := t.TempDir()
	for _, name := range names {
		p, err := exec.LookPath(name)
		if name == left || err != nil {
			continue // one not found is reported by the check itself (the script adds GOPATH/bin)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInstallDepsCheck: the check passes on this machine, and fails naming
// what is missing — a tool not on PATH, a crate the workload needs and
// Debian's registry lacks — and only that.
func TestInstallDepsCheck(t *testing.T) {
	if code, stderr := checkDeps(t, os.Getenv("PATH")); code != 0 {
		testkit.Missing(t, "install-deps --check: "+stderr)
	}

	code, stderr := checkDeps(t, pathWithout(t, "zstd"))
	if code != 1 || !strings.Contains(stderr, "  - zstd (`zstd --version` failed)\n") || strings.Count(stderr, "  - ") != 1 {
		t.Errorf("without zstd: exit %d, want 1 and zstd named alone:\n%s", code, stderr)
	}

	dir, err := workload.Prepare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "Cargo.toml")
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	bogus := strings.Replace(string(b), "[dependencies]\n", "[dependencies]\nrustcache-no-such-crate = \"1\"\n", 1)
	if err := os.WriteFile(manifest, []byte(bogus), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr = checkDeps(t, os.Getenv("PATH"), "INSTALL_DEPS_WORKLOAD="+dir)
	if code != 1 || !strings.Contains(stderr, "the workload's crates from Debian's registry") ||
		!strings.Contains(stderr, "rustcache-no-such-crate") || strings.Count(stderr, "  - ") != 1 {
		t.Errorf("with a crate Debian lacks: exit %d, want 1 and the crate named alone:\n%s", code, stderr)
	}
}
