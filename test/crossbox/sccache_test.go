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
	"sort"
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
// second build is a hit on the shared disk cache. Each build's sccache log
// and a record of what sccache hashed for every compile (working directory,
// arguments, CARGO_* variables: testdata/record-wrapper.sh) go to the test's
// artifact directory (kept with go test -artifacts); when the second build
// misses, the test says what differed.
func TestSccacheWorkloadInCrossbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload twice")
	}
	needSandbox(t)
	root := cacheRoot(t, "record-wrapper.sh")
	crate := workload.PrepareT(t)
	hostPort, containerPort := testkit.ServerPort(t), testkit.ServerPort(t)
	stopHostServer(t, root, hostPort)
	crossToml := fmt.Sprintf(`[build.env]
passthrough = ["RUSTC_WRAPPER", "SCCACHE_DIR", "SCCACHE_CONF", "SCCACHE_SERVER_PORT=%d", "SCCACHE_ERROR_LOG", "SCCACHE_LOG", "SCCACHE_DIRECT", "RUSTCACHE_RECORD"]
volumes = ["RUSTCACHE_ROOT"]
`, containerPort)
	if err := os.WriteFile(filepath.Join(crate, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
		t.Fatal(err)
	}
	base := rootEnv(root, "record-wrapper.sh", hostPort)
	base["SCCACHE_DIRECT"] = "true" // ignored by sccache 0.4
	base["SCCACHE_LOG"] = "debug"
	base["CARGO_BUILD_PIPELINING"] = "false"
	artifacts := t.ArtifactDir()
	build := func(n int) (time.Duration, string, string) {
		env := map[string]string{
			"SCCACHE_ERROR_LOG": filepath.Join(root, fmt.Sprintf("server-%d.log", n)),
			"RUSTCACHE_RECORD":  filepath.Join(root, fmt.Sprintf("record-%d", n)),
		}
		for k, v := range base {
			env[k] = v
		}
		start := time.Now()
		code, log := runCross(t, crate, hostEnv(t, env), "build", "--locked")
		d := time.Since(start)
		keep(t, artifacts, env["SCCACHE_ERROR_LOG"], env["RUSTCACHE_RECORD"])
		if code != 0 {
			t.Fatalf("build %d: cross build = %d\n%s", n, code, lastLines(log, 40))
		}
		// cross falls back to cargo on the host when its host-side cargo
		// metadata fails (an sccache server that cannot start, say): such a
		// build hashes every compile differently from the container's.
		if strings.Contains(log, "Falling back to `cargo` on the host") {
			t.Fatalf("build %d ran on the host, not in the sandbox:\n%s", n, lastLines(log, 40))
		}
		if strings.Contains(log, "error writing dependencies") {
			t.Errorf("build %d: dep-info write failure:\n%s", n, lastLines(log, 40))
		}
		return d, env["SCCACHE_ERROR_LOG"], env["RUSTCACHE_RECORD"]
	}

	d1, log1, rec1 := build(1)
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
	d2, log2, rec2 := build(2)
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
		t.Errorf("build 2: %d hits and %d misses, want %d hits and none missed; what sccache hashed differently (logs and records in %s):\n%s",
			hits, misses2, misses, artifacts, hashDiff(t, rec1, rec2))
	}
	if len(second) != len(first) || touched != len(first) {
		t.Errorf("build 2: %d entries (%d touched), want the %d entries of build 1, all touched", len(second), touched, len(first))
	}
}

// keep copies files and directories into the artifact directory.
func keep(t *testing.T, artifacts string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case fi.IsDir():
			err = os.CopyFS(filepath.Join(artifacts, filepath.Base(p)), os.DirFS(p))
		default:
			var b []byte
			if b, err = os.ReadFile(p); err == nil {
				err = os.WriteFile(filepath.Join(artifacts, filepath.Base(p)), b, 0o644)
			}
		}
		if err != nil {
			t.Logf("keep %s: %v", p, err)
		}
	}
}

// compileRecords reads record-wrapper.sh's records of a build by compile:
// crate name and crate types, then the recorded lines. Calls that are not
// compiles (rustc -vV) are left out.
func compileRecords(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var name, types string
		for i, l := range lines {
			switch {
			case l == "arg=--crate-name" && i+1 < len(lines):
				name = strings.TrimPrefix(lines[i+1], "arg=")
			case l == "arg=--crate-type" && i+1 < len(lines):
				types += strings.TrimPrefix(lines[i+1], "arg=") + " "
			}
		}
		if name != "" {
			out[name+" "+strings.TrimSpace(types)] = lines
		}
	}
	return out
}

