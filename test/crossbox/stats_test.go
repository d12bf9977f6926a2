package crossbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/testkit"
)

// TestWrapperLeavesContainerStats: a container's sccache server dies with
// the container, so the wrapper leaves its statistics under the root after
// each compile; the save step sums them. A cold container run leaves one
// miss, a warm one (new container, target emptied) one hit, each in a file
// of its own.
func TestWrapperLeavesContainerStats(t *testing.T) {
	needSandbox(t)
	root := cacheRoot(t, "sccache-wait.sh")
	if err := os.MkdirAll(filepath.Join(root, backend.StatsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	hostPort := testkit.ServerPort(t)
	stopHostServer(t, root, hostPort)
	crate := t.TempDir()
	for name, body := range map[string]string{
		"Cargo.toml": "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
		"Cross.toml": "[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"SCCACHE_DIR\", \"SCCACHE_CONF\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n",
	} {
		p := filepath.Join(crate, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := rootEnv(root, "sccache-wait.sh", hostPort)
	for i, want := range []struct{ hits, misses int64 }{{0, 1}, {1, 1}} {
		os.RemoveAll(filepath.Join(crate, "target"))
		if code, log := runCross(t, crate, hostEnv(t, env), "build"); code != 0 {
			t.Fatalf("cross build %d = %d\n%s", i+1, code, lastLines(log, 20))
		}
		sum, n, err := backend.ServerStats(filepath.Join(root, backend.StatsDir), hostPort)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 || sum.Hits != want.hits || sum.Misses != want.misses {
			t.Errorf("after run %d: %d servers, %d hits, %d misses; want %d servers, %d hits, %d misses",
				i+1, n, sum.Hits, sum.Misses, i+1, want.hits, want.misses)
		}
	}
}
