package crossbox

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Paths inside the container, as cross 0.2.5 lays them out.
const (
	containerTargetDir = "/target"
	containerCargoHome = "/cargo"
	containerXargoHome = "/xargo"
	containerSysroot   = "/rust"
	containerProject   = "/project"
	// imagePath is the PATH of cross's Ubuntu-based images; cross appends
	// /rust/bin in the shell command it runs.
	imagePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// DefaultUID is the container user when neither CROSS_CONTAINER_UID nor a
	// non-root caller gives one (GitHub's hosted runner user is 1001).
	DefaultUID = 1001
	// DefaultGID pairs with DefaultUID.
	DefaultGID = 1001
)

// Host is what cross learns on the host before it starts a container: the
// environment, the caller, cargo metadata and the toolchain.
type Host struct {
	// Env is the host environment.
	Env map[string]string
	// Cwd is the working directory cross was started in.
	Cwd string
	// UID and GID are the caller's ids; Username its name ("" when unknown).
	UID, GID int
	Username string
	// HostTriple is `rustc -vV`'s host; Sysroot is `rustc --print sysroot`.
	HostTriple, Sysroot string
	// WorkspaceRoot and TargetDirectory come from `cargo metadata`.
	WorkspaceRoot, TargetDirectory string
	// PathDeps are directories of path dependencies that are not workspace
	// members (cross mounts them at their host paths).
	PathDeps []string
	// HiddenTools are host files (programs under /usr) made unusable inside,
	// because a real cross image does not have them (sccache, for one).
	HiddenTools []string
}

// Mount is one filesystem entry of the sandbox.
type Mount struct {
	// Kind is bind, ro-bind, tmpfs, symlink, proc, dev or data.
	Kind string
	// Src is the host path (bind kinds), the link target (symlink) or the
	// file content (data).
	Src string
	// Dst is the path inside the sandbox.
	Dst string
	// Perms is the octal mode of a tmpfs or data file ("" for the default).
	Perms string
}

// Plan is one container run: the sandbox layout, identity, network and
// environment, and the command.
type Plan struct {
	Target     string   // the target cross was asked for
	CargoArgs  []string // arguments of cargo inside
	UID, GID   int      // container user
	HostNet    bool     // --network=host given in CROSS_CONTAINER_OPTS
	Entrypoint string   // --entrypoint given in CROSS_CONTAINER_OPTS
	Hostname   string
	Workdir    string   // working directory inside
	MountRoot  string   // where the project is mounted inside
	HostRoot   string   // the host directory mounted there
	Mounts     []Mount  // in the order they are made
	Env        []string // NAME=value, the complete environment inside
	CreateDirs []string // host directories cross creates before the run
	TargetDir  string   // host target directory mounted at /target
	Notes      []string // warnings cross prints
}

func (h Host) lookup(k string) (string, bool) {
	v, ok := h.Env[k]
	return v, ok
}

// cargoPrefixSkip are CARGO_ variables cross 0.2.5 does not forward.
var cargoPrefixSkip = map[string]bool{
	"CARGO_HOME":                          true,
	"CARGO_TARGET_DIR":                    true,
	"CARGO_BUILD_TARGET_DIR":              true,
	"CARGO_BUILD_RUSTC":                   true,
	"CARGO_BUILD_RUSTC_WRAPPER":           true,
	"CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER": true,
	"CARGO_BUILD_RUSTDOC":                 true,
}

// nonCargoForwarded are the other variables cross 0.2.5 forwards when set.
var nonCargoForwarded = map[string]bool{
	"http_proxy": true, "TERM": true, "RUSTDOCFLAGS": true, "RUSTFLAGS": true,
	"BROWSER": true, "HTTPS_PROXY": true, "HTTP_TIMEOUT": true, "https_proxy": true,
}

// envList keeps NAME=value entries with docker's -e semantics: a later entry
// for the same name replaces the earlier one.
type envList struct {
	order []string
	vals  map[string]string
}

func (e *envList) set(k, v string) {
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[k]; !ok {
		e.order = append(e.order, k)
	}
	e.vals[k] = v
}

