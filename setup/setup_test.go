package setup_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/state"
)

func TestSetupExportsAndInstalls(t *testing.T) {
	// Registered first, this check runs after every other cleanup.
	var addr string
	t.Cleanup(func() {
		if c, err := net.Dial("tcp", addr); addr != "" && err == nil {
			c.Close()
			t.Errorf("an sccache server still listens on %s after the test", addr)
		}
	})
	r := actiontest.New(t)
	s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cache-size": "500M"}, nil)
	if s.Code != 0 {
		t.Fatalf("setup exit %d\n%s", s.Code, s.Stdout)
	}
	root := filepath.Join(r.Temp, "rustcache")
	port, err := strconv.Atoi(s.Env["SCCACHE_SERVER_PORT"])
	if err != nil || port < 20000 || port > 60000 {
		t.Errorf("SCCACHE_SERVER_PORT = %q", s.Env["SCCACHE_SERVER_PORT"])
	}
	want := map[string]string{
		"RUSTC_WRAPPER":          filepath.Join(root, "bin", "sccache-wait"), // a release before 0.9
		"SCCACHE_DIR":            filepath.Join(root, "cache"),
		"SCCACHE_CONF":           filepath.Join(root, "sccache.conf"),
		"SCCACHE_CACHE_SIZE":     "500M",
		"SCCACHE_DIRECT":         "true",
		"CARGO_BUILD_PIPELINING": "false",
		"CARGO_INCREMENTAL":      "0",
		"SCCACHE_SERVER_PORT":    s.Env["SCCACHE_SERVER_PORT"],
		"RUSTCACHE_ROOT":         root,
	}
	if d := cmp.Diff(want, s.Env); d != "" {
		t.Errorf("GITHUB_ENV (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{filepath.Join(root, "bin")}, s.Path); d != "" {
		t.Errorf("GITHUB_PATH (-want +got):\n%s", d)
	}
	sccache := filepath.Join(root, "bin", "sccache")
	if s.Outputs["sccache-version"] != r.Version || s.Outputs["sccache-path"] != sccache || s.Outputs["cache-root"] != root {
		t.Errorf("outputs = %v", s.Outputs)
	}
	if conf, err := os.ReadFile(want["SCCACHE_CONF"]); err != nil || !strings.Contains(string(conf), "server_startup_timeout_ms") {
		t.Errorf("sccache.conf = %q, %v", conf, err)
	}
	asset := arch.AssetName(r.Version, "x86_64-unknown-linux-musl")
	if n := r.Release.Count(asset); n != 1 {
		t.Errorf("downloads = %d, want 1", n)
	}

	// A second setup (same runner) reuses the tool cache: no download, same
	// configuration.
	s2 := r.Run("setup", map[string]string{"sccache-version": r.Version, "cache-size": "500M"}, nil)
	if s2.Code != 0 {
		t.Fatalf("second setup exit %d\n%s", s2.Code, s2.Stdout)
	}
	if n := r.Release.Count(asset); n != 1 {
		t.Errorf("downloads after a second setup = %d, want 1 (tool cache reuse)", n)
	}
	if d := cmp.Diff(s.Env, s2.Env); d != "" {
		t.Errorf("second setup exported something else:\n%s", d)
	}
	// The waiting wrapper asks the server of the job's port for its
	// statistics, which starts one there: the runner stops it at cleanup.
	addr = net.JoinHostPort("127.0.0.1", s.Env["SCCACHE_SERVER_PORT"])
	cmd := exec.Command(want["RUSTC_WRAPPER"], "--version")
	// The job's environment as setup exported it: its port, and the
	// configuration that gives a server on a busy runner time to start.
	cmd.Env = os.Environ()
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "sccache ") {
		t.Errorf("installed sccache --version: %v %q", err, out)
	}
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Errorf("the wrapper started no server on the job's port: %v", err)
	} else {
		c.Close()
	}
}

func TestSetupPrecedence(t *testing.T) {
	r := actiontest.New(t)
	r.Env["SCCACHE_DIRECT"] = "false"  // the user's workflow env
	r.Env["CARGO_INCREMENTAL"] = "1"   // likewise, but the input below wins
	r.Env["SCCACHE_CACHE_SIZE"] = "7G" // kept: no cache-size input
	s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cargo-incremental": "false", "cargo-build-pipelining": "true"}, nil)
	if s.Code != 0 {
		t.Fatalf("setup exit %d\n%s", s.Code, s.Stdout)
	}
	for k, want := range map[string]string{"SCCACHE_DIRECT": "false", "CARGO_INCREMENTAL": "0", "SCCACHE_CACHE_SIZE": "7G", "CARGO_BUILD_PIPELINING": "true"} {
		if s.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, s.Env[k], want)
		}
	}
	st, err := state.Load(s.Outputs["cache-root"])
	if err != nil || st.CacheSize != 7<<30 {
		t.Errorf("state cache size = %d (%v), want the user's 7G", st.CacheSize, err)
	}
}

