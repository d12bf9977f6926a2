package crossbox

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
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

// TestWrapperStatsWorkload builds the workload in the stand-in cold, then
// warm from an emptied target directory, with the wrapper the action uses
// with a remote backend, and counts hits and misses from the statistics the
// container servers left — the numbers the save step reports for a remote
// store. The warm build must hit at least 95 % of its cacheable compiles.
func TestWrapperStatsWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload twice")
	}
	needSandbox(t)
	root := cacheRoot(t, "sccache-wait.sh")
	stats := filepath.Join(root, backend.StatsDir)
	crate := workload.PrepareT(t)
	hostPort, containerPort := testkit.ServerPort(t), testkit.ServerPort(t)
	stopHostServer(t, root, hostPort)
	crossToml := fmt.Sprintf("[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"SCCACHE_DIR\", \"SCCACHE_CONF\", \"SCCACHE_SERVER_PORT=%d\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n", containerPort)
	if err := os.WriteFile(filepath.Join(crate, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := rootEnv(root, "sccache-wait.sh", hostPort)
	env["CARGO_BUILD_PIPELINING"] = "false"
	var misses int64
	for i, name := range []string{"cold", "warm"} {
		os.RemoveAll(stats)
		os.MkdirAll(stats, 0o755)
		os.RemoveAll(filepath.Join(crate, "target"))
		start := time.Now()
		if code, log := runCross(t, crate, hostEnv(t, env), "build", "--locked"); code != 0 {
			t.Fatalf("%s build = %d\n%s", name, code, lastLines(log, 30))
		}
		sum, n, err := backend.ServerStats(stats, hostPort)
		if err != nil || n != 1 {
			t.Fatalf("%s build: statistics of %d container servers (%v), want 1", name, n, err)
		}
		rate := 100 * float64(sum.Hits) / float64(max(1, sum.Hits+sum.Misses))
		t.Logf("%s build in the stand-in: %v, %d hits, %d misses (%.1f %% hits), %d compile requests",
			name, time.Since(start).Round(time.Millisecond), sum.Hits, sum.Misses, rate, sum.CompileRequests)
		if i == 0 {
			misses = sum.Misses
			if misses < 20 || sum.Hits != 0 {
				t.Fatalf("cold build: %d hits, %d misses; want every cacheable compile (>= 20) missed", sum.Hits, misses)
			}
			continue
		}
		if rate < 95 || sum.Hits+sum.Misses != misses {
			t.Errorf("warm build: %d hits, %d misses (%.1f %%), want >= 95 %% of the %d compiles", sum.Hits, sum.Misses, rate, misses)
		}
	}
}