// flag applies one docker `-e` argument: NAME=value sets a literal, NAME
// forwards the host value and does nothing when the host has none.
func (e *envList) flag(arg string, h Host) {
	if k, v, ok := strings.Cut(arg, "="); ok {
		e.set(k, v)
		return
	}
	if v, ok := h.lookup(arg); ok {
		e.set(arg, v)
	}
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.order))
	for _, k := range e.order {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// MakePlan lays out the container run for a as cross 0.2.5 would for host h
// and configuration cfg.
func MakePlan(h Host, cfg *Config, a Args) (*Plan, error) {
	p := &Plan{}
	p.Target = a.target
	if p.Target == "" {
		p.Target = cfg.Target()
	}
	if p.Target == "" {
		p.Target = h.HostTriple
	}
	if p.Target != h.HostTriple {
		p.Notes = append(p.Notes, fmt.Sprintf("crossbox: no %s toolchain in the stand-in; building for the host target %s instead (configuration is still read for %s)", p.Target, h.HostTriple, p.Target))
	}
	p.CargoArgs = a.cargoArgs(h.HostTriple)

	// Identity: CROSS_CONTAINER_UID/GID, else the caller, else a non-root
	// user like a hosted runner's; a rootless engine runs as root inside.
	p.UID, p.GID = h.UID, h.GID
	if p.UID == 0 {
		p.UID, p.GID = DefaultUID, DefaultGID
	}
	for _, x := range []struct {
		name string
		dst  *int
	}{{"CROSS_CONTAINER_UID", &p.UID}, {"CROSS_CONTAINER_GID", &p.GID}} {
		if v, ok := h.lookup(x.name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid %s %q: want a numeric id", x.name, v)
			}
			*x.dst = n
		}
	}
	if v, ok := h.lookup("CROSS_ROOTLESS_CONTAINER_ENGINE"); ok && boolFromEnv(v) {
		p.UID, p.GID = 0, 0
	}

	// Directories cross creates so the engine does not create them as root.
	cargoHome := h.Env["CARGO_HOME"]
	if cargoHome == "" {
		cargoHome = filepath.Join(h.Env["HOME"], ".cargo")
	}
	xargoHome := h.Env["XARGO_HOME"]
	if xargoHome == "" {
		xargoHome = filepath.Join(h.Env["HOME"], ".xargo")
	}
	p.TargetDir = h.TargetDirectory
	if a.targetDir != "" {
		p.TargetDir = a.targetDir
	}
	p.CreateDirs = []string{cargoHome, filepath.Join(cargoHome, "bin"), xargoHome, p.TargetDir}

	// Environment, in cross's -e order (later entries win).
	var env envList
	env.set("PATH", imagePath)
	p.Hostname = "crossbox"
	env.set("HOSTNAME", p.Hostname)
	env.set("HOME", "/") // docker's HOME for a --user that has no passwd entry
	for _, v := range cfg.Passthrough(p.Target) {
		if k, _, _ := strings.Cut(v, "="); k == "CROSS_RUNNER" {
			return nil, fmt.Errorf("CROSS_RUNNER environment variable name is reserved and cannot be pass through")
		}
		env.flag(v, h)
	}
	env.set("PKG_CONFIG_ALLOW_CROSS", "1")
	env.set("XARGO_HOME", containerXargoHome)
	env.set("CARGO_HOME", containerCargoHome)
	env.set("CARGO_TARGET_DIR", containerTargetDir)
	env.set("CROSS_RUNNER", cfg.Runner(p.Target))
	names := make([]string, 0, len(h.Env))
	for k := range h.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if nonCargoForwarded[k] || strings.HasPrefix(k, "CARGO_") && !cargoPrefixSkip[k] {
			env.set(k, h.Env[k])
		}
	}
	if h.Username != "" {
		env.set("USER", h.Username)
	}
	for _, k := range []string{"QEMU_STRACE", "CROSS_DEBUG"} {
		if v, ok := h.lookup(k); ok {
			env.set(k, v)
		}
	}
	var optMounts []Mount
	if err := p.containerOpts(h, &env, &optMounts); err != nil {
		return nil, err
	}

	// Volumes and out-of-workspace path dependencies, mounted at their
	// (canonical) host paths; any of them moves the project to its host path.
	var volMounts []Mount
	mountVolumes := !within(h.Cwd, h.WorkspaceRoot)
	for _, v := range cfg.Volumes(p.Target) {
		name, val, literal := strings.Cut(v, "=")
		if name == "CROSS_RUNNER" {
			return nil, fmt.Errorf("CROSS_RUNNER environment variable name is reserved and cannot be pass through")
		}
		if !literal {
			var ok bool
			if val, ok = h.lookup(name); !ok {
				continue // unset variable: silently no volume, like 0.2.5
			}
		}
		canon, err := filepath.EvalSymlinks(val)
		if err != nil {
			return nil, fmt.Errorf("volume %s=%q: %w", name, val, err)
		}
		canon, err = filepath.Abs(canon)
		if err != nil {
			return nil, fmt.Errorf("volume %s=%q: %w", name, val, err)
		}
		volMounts = append(volMounts, Mount{Kind: "bind", Src: canon, Dst: canon})
		// 0.2.5 passes `-e <host path>=<mount path>`, not NAME=path: the
		// variable itself is not set inside (fixed after 0.2.5).
		env.set(canon, canon)
		mountVolumes = true
	}
	for _, d := range h.PathDeps {
		canon, err := filepath.EvalSymlinks(d)
		if err != nil {
			return nil, fmt.Errorf("path dependency %q: %w", d, err)
		}
		volMounts = append(volMounts, Mount{Kind: "bind", Src: canon, Dst: canon})
		mountVolumes = true
	}
	p.Env = env.list()

	// The project: the workspace root (or the cwd when it is above it).
	p.HostRoot = h.WorkspaceRoot
	if within(h.WorkspaceRoot, h.Cwd) {
		p.HostRoot = h.Cwd
	}
	if mountVolumes {
		p.MountRoot = p.HostRoot
		p.Workdir = h.Cwd
	} else {
		p.MountRoot = containerProject
		rel, err := filepath.Rel(h.WorkspaceRoot, h.Cwd)
		if err != nil {
			return nil, fmt.Errorf("working directory %q: %w", h.Cwd, err)
		}
		p.Workdir = filepath.Join(containerProject, rel)
	}

	p.Mounts = append(p.Mounts, systemMounts(h)...)
	p.Mounts = append(p.Mounts, volMounts...)
	p.Mounts = append(p.Mounts,
		Mount{Kind: "bind", Src: xargoHome, Dst: containerXargoHome},
		Mount{Kind: "bind", Src: cargoHome, Dst: containerCargoHome},
		// docker's `-v /cargo/bin`: an empty root-owned volume the user cannot write.
		Mount{Kind: "tmpfs", Dst: containerCargoHome + "/bin", Perms: "0555"},
		Mount{Kind: "bind", Src: p.HostRoot, Dst: p.MountRoot},
		Mount{Kind: "ro-bind", Src: h.Sysroot, Dst: containerSysroot},
		Mount{Kind: "bind", Src: p.TargetDir, Dst: containerTargetDir},
	)
	p.Mounts = append(p.Mounts, optMounts...)
	return p, nil
}