// TestSetupFailuresChangeNothing checks that every failing setup leaves
// GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT empty and names the problem.
func TestSetupFailuresChangeNothing(t *testing.T) {
	tests := []struct {
		name    string
		inputs  map[string]string
		env     map[string]string
		fault   fakerelease.Fault
		prepare func(t *testing.T, r *actiontest.Runner) map[string]string // more inputs
		want    string
	}{
		{name: "bad version", inputs: map[string]string{"sccache-version": "1.x"}, want: "input sccache-version"},
		{name: "bad size", inputs: map[string]string{"cache-size": "2X"}, want: "input cache-size"},
		{name: "bad bool", inputs: map[string]string{"sccache-direct": "yes"}, want: "input sccache-direct"},
		{name: "bad cross", inputs: map[string]string{"cross": "maybe"}, want: "input cross"},
		{name: "bad target", inputs: map[string]string{"sccache-target": "x86_64-unknown-linux-gnu"}, want: "input sccache-target"},
		{name: "bad url", inputs: map[string]string{"sccache-url": "ftp://x"}, want: "input sccache-url"},
		{name: "bad setup timeout", inputs: map[string]string{"setup-timeout-minutes": "0"}, want: "input setup-timeout-minutes"},
		{name: "bad fail-on-cache-error", inputs: map[string]string{"fail-on-cache-error": "yes"}, want: "input fail-on-cache-error"},
		{name: "relative root", inputs: map[string]string{"cache-root": "rel/dir"}, want: "input cache-root"},
		{name: "missing workspace", inputs: map[string]string{"working-directory": "nope"}, want: "input working-directory"},
		{name: "unknown platform", env: map[string]string{"RUNNER_OS": "FreeBSD"}, want: "RUNNER_OS=\"FreeBSD\""},
		{name: "checksum mismatch", fault: fakerelease.WrongChecksum, want: "checksum"},
		{name: "404 asset", fault: fakerelease.NotFound, want: "not found"},
		{name: "working directory climbs out", inputs: map[string]string{"working-directory": "../../etc", "cross": "true"}, want: "climbs out of it"},
		{name: "malformed Cross.toml", prepare: func(t *testing.T, r *actiontest.Runner) map[string]string {
			writeFile(t, filepath.Join(r.Workspace, "Cross.toml"), "[build.env\npassthrough = 1\n")
			return nil
		}, want: "Cross.toml"},
		{name: "read-only workspace", prepare: func(t *testing.T, r *actiontest.Runner) map[string]string {
			readOnly(t, r.Workspace)
			return map[string]string{"cross": "true"}
		}, want: "cannot be written"},
		{name: "Cross.toml links out of the workspace", prepare: func(t *testing.T, r *actiontest.Runner) map[string]string {
			victim := filepath.Join(r.Dir, "victim.toml")
			writeFile(t, victim, "[build]\nxargo = false\n")
			os.Symlink(victim, filepath.Join(r.Workspace, "Cross.toml"))
			return nil
		}, want: "is not written"},
		{name: "cache-root is the workspace", prepare: func(t *testing.T, r *actiontest.Runner) map[string]string {
			writeFile(t, filepath.Join(r.Workspace, "cache", "kept.txt"), "the repository's own cache/")
			return map[string]string{"cache-root": r.Workspace}
		}, want: "not created by rustcache-action"},
		{name: "cache-root of another user", prepare: func(t *testing.T, r *actiontest.Runner) map[string]string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			root := filepath.Join(r.Dir, "theirs")
			os.Mkdir(root, 0o755)
			os.Chown(root, 65534, 65534)
			return map[string]string{"cache-root": root}
		}, want: "belongs to uid 65534"},
	}
	for _, tc := range tests {
		for _, existing := range []bool{false, true} {
			name := tc.name
			if existing {
				// A root (and tool cache) from an earlier setup on this runner
				// must stay as it was too; a release fault would not be
				// reached from the tool cache.
				if tc.fault != 0 || tc.env != nil {
					continue
				}
				name += "/after a good setup"
			}
			t.Run(name, func(t *testing.T) {
				r := actiontest.New(t).With(tc.env)
				if existing {
					if s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil); s.Code != 0 {
						t.Fatalf("first setup: %s", s.Stdout)
					}
				}
				failingSetup(t, r, tc.inputs, tc.fault, tc.prepare, tc.want)
			})
		}
	}
}

// failingSetup runs a setup that must fail naming want, and checks it wrote
// nothing: no workflow command file line, the runner's directories
// byte-identical.
func failingSetup(t *testing.T, r *actiontest.Runner, inputs map[string]string, fault fakerelease.Fault,
	prepare func(t *testing.T, r *actiontest.Runner) map[string]string, want string) {
	t.Helper()
	in := map[string]string{"sccache-version": r.Version}
	for k, v := range inputs {
		in[k] = v
	}
	if fault != 0 {
		name := arch.AssetName(r.Version, "x86_64-unknown-linux-musl")
		if fault == fakerelease.WrongChecksum {
			name += ".sha256"
		}
		r.Release.Fail(name, fault, -1)
	}
	if prepare != nil {
		for k, v := range prepare(t, r) {
			in[k] = v
		}
	}
	before := actiontest.Tree(t, r.Dir)
	s := r.Run("setup", in, nil)
	if s.Code == 0 {
		t.Fatalf("setup succeeded:\n%s", s.Stdout)
	}
	errs := s.Annotations("error")
	t.Logf("%s", strings.Join(errs, "\n"))
	if len(errs) == 0 || !strings.Contains(strings.ToLower(strings.Join(errs, "\n")), strings.ToLower(want)) {
		t.Errorf("errors %q do not mention %q\n%s", errs, want, s.Stdout)
	}
	if len(s.Env) != 0 || len(s.Path) != 0 || len(s.Outputs) != 0 {
		t.Errorf("failed setup wrote env %v path %v outputs %v", s.Env, s.Path, s.Outputs)
	}
	if d := cmp.Diff(before, actiontest.Tree(t, r.Dir)); d != "" {
		t.Errorf("failed setup changed files (-before +after):\n%s", d)
	}
}

