package crossbox

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
)

// cacheRoot lays out the action's root directory as the action does: the
// sccache binary in bin/ (what RUSTC_WRAPPER points to), the disk cache in
// cache/ (SCCACHE_DIR) and sccache.conf (SCCACHE_CONF) raising the server
// startup timeout from 10 s, which a loaded two-core machine exceeds. Any
// other file in testdata named in scripts is copied into bin/ too.
func cacheRoot(t *testing.T, scripts ...string) string {
	t.Helper()
	sccache := testkit.NeedTool(t, "sccache")
	root := t.TempDir()
	copyFile(t, sccache, filepath.Join(root, "bin", "sccache"), 0o755)
	for _, s := range scripts {
		src := filepath.Join("testdata", s)
		if s == "sccache-wait.sh" {
			// The action's own waiting wrapper, as setup installs it.
			src = filepath.Join("..", "..", "setup", "sccache-wait.sh")
		}
		copyFile(t, src, filepath.Join(root, "bin", s), 0o755)
	}
	if err := os.MkdirAll(filepath.Join(root, "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sccache.conf"), []byte("server_startup_timeout_ms = 60000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// rootEnv is the host environment the action exports for root.
func rootEnv(root, wrapper string, hostPort int) map[string]string {
	return map[string]string{
		"RUSTCACHE_ROOT":      root,
		"RUSTC_WRAPPER":       filepath.Join(root, "bin", wrapper),
		"SCCACHE_DIR":         filepath.Join(root, "cache"),
		"SCCACHE_CONF":        filepath.Join(root, "sccache.conf"),
		"SCCACHE_SERVER_PORT": strconv.Itoa(hostPort), // host side; tests never touch 4226
		"CARGO_INCREMENTAL":   "0",
	}
}

// stopHostServer stops the host-side sccache server on port that cross's
// own `cargo metadata` started (it runs RUSTC_WRAPPER for `rustc -vV`).
func stopHostServer(t *testing.T, root string, port int) {
	t.Helper()
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(root, "bin", "sccache"), "--stop-server")
		cmd.Env = append(os.Environ(), "SCCACHE_SERVER_PORT="+strconv.Itoa(port))
		_ = cmd.Run()
	})
}

// cacheEntries maps every file under dir to its modification time.
func cacheEntries(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fi.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	hitRE   = regexp.MustCompile(`\]: Cache hit in `)
	missRE  = regexp.MustCompile(`\]: Cache miss in `)
	storeRE = regexp.MustCompile(`\]: Stored in cache successfully`)
)

func countLog(t *testing.T, path string, re *regexp.Regexp) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sccache log: %v", err)
	}
	return len(re.FindAllIndex(b, -1))
}

// TestSccacheWorkloadInCrossbox builds the workload in the stand-in twice
// with the configuration the action gives cross builds, the second time with
// a fresh target directory, and checks that every cacheable compile of the
// second build is a hit on the shared disk cache.
func TestSccacheWorkloadInCrossbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload twice")
	}
	needSandbox(t)
	root := cacheRoot(t)
	crate := workload.PrepareT(t)
	hostPort, containerPort := freePort(t), freePort(t)
	stopHostServer(t, root, hostPort)
	crossToml := fmt.Sprintf(`[build.env]
passthrough = ["RUSTC_WRAPPER", "SCCACHE_DIR", "SCCACHE_CONF", "SCCACHE_SERVER_PORT=%d", "SCCACHE_ERROR_LOG", "SCCACHE_LOG", "SCCACHE_DIRECT"]
volumes = ["RUSTCACHE_ROOT"]
`, containerPort)
	if err := os.WriteFile(filepath.Join(crate, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := rootEnv(root, "sccache", hostPort)
	base["SCCACHE_DIRECT"] = "true" // ignored by sccache 0.4
	base["SCCACHE_LOG"] = "debug"
	base["CARGO_BUILD_PIPELINING"] = "false"
	build := func(n int) (time.Duration, string) {
		env := map[string]string{"SCCACHE_ERROR_LOG": filepath.Join(root, fmt.Sprintf("server-%d.log", n))}
		for k, v := range base {
			env[k] = v
		}
		start := time.Now()
		code, log := runCross(t, crate, hostEnv(t, env), "build", "--locked")
		if code != 0 {
			t.Fatalf("build %d: cross build = %d\n%s", n, code, lastLines(log, 40))
		}
		if strings.Contains(log, "error writing dependencies") {
			t.Errorf("build %d: dep-info write failure:\n%s", n, lastLines(log, 40))
		}
		return time.Since(start), env["SCCACHE_ERROR_LOG"]
	}

	d1, log1 := build(1)
	misses, stored := countLog(t, log1, missRE), countLog(t, log1, storeRE)
	first := cacheEntries(t, filepath.Join(root, "cache"))
	t.Logf("build 1 (empty cache): %v, %d misses, %d stored, %d entries", d1.Round(time.Millisecond), misses, stored, len(first))
	if misses < 20 || stored != misses || len(first) != misses {
		t.Fatalf("build 1: %d misses, %d stored, %d entries; want every cacheable compile (>= 20) stored", misses, stored, len(first))
	}
	for p := range first {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Getuid() {
			t.Fatalf("cache entry %s owned by %d on the host, want %d", p, uid, os.Getuid())
		}
	}

	if err := os.RemoveAll(filepath.Join(crate, "target")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let hit timestamps differ from the writes
	d2, log2 := build(2)
	hits, misses2 := countLog(t, log2, hitRE), countLog(t, log2, missRE)
	second := cacheEntries(t, filepath.Join(root, "cache"))
	touched := 0
	for p, mt := range second {
		if old, ok := first[p]; ok && mt.After(old) {
			touched++
		}
	}
	t.Logf("build 2 (fresh target): %v, %d hits, %d misses, %d entries, %d entries touched by hits", d2.Round(time.Millisecond), hits, misses2, len(second), touched)
	if hits != misses || misses2 != 0 {
		t.Errorf("build 2: %d hits and %d misses, want %d hits and none missed", hits, misses2, misses)
	}
	if len(second) != len(first) || touched != len(first) {
		t.Errorf("build 2: %d entries (%d touched), want the %d entries of build 1, all touched", len(second), touched, len(first))
	}
}

// TestSccacheHostNetwork shows why a container sharing the host network needs
// its own sccache port: cross's host-side `cargo metadata` already started a
// host server (through RUSTC_WRAPPER) whose mount namespace has no /target.
func TestSccacheHostNetwork(t *testing.T) {
	needSandbox(t)
	tests := []struct {
		name     string
		opts     string
		literal  bool // SCCACHE_SERVER_PORT=<other port> instead of passing the host's
		wantFail string
	}{
		{name: "private network, host port passed through", opts: ""},
		{name: "host network, host port passed through", opts: "--network=host", wantFail: "Failed to read response header"},
		{name: "host network, literal container port", opts: "--network=host", literal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := cacheRoot(t, "sccache-wait.sh")
			hostPort, containerPort := freePort(t), freePort(t)
			stopHostServer(t, root, hostPort)
			port := `"SCCACHE_SERVER_PORT"`
			if tt.literal {
				port = fmt.Sprintf(`"SCCACHE_SERVER_PORT=%d"`, containerPort)
			}
			crate := tinyCrate(t, fmt.Sprintf("[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"SCCACHE_DIR\", \"SCCACHE_CONF\", %s]\nvolumes = [\"RUSTCACHE_ROOT\"]\n", port))
			// The waiting wrapper: the only compile is also the last one, so
			// sccache 0.4 would otherwise lose its entry now and then.
			env := rootEnv(root, "sccache-wait.sh", hostPort)
			if tt.opts != "" {
				env["CROSS_CONTAINER_OPTS"] = tt.opts
			}
			code, log := runCross(t, crate, hostEnv(t, env), "build")
			if tt.wantFail != "" {
				if code == 0 || !strings.Contains(log, tt.wantFail) {
					t.Fatalf("cross build = %d, want a failure with %q\n%s", code, tt.wantFail, lastLines(log, 20))
				}
				return
			}
			if code != 0 {
				t.Fatalf("cross build = %d\n%s", code, lastLines(log, 20))
			}
			if n := len(cacheEntries(t, filepath.Join(root, "cache"))); n != 1 {
				t.Errorf("%d cache entries, want the one of the tiny crate", n)
			}
			if tt.literal {
				if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", containerPort), time.Second); err == nil {
					c.Close()
					t.Errorf("the container's sccache server on port %d outlived the container (host port %d)\n%s", containerPort, hostPort, listeners())
				}
			}
		})
	}
}

