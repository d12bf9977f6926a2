// Package testkit holds small helpers shared by the test suites: locating external
// tools the tests drive for real (sccache, bubblewrap, node, act) and deciding whether
// their absence skips a test (a developer machine) or fails it (CI, where .ci/run
// installs everything).
package testkit

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// NeedTool returns the path of an external program. When it is missing the test
// is skipped, unless the CI environment variable is set, where it fails: CI
// installs every tool, so a missing one is a broken CI script, not a reason to
// pass silently.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" not found on PATH")
	return ""
}

// Missing skips (locally) or fails (under CI) because a prerequisite is absent.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("prerequisite missing under CI: %s", why)
	}
	t.Skipf("prerequisite missing: %s (install it as .ci/run does)", why)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
