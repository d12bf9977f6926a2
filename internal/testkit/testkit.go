// Package testkit holds small helpers shared by the test suites: locating external
// tools the tests drive for real (sccache, bubblewrap, node, act) and deciding whether
// their absence skips a test (a developer machine) or fails it (CI, where .ci/run
// installs everything).
package testkit

import (
	"math/rand/v2"
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

// ServerPort returns a TCP port on 127.0.0.1, free a moment ago, for a test's
// sccache server: from 10000–19998, below both the range the action derives
// its own ports from (20000–31999) and the ranges systems pick outgoing
// connections' local ports from (32768 and up), so neither another test's
// job nor a connection of another program can hold it when the server
// starts. A FreePort port can be held by any connection the next moment.
func ServerPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := 10000 + 2*rand.IntN(5000)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port in 10000–19998")
	return 0
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