// TestSccacheFlushOnExit checks the two ways found to keep sccache 0.4's last
// cache write when the container (and its server) is killed as cargo exits:
// stopping the server from an entrypoint, or a wrapper that waits for
// pending writes. The crate's only compile is large and last, so without
// either the entry is routinely cut short (measured: 6 of 6 runs); that case
// is run for the record but not asserted, being a race.
func TestSccacheFlushOnExit(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a 24 MB crate several times")
	}
	needSandbox(t)
	tests := []struct {
		name    string
		wrapper string // in bin/
		opts    string // with %s for the root
		assert  bool
	}{
		{name: "no recipe (for the record)", wrapper: "sccache"},
		{name: "entrypoint stops the server", wrapper: "sccache", opts: "--entrypoint=%s/bin/cross-entry.sh", assert: true},
		{name: "wrapper waits for pending writes", wrapper: "sccache-wait.sh", assert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := cacheRoot(t, "cross-entry.sh", "sccache-wait.sh")
			hostPort := freePort(t)
			stopHostServer(t, root, hostPort)
			crate := blobCrate(t, 24<<20)
			env := rootEnv(root, tt.wrapper, hostPort)
			if tt.opts != "" {
				env["CROSS_CONTAINER_OPTS"] = fmt.Sprintf(tt.opts, root)
			}
			code, log := runCross(t, crate, hostEnv(t, env), "build")
			if code != 0 {
				t.Fatalf("cross build = %d\n%s", code, lastLines(log, 20))
			}
			entries := cacheEntries(t, filepath.Join(root, "cache"))
			complete := 0
			for p := range entries {
				if r, err := zip.OpenReader(p); err == nil {
					complete++
					r.Close()
				}
			}
			t.Logf("%d entries, %d complete", len(entries), complete)
			if tt.assert && (len(entries) != 1 || complete != 1) {
				t.Errorf("%d entries, %d complete; want the one entry complete", len(entries), complete)
			}
		})
	}
}

// blobCrate writes a library crate embedding size pseudo-random bytes: one
// compile whose cache entry takes a while to write.
func blobCrate(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	blob := make([]byte, size)
	rand.New(rand.NewSource(1)).Read(blob)
	files := map[string][]byte{
		"Cargo.toml":   []byte("[package]\nname = \"blob\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
		"src/lib.rs":   []byte("//! A large rlib.\npub static BLOB: &[u8] = include_bytes!(\"blob.bin\");\n"),
		"src/blob.bin": blob,
		"Cross.toml":   []byte("[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"SCCACHE_DIR\", \"SCCACHE_CONF\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n"),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func listeners() string {
	out, _ := exec.Command("ss", "-ltnp").CombinedOutput()
	return string(out)
}
