//go:build unix

package setup_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/testkit"
)

// holdPort binds 127.0.0.1:port without listening, as the local end of an
// outgoing connection does: nothing answers there, and nothing else can bind.
func holdPort(t *testing.T, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("cannot hold port %d for the test: %v", port, err)
	}
}

// sccacheOn runs the real sccache against a port and cache directory.
func sccacheOn(t *testing.T, port, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testkit.NeedTool(t, "sccache"), args...)
	cmd.Env = append(os.Environ(), "SCCACHE_SERVER_PORT="+port, "SCCACHE_DIR="+dir, "SCCACHE_IDLE_TIMEOUT=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSetupAvoidsBusyPorts: a port held by something that does not answer
// (another program's connection) makes sccache fail every compile, and a
// port where another configuration's sccache server answers belongs to
// another job, whose build would break if setup stopped that server. setup
// passes over both, says so, and the server it configures starts.
func TestSetupAvoidsBusyPorts(t *testing.T) {
	r := actiontest.New(t)
	in := map[string]string{"sccache-version": r.Version}
	first := r.Run("setup", in, nil)
	if first.Code != 0 {
		t.Fatalf("setup: %d\n%s", first.Code, first.Stdout)
	}
	own := first.Env["SCCACHE_SERVER_PORT"]
	root, cacheDir := first.Env["RUSTCACHE_ROOT"], first.Env["SCCACHE_DIR"]
	port, _ := strconv.Atoi(own)
	t.Cleanup(func() { sccacheOn(t, own, cacheDir, "--stop-server") })

	t.Run("held", func(t *testing.T) {
		holdPort(t, port)
		// What a build meets on such a port.
		if out, err := sccacheOn(t, own, cacheDir, "--show-stats"); err == nil {
			t.Fatalf("sccache started on a held port:\n%s", out)
		}
		s := r.Run("setup", in, nil)
		if s.Code != 0 {
			t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
		}
		got := s.Env["SCCACHE_SERVER_PORT"]
		if got == own || !strings.Contains(strings.Join(s.Annotations("notice"), "\n"), "sccache server port "+got) {
			t.Fatalf("setup kept port %s (was %s); notices %q", got, own, s.Annotations("notice"))
		}
		t.Cleanup(func() { sccacheOn(t, got, cacheDir, "--stop-server") })
		if out, err := sccacheOn(t, got, cacheDir, "--show-stats", "--stats-format=json"); err != nil || !strings.Contains(out, cacheDir) {
			t.Errorf("sccache on the new port: %v\n%s", err, out)
		}
	})

	t.Run("another job's server", func(t *testing.T) {
		// A root without history (no state) whose port another job's server
		// holds, with its own cache.
		if err := os.Remove(state.Path(root)); err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(t.TempDir(), "other-cache")
		if out, err := sccacheOn(t, own, other, "--start-server"); err != nil {
			t.Fatalf("start the other job's server: %v\n%s", err, out)
		}
		t.Cleanup(func() { sccacheOn(t, own, other, "--stop-server") })
		s := r.Run("setup", in, nil)
		if s.Code != 0 {
			t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
		}
		if got := s.Env["SCCACHE_SERVER_PORT"]; got == own {
			t.Errorf("setup took port %s, where another job's server runs", got)
		}
		if out, err := sccacheOn(t, own, other, "--show-stats", "--stats-format=json"); err != nil || !strings.Contains(out, other) {
			t.Errorf("the other job's server did not survive setup: %v\n%s", err, out)
		}
	})
}
