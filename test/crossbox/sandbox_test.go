package crossbox

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
)

// probeSetup prepares a tiny crate whose cross configuration passes the
// probe's variables through and mounts root (holding bin/probe) as a volume.
func probeSetup(t *testing.T, crossToml string) (crate, root string) {
	t.Helper()
	needSandbox(t)
	root = t.TempDir()
	copyFile(t, probeBinary(t), filepath.Join(root, "bin", "probe"), 0o755)
	return tinyCrate(t, crossToml), root
}

const probeCrossToml = `[build.env]
passthrough = ["RUSTC_WRAPPER", "PROBE_OUT", "PROBE_WRITE", "PROBE_DIAL", "PROBE_LINGER", "PROBE_LINGER_MARK", "LITERAL=from-cross-toml"]
volumes = ["PROBE_ROOT"]
`

func TestSandboxSeesOnlyWhatCrossPasses(t *testing.T) {
	crate, root := probeSetup(t, probeCrossToml)
	out := filepath.Join(root, "report")
	env := hostEnv(t, map[string]string{
		"PROBE_ROOT":                root,
		"RUSTC_WRAPPER":             filepath.Join(root, "bin", "probe"),
		"PROBE_OUT":                 out,
		"PROBE_WRITE":               strings.Join([]string{root, crate, "/tmp", "/cargo/bin", "/"}, ":"),
		"NOT_PASSED":                "secret",
		"CARGO_TERM_COLOR":          "never",
		"CARGO_BUILD_RUSTC_WRAPPER": "/host/only/wrapper",
		"CROSS_UNRELATED":           "x",
	})
	var cargoHome string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "CARGO_HOME="); ok {
			cargoHome = v
		}
	}
	// Something in the host's cargo bin/ that must not show inside.
	copyFile(t, probeBinary(t), filepath.Join(cargoHome, "bin", "cargo-hostonly"), 0o755)

	code, log := runCross(t, crate, env, "build")
	if code != 0 {
		t.Fatalf("cross build = %d\n%s", code, log)
	}

	// cross runs `cargo metadata` on the host first, and cargo runs the
	// wrapper there for `rustc -vV`: a host-side invocation happens.
	host, _ := os.Hostname()
	if r := readReport(t, out, host); r.Env["NOT_PASSED"] != "secret" {
		t.Errorf("host-side wrapper run did not see the host environment")
	}

	r := readReport(t, out, "crossbox")
	if r.UID != containerUID() || r.GID != containerUID() {
		t.Errorf("ids inside = %d:%d, want %d", r.UID, r.GID, containerUID())
	}
	for k, want := range map[string]string{
		"LITERAL":          "from-cross-toml",
		"CARGO_TERM_COLOR": "never",
		"CARGO_HOME":       "/cargo",
		"CARGO_TARGET_DIR": "/target",
		"HOME":             "/",
		"RUSTC_WRAPPER":    filepath.Join(root, "bin", "probe"),
	} {
		if got := r.Env[k]; got != want {
			t.Errorf("inside %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"NOT_PASSED", "CARGO_BUILD_RUSTC_WRAPPER", "CROSS_UNRELATED", "PROBE_ROOT", "RUSTUP_HOME", "GOPATH"} {
		if v, ok := r.Env[k]; ok {
			t.Errorf("inside %s = %q; cross would not pass it", k, v)
		}
	}
	if !strings.HasSuffix(r.Env["PATH"], ":/rust/bin") {
		t.Errorf("PATH inside = %q, want the image PATH plus /rust/bin", r.Env["PATH"])
	}
	if r.Cwd != crate {
		t.Errorf("cwd inside = %q, want the host path %q (a volume is configured)", r.Cwd, crate)
	}
	if len(r.CargoBin) != 0 || r.CargoBinE != "" {
		t.Errorf("/cargo/bin inside = %v (%s), want an empty directory", r.CargoBin, r.CargoBinE)
	}
	for dir, want := range map[string]string{root: "ok", crate: "ok", "/tmp": "ok", "/cargo/bin": "permission denied", "/": "read-only"} {
		if got := r.Writes[dir]; !strings.Contains(got, want) {
			t.Errorf("writing in %s inside: %q, want %q", dir, got, want)
		}
	}
	// What the container user creates on a volume belongs to the caller on
	// the host (bubblewrap maps the sandbox uid onto the caller's).
	fi, err := os.Stat(filepath.Join(root, "probe-wrote-this"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() {
		t.Errorf("file written on the volume is owned by %d on the host, want %d", st.Uid, os.Getuid())
	}
	if _, err := os.Stat(filepath.Join(crate, "target", triple, "debug", "libtiny.rlib")); err != nil {
		t.Errorf("build output not in the host target directory: %v", err)
	}
}

func TestProjectAtSlashProjectWithoutVolumes(t *testing.T) {
	needSandbox(t)
	crate := tinyCrate(t, `[build.env]
passthrough = ["RUSTC_WRAPPER=/project/.probe/probe", "PROBE_OUT=/project/.probe/report"]
`)
	copyFile(t, probeBinary(t), filepath.Join(crate, ".probe", "probe"), 0o755)
	code, log := runCross(t, crate, hostEnv(t, nil), "build")
	if code != 0 {
		t.Fatalf("cross build = %d\n%s", code, log)
	}
	r := readReport(t, filepath.Join(crate, ".probe", "report"), "crossbox")
	if r.Cwd != "/project" {
		t.Errorf("cwd inside = %q, want /project", r.Cwd)
	}
}

func TestNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	}()
	tests := []struct {
		name      string
		opts      string
		reachable bool
	}{
		{"private network like docker's bridge", "", false},
		{"host network", "--network=host", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crate, root := probeSetup(t, probeCrossToml)
			out := filepath.Join(root, "report")
			extra := map[string]string{
				"PROBE_ROOT":    root,
				"RUSTC_WRAPPER": filepath.Join(root, "bin", "probe"),
				"PROBE_OUT":     out,
				"PROBE_DIAL":    l.Addr().String(),
			}
			if tt.opts != "" {
				extra["CROSS_CONTAINER_OPTS"] = tt.opts
			}
			// Drain accepts from earlier runs (the host-side wrapper dials too).
			for len(accepted) > 0 {
				<-accepted
			}
			code, log := runCross(t, crate, hostEnv(t, extra), "build")
			if code != 0 {
				t.Fatalf("cross build = %d\n%s", code, log)
			}
			r := readReport(t, out, "crossbox")
			if got := r.Dial == "ok"; got != tt.reachable {
				t.Errorf("dial %s from inside: %q, want reachable=%v", l.Addr(), r.Dial, tt.reachable)
			}
		})
	}
}