// containerOpts applies CROSS_CONTAINER_OPTS (or the older DOCKER_OPTS): the
// network mode, --entrypoint, -e/--env and -v/--volume; other engine options are reported
// and ignored.
func (p *Plan) containerOpts(h Host, env *envList, mounts *[]Mount) error {
	name := "CROSS_CONTAINER_OPTS"
	val, ok := h.lookup(name)
	if !ok {
		name = "DOCKER_OPTS"
		if val, ok = h.lookup(name); !ok {
			return nil
		}
	}
	words, err := splitWords(val)
	if err != nil {
		return err
	}
	takesArg := map[string]bool{"--network": true, "--net": true, "-e": true, "--env": true, "-v": true, "--volume": true, "--entrypoint": true}
	for i := 0; i < len(words); i++ {
		w := words[i]
		opt, arg, hasArg := w, "", false
		switch {
		case strings.HasPrefix(w, "--"):
			opt, arg, hasArg = strings.Cut(w, "=")
		case len(w) > 2 && (strings.HasPrefix(w, "-e") || strings.HasPrefix(w, "-v")):
			opt, arg, hasArg = w[:2], w[2:], true
		}
		if takesArg[opt] && !hasArg {
			if i+1 >= len(words) {
				return fmt.Errorf("%s: %s needs a value", name, opt)
			}
			i++
			arg = words[i]
		}
		switch opt {
		case "--network", "--net":
			p.HostNet = arg == "host"
			if arg != "host" && arg != "bridge" && arg != "default" {
				p.Notes = append(p.Notes, fmt.Sprintf("crossbox: network %q modelled as a private network", arg))
			}
		case "--entrypoint":
			p.Entrypoint = arg
		case "-e", "--env":
			env.flag(arg, h)
		case "-v", "--volume":
			parts := strings.Split(arg, ":")
			if len(parts) < 2 || !filepath.IsAbs(parts[0]) {
				p.Notes = append(p.Notes, fmt.Sprintf("crossbox: ignoring volume %q (only host-path binds are modelled)", arg))
				continue
			}
			kind := "bind"
			if len(parts) > 2 && strings.Contains(","+parts[2]+",", ",ro,") {
				kind = "ro-bind"
			}
			*mounts = append(*mounts, Mount{Kind: kind, Src: parts[0], Dst: parts[1]})
		default:
			p.Notes = append(p.Notes, fmt.Sprintf("crossbox: ignoring container option %q from %s", w, name))
		}
	}
	return nil
}

// systemMounts is the image stand-in: the host's /usr and a few /etc files
// read-only, private /proc, /dev and /tmp, and passwd/group files without an
// entry for the container user (as in cross images).
func systemMounts(h Host) []Mount {
	m := []Mount{{Kind: "ro-bind", Src: "/usr", Dst: "/usr"}}
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if t, err := os.Readlink(d); err == nil {
				m = append(m, Mount{Kind: "symlink", Src: t, Dst: d})
			}
		case fi.IsDir():
			m = append(m, Mount{Kind: "ro-bind", Src: d, Dst: d})
		}
	}
	for _, f := range []string{"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/hosts", "/etc/nsswitch.conf", "/etc/localtime"} {
		if _, err := os.Stat(f); err == nil {
			m = append(m, Mount{Kind: "ro-bind", Src: f, Dst: f})
		}
	}
	m = append(m,
		Mount{Kind: "data", Src: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", Dst: "/etc/passwd"},
		Mount{Kind: "data", Src: "root:x:0:\nnogroup:x:65534:\n", Dst: "/etc/group"},
		Mount{Kind: "proc", Dst: "/proc"},
		Mount{Kind: "dev", Dst: "/dev"},
		Mount{Kind: "tmpfs", Dst: "/tmp", Perms: "1777"},
	)
	for _, t := range h.HiddenTools {
		m = append(m, Mount{Kind: "ro-bind", Src: "/dev/null", Dst: t})
	}
	return m
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func boolFromEnv(v string) bool {
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n != 0
	}
	return v != ""
}
