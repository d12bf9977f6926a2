package crossbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testHost is a host whose workspace is a temporary directory.
func testHost(t *testing.T, env map[string]string) Host {
	t.Helper()
	root := writeFiles(t, map[string]string{"Cargo.toml": plainCargo})
	h := Host{
		Env:             map[string]string{"HOME": "/home/runner", "PATH": "/usr/bin"},
		Cwd:             root,
		UID:             0,
		GID:             0,
		Username:        "runner",
		HostTriple:      triple,
		Sysroot:         "/opt/rust",
		WorkspaceRoot:   root,
		TargetDirectory: filepath.Join(root, "target"),
	}
	for k, v := range env {
		h.Env[k] = v
	}
	return h
}

func planFor(t *testing.T, h Host, crossToml string, argv ...string) (*Plan, error) {
	t.Helper()
	if crossToml != "" {
		if err := os.WriteFile(filepath.Join(h.WorkspaceRoot, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadConfig(h.WorkspaceRoot, h.lookup)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseArgs(argv, h.Cwd)
	if err != nil {
		t.Fatal(err)
	}
	return MakePlan(h, cfg, a)
}

func envMap(list []string) map[string]string {
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestPlanEnvironment(t *testing.T) {
	h := testHost(t, map[string]string{
		"SECRET":                    "must-not-leak",
		"ACTIONS_RUNTIME_TOKEN":     "token",
		"RUSTC_WRAPPER":             "/root/bin/sccache",
		"SCCACHE_DIR":               "/root/cache",
		"CARGO_INCREMENTAL":         "0",
		"CARGO_BUILD_PIPELINING":    "false",
		"CARGO_BUILD_RUSTC_WRAPPER": "/host/only/wrapper",
		"CARGO_HOME":                "/home/runner/.cargo",
		"CARGO_TARGET_DIR":          "/home/runner/target",
		"RUSTFLAGS":                 "-Dwarnings",
		"CROSS_SOMETHING":           "not-forwarded-by-0.2.5",
		"TERM":                      "xterm",
	})
	h.TargetDirectory = "/home/runner/target"
	p, err := planFor(t, h, `
[build.env]
passthrough = ["RUSTC_WRAPPER", "SCCACHE_DIR", "SCCACHE_SERVER_PORT=4227", "UNSET_ON_HOST", "CARGO_HOME=/elsewhere"]
`, "build")
	if err != nil {
		t.Fatal(err)
	}
	got := envMap(p.Env)
	want := map[string]string{
		"PATH":                   imagePath,
		"HOSTNAME":               "crossbox",
		"HOME":                   "/",
		"RUSTC_WRAPPER":          "/root/bin/sccache",
		"SCCACHE_DIR":            "/root/cache",
		"SCCACHE_SERVER_PORT":    "4227",
		"PKG_CONFIG_ALLOW_CROSS": "1",
		"XARGO_HOME":             "/xargo",
		"CARGO_HOME":             "/cargo", // cross's own value wins over the passthrough
		"CARGO_TARGET_DIR":       "/target",
		"CROSS_RUNNER":           "",
		"CARGO_INCREMENTAL":      "0",
		"CARGO_BUILD_PIPELINING": "false",
		"RUSTFLAGS":              "-Dwarnings",
		"TERM":                   "xterm",
		"USER":                   "runner",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("container environment (-want +got):\n%s", diff)
	}
}

func TestPlanExplicitPassthroughOfBlockedVariable(t *testing.T) {
	h := testHost(t, map[string]string{"CARGO_BUILD_RUSTC_WRAPPER": "/w"})
	p, err := planFor(t, h, "[build.env]\npassthrough = [\"CARGO_BUILD_RUSTC_WRAPPER\"]\n", "build")
	if err != nil {
		t.Fatal(err)
	}
	if got := envMap(p.Env)["CARGO_BUILD_RUSTC_WRAPPER"]; got != "/w" {
		t.Errorf("CARGO_BUILD_RUSTC_WRAPPER = %q; cross only blocks its automatic forwarding", got)
	}
}

func TestPlanRejectsCrossRunnerPassthrough(t *testing.T) {
	h := testHost(t, nil)
	for _, entry := range []string{"passthrough = [\"CROSS_RUNNER\"]", "passthrough = [\"CROSS_RUNNER=x\"]", "volumes = [\"CROSS_RUNNER\"]"} {
		if _, err := planFor(t, h, "[build.env]\n"+entry+"\n", "build"); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("%s: error = %v, want reserved-name error", entry, err)
		}
	}
}

func TestPlanProjectMount(t *testing.T) {
	vol := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(vol, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		crossToml  string
		subdir     string
		wantRoot   string // "" means the host path of the workspace
		wantVolume string
		wantErr    string
	}{
		{name: "no volumes: /project", wantRoot: "/project"},
		{name: "no volumes, cwd in a member: /project/sub", subdir: "sub", wantRoot: "/project"},
		{name: "volume configured: host path", env: map[string]string{"ROOT": vol}, crossToml: "[build.env]\nvolumes = [\"ROOT\"]\n", wantVolume: vol},
		{name: "volume through a symlink is canonicalized", env: map[string]string{"ROOT": link}, crossToml: "[build.env]\nvolumes = [\"ROOT\"]\n", wantVolume: vol},
		{name: "literal volume path", crossToml: "[build.env]\nvolumes = [\"ROOT=" + vol + "\"]\n", wantVolume: vol},
		{name: "unset volume variable is skipped", crossToml: "[build.env]\nvolumes = [\"ROOT\"]\n", wantRoot: "/project"},
		{name: "missing volume directory fails", env: map[string]string{"ROOT": filepath.Join(vol, "absent")}, crossToml: "[build.env]\nvolumes = [\"ROOT\"]\n", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, tt.env)
			if tt.subdir != "" {
				h.Cwd = filepath.Join(h.WorkspaceRoot, tt.subdir)
			}
			p, err := planFor(t, h, tt.crossToml, "build")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantRoot := tt.wantRoot
			if wantRoot == "" {
				wantRoot = h.WorkspaceRoot
			}
			if p.MountRoot != wantRoot {
				t.Errorf("MountRoot = %q, want %q", p.MountRoot, wantRoot)
			}
			wantWorkdir := filepath.Join(wantRoot, tt.subdir)
			if p.Workdir != wantWorkdir {
				t.Errorf("Workdir = %q, want %q", p.Workdir, wantWorkdir)
			}
			var volumes []string
			for _, m := range p.Mounts {
				if m.Kind == "bind" && m.Src == m.Dst && m.Src != h.WorkspaceRoot {
					volumes = append(volumes, m.Src)
				}
			}
			var wantVolumes []string
			if tt.wantVolume != "" {
				wantVolumes = []string{tt.wantVolume}
				if _, ok := envMap(p.Env)["ROOT"]; ok {
					t.Errorf("volume variable ROOT is set inside; 0.2.5 does not set it")
				}
			}
			if diff := cmp.Diff(wantVolumes, volumes); diff != "" {
				t.Errorf("volume mounts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanFixedMounts(t *testing.T) {
	h := testHost(t, map[string]string{"CARGO_HOME": "/home/runner/ch"})
	p, err := planFor(t, h, "", "build")
	if err != nil {
		t.Fatal(err)
	}
	byDst := map[string]Mount{}
	for _, m := range p.Mounts {
		byDst[m.Dst] = m
	}
	want := map[string]Mount{
		"/cargo":     {Kind: "bind", Src: "/home/runner/ch", Dst: "/cargo"},
		"/cargo/bin": {Kind: "tmpfs", Dst: "/cargo/bin", Perms: "0555"},
		"/xargo":     {Kind: "bind", Src: "/home/runner/.xargo", Dst: "/xargo"},
		"/rust":      {Kind: "ro-bind", Src: "/opt/rust", Dst: "/rust"},
		"/target":    {Kind: "bind", Src: h.TargetDirectory, Dst: "/target"},
		"/project":   {Kind: "bind", Src: h.WorkspaceRoot, Dst: "/project"},
		"/tmp":       {Kind: "tmpfs", Dst: "/tmp", Perms: "1777"},
		"/usr":       {Kind: "ro-bind", Src: "/usr", Dst: "/usr"},
	}
	for dst, w := range want {
		if diff := cmp.Diff(w, byDst[dst]); diff != "" {
			t.Errorf("mount %s (-want +got):\n%s", dst, diff)
		}
	}
	// /cargo/bin must come after /cargo to hide it.
	if i, j := indexOf(p.Mounts, "/cargo"), indexOf(p.Mounts, "/cargo/bin"); !(i < j) {
		t.Errorf("/cargo (%d) must be mounted before /cargo/bin (%d)", i, j)
	}
	if diff := cmp.Diff([]string{"/home/runner/ch", "/home/runner/ch/bin", "/home/runner/.xargo", h.TargetDirectory}, p.CreateDirs); diff != "" {
		t.Errorf("CreateDirs (-want +got):\n%s", diff)
	}
}

func indexOf(ms []Mount, dst string) int {
	for i, m := range ms {
		if m.Dst == dst {
			return i
		}
	}
	return -1
}

func TestPlanIdentity(t *testing.T) {
	tests := []struct {
		name     string
		uid, gid int
		env      map[string]string
		wantUID  int
		wantGID  int
	}{
		{"root caller runs as the runner-like default", 0, 0, nil, DefaultUID, DefaultGID},
		{"non-root caller keeps its ids", 1000, 100, nil, 1000, 100},
		{"CROSS_CONTAINER_UID/GID override", 1000, 100, map[string]string{"CROSS_CONTAINER_UID": "2000", "CROSS_CONTAINER_GID": "3000"}, 2000, 3000},
		{"rootless engine runs as root inside", 1000, 100, map[string]string{"CROSS_ROOTLESS_CONTAINER_ENGINE": "1"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, tt.env)
			h.UID, h.GID = tt.uid, tt.gid
			p, err := planFor(t, h, "", "build")
			if err != nil {
				t.Fatal(err)
			}
			if p.UID != tt.wantUID || p.GID != tt.wantGID {
				t.Errorf("ids = %d:%d, want %d:%d", p.UID, p.GID, tt.wantUID, tt.wantGID)
			}
		})
	}
	h := testHost(t, map[string]string{"CROSS_CONTAINER_UID": "runner"})
	if _, err := planFor(t, h, "", "build"); err == nil {
		t.Error("non-numeric CROSS_CONTAINER_UID accepted")
	}
}

func TestPlanContainerOpts(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantNet   bool
		wantEntry string
		wantEnv   map[string]string
	}{
		{name: "default is a private network"},
		{name: "--network=host", env: map[string]string{"CROSS_CONTAINER_OPTS": "--network=host"}, wantNet: true},
		{name: "--network host", env: map[string]string{"CROSS_CONTAINER_OPTS": "--rm --network host"}, wantNet: true},
		{name: "--net=host", env: map[string]string{"CROSS_CONTAINER_OPTS": "--net=host"}, wantNet: true},
		{name: "bridge", env: map[string]string{"CROSS_CONTAINER_OPTS": "--network=bridge"}},
		{name: "DOCKER_OPTS fallback", env: map[string]string{"DOCKER_OPTS": "--network=host"}, wantNet: true},
		{name: "CROSS_CONTAINER_OPTS wins over DOCKER_OPTS", env: map[string]string{"CROSS_CONTAINER_OPTS": "", "DOCKER_OPTS": "--network=host"}},
		{name: "env and entrypoint", env: map[string]string{"CROSS_CONTAINER_OPTS": `-e "GREETING=hello world" --env=FROMHOST --entrypoint /r/bin/entry`, "FROMHOST": "v"},
			wantEntry: "/r/bin/entry", wantEnv: map[string]string{"GREETING": "hello world", "FROMHOST": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, tt.env)
			p, err := planFor(t, h, "", "build")
			if err != nil {
				t.Fatal(err)
			}
			if p.HostNet != tt.wantNet {
				t.Errorf("HostNet = %v, want %v", p.HostNet, tt.wantNet)
			}
			if p.Entrypoint != tt.wantEntry {
				t.Errorf("Entrypoint = %q, want %q", p.Entrypoint, tt.wantEntry)
			}
			got := envMap(p.Env)
			for k, v := range tt.wantEnv {
				if got[k] != v {
					t.Errorf("env %s = %q, want %q", k, got[k], v)
				}
			}
			argv, _ := p.BwrapArgs("bwrap")
			if has := contains(argv, "--unshare-net"); has == tt.wantNet {
				t.Errorf("bwrap --unshare-net present = %v with host network %v", has, tt.wantNet)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPlanCargoArgs(t *testing.T) {
	tests := []struct {
		name       string
		argv       []string
		env        map[string]string
		want       []string
		wantNote   bool
		wantTDir   string
		wantTarget string
	}{
		{name: "adds the host target", argv: []string{"build", "--release"}, want: []string{"build", "--release", "--target", triple}, wantTarget: triple},
		{name: "keeps the host target", argv: []string{"build", "--target", triple}, want: []string{"build", "--target", triple}, wantTarget: triple},
		{name: "maps a foreign target to the host", argv: []string{"build", "--target=aarch64-unknown-linux-gnu"}, want: []string{"build", "--target=" + triple}, wantNote: true, wantTarget: "aarch64-unknown-linux-gnu"},
		{name: "configured default target", argv: []string{"build"}, env: map[string]string{"CROSS_BUILD_TARGET": "armv7-unknown-linux-gnueabihf"}, want: []string{"build", "--target", triple}, wantNote: true, wantTarget: "armv7-unknown-linux-gnueabihf"},
		{name: "metadata drops --target", argv: []string{"metadata", "--target", triple, "--format-version", "1"}, want: []string{"metadata", "--format-version", "1"}, wantTarget: triple},
		{name: "target dir is rewritten", argv: []string{"build", "--target-dir", "out"}, want: []string{"build", "--target-dir", "/target", "--target", triple}, wantTDir: "out", wantTarget: triple},
		{name: "toolchain is consumed", argv: []string{"+stable", "check"}, want: []string{"check", "--target", triple}, wantTarget: triple},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, tt.env)
			p, err := planFor(t, h, "", tt.argv...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.CargoArgs); diff != "" {
				t.Errorf("cargo args (-want +got):\n%s", diff)
			}
			if (len(p.Notes) > 0) != tt.wantNote {
				t.Errorf("notes = %q, want a note: %v", p.Notes, tt.wantNote)
			}
			if p.Target != tt.wantTarget {
				t.Errorf("Target = %q, want %q", p.Target, tt.wantTarget)
			}
			if tt.wantTDir != "" && p.TargetDir != filepath.Join(h.Cwd, tt.wantTDir) {
				t.Errorf("TargetDir = %q, want %q", p.TargetDir, filepath.Join(h.Cwd, tt.wantTDir))
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  --network=host  ", []string{"--network=host"}, false},
		{`-e 'A=b c' -e "D=\"e\"" f\ g`, []string{"-e", "A=b c", "-e", `D="e"`, "f g"}, false},
		{`-e 'unterminated`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("splitWords(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" && !tt.err {
			t.Errorf("splitWords(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"build":           "build",
		"--target=x86_64": "--target=x86_64",
		"a b":             "'a b'",
		"it's":            `'it'\''s'`,
		"":                "''",
		"$HOME":           "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