func TestProcessesDieWithSandbox(t *testing.T) {
	crate, root := probeSetup(t, probeCrossToml)
	token := fmt.Sprintf("crossbox-linger-%d-%d", os.Getpid(), time.Now().UnixNano())
	mark := filepath.Join(root, "linger-started")
	env := hostEnv(t, map[string]string{
		"PROBE_ROOT":        root,
		"RUSTC_WRAPPER":     filepath.Join(root, "bin", "probe"),
		"PROBE_OUT":         filepath.Join(root, "report"),
		"PROBE_LINGER":      token,
		"PROBE_LINGER_MARK": mark,
	})
	code, log := runCross(t, crate, env, "build")
	if code != 0 {
		t.Fatalf("cross build = %d\n%s", code, log)
	}
	// The host-side wrapper run lingers too, by design of the probe: it is
	// the control that shows the scan finds a surviving process.
	host, _ := os.Hostname()
	hostPID := readReport(t, filepath.Join(root, "report"), host).LingerPID
	if hostPID == 0 || len(lingering(token)) == 0 {
		t.Fatalf("control: the host-side lingering process was not found")
	}
	syscall.Kill(hostPID, syscall.SIGKILL)
	if r := readReport(t, filepath.Join(root, "report"), "crossbox"); r.LingerPID == 0 {
		t.Fatal("the probe did not start a lingering process inside")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := lingering(token)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("processes %v started inside the sandbox outlived it", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lingering returns the pids whose command line carries token.
func lingering(token string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(token)) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
			continue // a zombie is dead already
		}
		pids = append(pids, pid)
	}
	return pids
}

func TestExitStatusOfCargoIsReturned(t *testing.T) {
	needSandbox(t)
	crate := tinyCrate(t, "")
	if err := os.WriteFile(filepath.Join(crate, "src", "lib.rs"), []byte("pub fn broken( {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, log := runCross(t, crate, hostEnv(t, nil), "build")
	if code != 101 {
		t.Fatalf("cross build of a broken crate = %d, want cargo's 101\n%s", code, log)
	}
}

func TestVersion(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	code, log := runCross(t, t.TempDir(), hostEnv(t, nil), "--version")
	if code != 0 || !strings.Contains(log, Version) || !strings.Contains(log, "cargo ") {
		t.Fatalf("cross --version = %d\n%s", code, log)
	}
}
