package crossbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

var (
	binDir      string // per test binary, removed by TestMain
	probeOnce   sync.Once
	probePath   string
	probeOutput []byte
	probeErr    error
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "crossbox-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// needSandbox skips (fails under CI) unless bubblewrap and a Rust toolchain
// are installed.
func needSandbox(t *testing.T) {
	t.Helper()
	testkit.NeedTool(t, "bwrap")
	testkit.NeedTool(t, "cargo")
	testkit.NeedTool(t, "rustc")
}

// probeBinary builds cmd/probe once, statically, so it runs in any sandbox.
func probeBinary(t *testing.T) string {
	t.Helper()
	gobin := testkit.NeedTool(t, "go")
	probeOnce.Do(func() {
		probePath = filepath.Join(binDir, "probe")
		cmd := exec.Command(gobin, "build", "-o", probePath, "./cmd/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		probeOutput, probeErr = cmd.CombinedOutput()
	})
	if probeErr != nil {
		t.Fatalf("build probe: %v\n%s", probeErr, probeOutput)
	}
	return probePath
}

// copyFile copies src to dst with mode perm.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, perm); err != nil {
		t.Fatal(err)
	}
}

// tinyCrate copies testdata/tiny into a new directory with the given
// Cross.toml and returns it.
func tinyCrate(t *testing.T, crossToml string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.CopyFS(dir, os.DirFS("testdata/tiny")); err != nil {
		t.Fatal(err)
	}
	if crossToml != "" {
		if err := os.WriteFile(filepath.Join(dir, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scrubbed are host variables that would change a scenario if the machine
// running the tests happened to set them.
func scrubbed(k string) bool {
	for _, p := range []string{"CARGO_", "CROSS_", "SCCACHE_", "RUSTC_", "PROBE_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	switch k {
	case "RUSTC_WRAPPER", "RUSTFLAGS", "RUSTDOCFLAGS", "DOCKER_OPTS", "CARGO_HOME", "XARGO_HOME":
		return true
	}
	return false
}

// hostEnv is the environment cross runs with: the test process's own minus
// scrubbed variables, a fresh cargo home (like a new runner), and extra.
func hostEnv(t *testing.T, extra map[string]string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !scrubbed(k) {
			env = append(env, kv)
		}
	}
	home := filepath.Join(t.TempDir(), "cargo-home")
	env = append(env, "CARGO_HOME="+home, "XARGO_HOME="+filepath.Join(t.TempDir(), "xargo"))
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// runCross runs the stand-in in-process and returns its status and output.
func runCross(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	code := Main(Options{
		Args: args, Env: env, Dir: dir,
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out,
		UID: os.Getuid(), GID: os.Getgid(), Username: name,
	})
	return code, out.String()
}

// probeReport is cmd/probe's Report.
type probeReport struct {
	UID, GID  int
	Cwd       string
	Hostname  string
	Env       map[string]string
	CargoBin  []string
	CargoBinE string
	Writes    map[string]string
	Dial      string
	LingerPID int
}

func readReport(t *testing.T, prefix, host string) probeReport {
	t.Helper()
	b, err := os.ReadFile(prefix + "-" + host + ".json")
	if err != nil {
		t.Fatalf("probe report for %s: %v", host, err)
	}
	var r probeReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// containerUID is the uid the sandbox runs as for this test process.
func containerUID() int {
	if os.Getuid() == 0 {
		return DefaultUID
	}
	return os.Getuid()
}