// hashDiff says, for the compiles both builds made, which recorded inputs
// differ (at most five compiles), and which compiles only one build made.
func hashDiff(t *testing.T, dir1, dir2 string) string {
	t.Helper()
	r1, r2 := compileRecords(t, dir1), compileRecords(t, dir2)
	var b strings.Builder
	shown := 0
	names := make([]string, 0, len(r2))
	for k := range r2 {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		l1, ok := r1[k]
		if !ok {
			fmt.Fprintf(&b, "%s: compiled by build 2 only\n", k)
			continue
		}
		only1, only2 := setDiff(l1, r2[k]), setDiff(r2[k], l1)
		if len(only1)+len(only2) == 0 || shown == 5 {
			continue
		}
		shown++
		fmt.Fprintf(&b, "%s:\n  build 1 only: %q\n  build 2 only: %q\n", k, only1, only2)
	}
	for k := range r1 {
		if _, ok := r2[k]; !ok {
			fmt.Fprintf(&b, "%s: compiled by build 1 only\n", k)
		}
	}
	if b.Len() == 0 {
		return "no difference in the working directory, arguments or CARGO_* variables: look at the sources, the extern crates' contents and the compiler (the sccache logs)"
	}
	return b.String()
}

// setDiff lists the lines of a that b lacks.
func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, l := range b {
		in[l] = true
	}
	var out []string
	for _, l := range a {
		if !in[l] {
			out = append(out, l)
		}
	}
	return out
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
			hostPort, containerPort := testkit.ServerPort(t), testkit.ServerPort(t)
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
			hostPort := testkit.ServerPort(t)
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

// TestHashDiff checks the report of what two builds' compiles hashed
// differently, on hand-written records.
func TestHashDiff(t *testing.T) {
	write := func(dir, name string, lines ...string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d1, d2 := filepath.Join(t.TempDir(), "1"), filepath.Join(t.TempDir(), "2")
	lib := []string{"cwd=/w", "arg=--crate-name", "arg=memchr", "arg=--crate-type", "arg=lib"}
	write(d1, "10", append(lib, "CARGO_HOME=/cargo")...)
	write(d2, "20", append(lib, "CARGO_HOME=/tmp/x/cargo-home")...)
	write(d1, "11", "cwd=/w", "arg=-vV")
	write(d2, "21", "cwd=/w", "arg=--crate-name", "arg=itoa", "arg=--crate-type", "arg=lib")
	got := hashDiff(t, d1, d2)
	for _, want := range []string{`memchr lib:`, `build 1 only: ["CARGO_HOME=/cargo"]`, `build 2 only: ["CARGO_HOME=/tmp/x/cargo-home"]`, "itoa lib: compiled by build 2 only"} {
		if !strings.Contains(got, want) {
			t.Errorf("hashDiff lacks %q:\n%s", want, got)
		}
	}
	if got := hashDiff(t, d1, d1); !strings.HasPrefix(got, "no difference") {
		t.Errorf("hashDiff of a build with itself:\n%s", got)
	}
}

// TestHeldHostPortBuildsOnTheHost shows how a cross build ends up on the host:
// cross's host-side cargo metadata runs rustc through RUSTC_WRAPPER, and when
// the host's sccache server cannot start — its port held by another
// program's connection, which binds it without answering — metadata fails and
// cross (0.2.5 as the stand-in) falls back to cargo on the host, where every
// compile hashes differently from the container's (CARGO_HOME, CARGO_TARGET_DIR,
// paths). The action therefore takes its ports from below the ranges systems
// give outgoing connections; the workload test fails on such a fallback.
func TestHeldHostPortBuildsOnTheHost(t *testing.T) {
	needSandbox(t)
	root := cacheRoot(t)
	hostPort := testkit.ServerPort(t)
	stopHostServer(t, root, hostPort)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: hostPort, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("cannot hold port %d: %v", hostPort, err)
	}
	crate := tinyCrate(t, "[build.env]\npassthrough = [\"RUSTC_WRAPPER\", \"SCCACHE_DIR\", \"SCCACHE_CONF\"]\nvolumes = [\"RUSTCACHE_ROOT\"]\n")
	code, log := runCross(t, crate, hostEnv(t, rootEnv(root, "sccache", hostPort)), "build")
	if !strings.Contains(log, "Falling back to `cargo` on the host") || !strings.Contains(log, "Connection to server timed out") {
		t.Fatalf("cross build = %d without the fallback to the host and its reason:\n%s", code, lastLines(log, 20))
	}
}