// TestWrapperByVersion: sccache 0.9 and later write the cache entry before
// answering, so RUSTC_WRAPPER is sccache itself; earlier releases get the
// waiting script.
func TestWrapperByVersion(t *testing.T) {
	for _, tc := range []struct{ version, wrapper string }{
		{"v0.8.2", "sccache-wait"},
		{"v0.9.0", "sccache"},
		{"v0.18.1", "sccache"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			r := actiontest.New(t)
			r.Release = fakerelease.New(t, fakerelease.Options{Versions: []string{tc.version}})
			r.Env["GITHUB_SERVER_URL"], r.Env["GITHUB_API_URL"] = r.Release.ServerURL(), r.Release.APIURL()
			s := r.Run("setup", map[string]string{"sccache-version": tc.version}, nil)
			if s.Code != 0 {
				t.Fatal(s.Stdout)
			}
			if got := filepath.Base(s.Env["RUSTC_WRAPPER"]); got != tc.wrapper {
				t.Errorf("RUSTC_WRAPPER = %s, want %s", got, tc.wrapper)
			}
			_, err := os.Stat(filepath.Join(filepath.Dir(s.Env["RUSTC_WRAPPER"]), "sccache-wait"))
			if (tc.wrapper == "sccache-wait") != (err == nil) {
				t.Errorf("sccache-wait present = %v", err == nil)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readOnly makes dir unwritable, for root too: the immutable attribute.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("chattr +i unavailable: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

// TestMultiLineTokenMaskedLineByLine: the runner masks its log one line at
// a time, so a github-token of several lines is registered line by line —
// printed raw, its second line would have been a log line in clear.
func TestMultiLineTokenMaskedLineByLine(t *testing.T) {
	r := actiontest.New(t)
	const first, second = "ghs_FIRSTLINEOFTOKEN0123", "SECONDLINEOFTOKEN4567"
	s := r.Run("setup", map[string]string{"sccache-version": r.Version, "github-token": first + "\n" + second + "\n"}, nil)
	if s.Code != 0 {
		t.Fatalf("setup: exit %d\n%s", s.Code, s.Stdout)
	}
	lines := strings.Split(s.Stdout, "\n")
	masks := map[string]int{}
	for i, l := range lines {
		switch {
		case l == "::add-mask::"+first || l == "::add-mask::"+second:
			masks[l] = i
		case strings.Contains(l, first) || strings.Contains(l, second):
			t.Errorf("line %d shows part of the token: %q", i+1, l)
		}
	}
	if len(masks) != 2 {
		t.Errorf("want an ::add-mask:: for each line of the token, got %v:\n%s", masks, s.Stdout)
	}
	for _, m := range masks {
		if m > 1 {
			t.Errorf("a mask printed on line %d, not before everything else:\n%s", m+1, s.Stdout)
		}
	}
}

// TestOddRootReachesLaterStepsExactly: a cache-root that holds "::", "<<",
// "=" and the old fixed file-command delimiter (but no control character)
// is a valid path; GITHUB_ENV, GITHUB_OUTPUT and GITHUB_PATH, read as the
// runner reads them, carry exactly setup's names with it as their value.
func TestOddRootReachesLaterStepsExactly(t *testing.T) {
	r := actiontest.New(t)
	root := filepath.Join(r.Temp, "odd::root<<EOF=x_GitHubActionsFileCommandDelimeter_")
	s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cache-root": root}, nil)
	if s.Code != 0 {
		t.Fatalf("setup: exit %d\n%s", s.Code, s.Stdout)
	}
	if s.Env["RUSTCACHE_ROOT"] != root || s.Outputs["cache-root"] != root {
		t.Errorf("RUSTCACHE_ROOT = %q, output cache-root = %q, want %q", s.Env["RUSTCACHE_ROOT"], s.Outputs["cache-root"], root)
	}
	for k := range s.Env {
		if !strings.HasPrefix(k, "SCCACHE_") && !strings.HasPrefix(k, "CARGO_") && k != "RUSTC_WRAPPER" && k != "RUSTCACHE_ROOT" {
			t.Errorf("GITHUB_ENV sets %q", k)
		}
	}
	if len(s.Path) != 1 || s.Path[0] != filepath.Join(root, "bin") {
		t.Errorf("GITHUB_PATH = %q", s.Path)
	}
}
