package crossbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is what `cross --version` reports.
const Version = "cross 0.2.5 (crossbox stand-in: bubblewrap instead of docker)"

// Exit statuses of Main besides the container's own.
const (
	ExitOK      = 0
	ExitFailure = 1
)

// Options are Main's inputs, injected so tests can run it in-process.
type Options struct {
	Args           []string // command line after the program name
	Env            []string // host environment, NAME=value
	Dir            string   // working directory
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// UID, GID and Username identify the caller.
	UID, GID int
	Username string
}

// Main runs the stand-in and returns the exit status: cargo's status inside
// the sandbox, 128+n when it died of signal n, ExitFailure for the stand-in's
// own errors.
func Main(o Options) int {
	code, err := run(o)
	if err != nil {
		fmt.Fprintf(o.Stderr, "Error: %v\n", err)
		return ExitFailure
	}
	return code
}

func run(o Options) (int, error) {
	env := map[string]string{}
	for _, kv := range o.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	a, err := ParseArgs(o.Args, o.Dir)
	if err != nil {
		return 0, err
	}
	if a.version && a.sub == subNone {
		fmt.Fprintln(o.Stdout, Version)
	}
	if !a.sub.needsContainer() {
		return hostCargo(o, env)
	}
	cargo, err := lookPath("cargo", env["PATH"])
	if err != nil {
		return 0, err
	}
	h, ok, err := inspectHost(o, env, a, cargo)
	if err != nil {
		return 0, err
	}
	if !ok {
		fmt.Fprintln(o.Stderr, "[cross] warning: unable to get metadata for package")
		return hostCargo(o, env)
	}
	cfg, err := LoadConfig(h.WorkspaceRoot, h.lookup)
	if err != nil {
		return 0, err
	}
	p, err := MakePlan(h, cfg, a)
	if err != nil {
		return 0, err
	}
	for _, n := range p.Notes {
		fmt.Fprintf(o.Stderr, "[cross] note: %s\n", n)
	}
	if err := createDirs(p); err != nil {
		return 0, err
	}
	bwrap, err := lookPath("bwrap", env["PATH"])
	if err != nil {
		return 0, err
	}
	argv, data := p.BwrapArgs(bwrap)
	if isVerbose(o.Args) {
		fmt.Fprintf(o.Stderr, "+ %s\n", strings.Join(argv, " "))
	}
	return runSandbox(o, argv, p.Env, data)
}

// inspectHost gathers what cross asks cargo and rustc on the host. ok is
// false when cargo metadata fails (cross then falls back to host cargo).
func inspectHost(o Options, env map[string]string, a Args, cargo string) (Host, bool, error) {
	h := Host{Env: env, Cwd: o.Dir, UID: o.UID, GID: o.GID, Username: o.Username}
	margs := []string{"metadata", "--format-version", "1"}
	if a.manifestPath != "" {
		margs = append(margs, "--manifest-path", a.manifestPath)
	}
	if a.target != "" {
		margs = append(margs, "--filter-platform", a.target)
	}
	if len(a.features) > 0 {
		margs = append(margs, "--features", strings.Join(a.features, ","))
	}
	out, err := output(o, cargo, margs...)
	if err != nil {
		// cross prints only the warning; the stand-in also says why, so a
		// test that ends up on the host can tell.
		fmt.Fprintf(o.Stderr, "[cross] note: %v\n", err)
		return h, false, nil
	}
	var meta struct {
		WorkspaceRoot    string   `json:"workspace_root"`
		TargetDirectory  string   `json:"target_directory"`
		WorkspaceMembers []string `json:"workspace_members"`
		Packages         []struct {
			ID           string  `json:"id"`
			Source       *string `json:"source"`
			ManifestPath string  `json:"manifest_path"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(out, &meta); err != nil {
		return h, false, fmt.Errorf("parse cargo metadata: %w", err)
	}
	h.WorkspaceRoot, h.TargetDirectory = meta.WorkspaceRoot, meta.TargetDirectory
	members := map[string]bool{}
	for _, m := range meta.WorkspaceMembers {
		members[m] = true
	}
	for _, p := range meta.Packages {
		if p.Source == nil && !members[p.ID] {
			h.PathDeps = append(h.PathDeps, filepath.Dir(p.ManifestPath))
		}
	}
	rustc, err := lookPath("rustc", env["PATH"])
	if err != nil {
		return h, false, err
	}
	vv, err := output(o, rustc, "-vV")
	if err != nil {
		return h, false, fmt.Errorf("rustc -vV: %w", err)
	}
	for _, line := range strings.Split(string(vv), "\n") {
		if t, ok := strings.CutPrefix(line, "host: "); ok {
			h.HostTriple = strings.TrimSpace(t)
		}
	}
	sr, err := output(o, rustc, "--print", "sysroot")
	if err != nil {
		return h, false, fmt.Errorf("rustc --print sysroot: %w", err)
	}
	h.Sysroot = strings.TrimSpace(string(sr))
	for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/usr/sbin", "/usr/local/sbin"} {
		for _, tool := range []string{"sccache", "cross", "cargo", "rustc", "rustup"} {
			if fi, err := os.Stat(filepath.Join(dir, tool)); err == nil && fi.Mode().IsRegular() {
				h.HiddenTools = append(h.HiddenTools, filepath.Join(dir, tool))
			}
		}
	}
	return h, true, nil
}

func output(o Options, name string, arg ...string) ([]byte, error) {
	cmd := exec.Command(name, arg...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(arg, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// hostCargo is cross's fallback: the same arguments to cargo on the host.
func hostCargo(o Options, env map[string]string) (int, error) {
	fmt.Fprintln(o.Stderr, "[cross] note: Falling back to `cargo` on the host.")
	cargo, err := lookPath("cargo", env["PATH"])
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(cargo, o.Args...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	return wait(cmd, nil)
}

const cacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cross.\n# For information about cache directory tags see https://bford.info/cachedir/"

// createDirs creates the host directories cross creates before mounting
// them (cargo home, xargo home, the target directory with a CACHEDIR.TAG).
func createDirs(p *Plan) error {
	for _, d := range p.CreateDirs {
		if d == p.TargetDir {
			if _, err := os.Stat(d); err == nil {
				continue
			}
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("create target directory: %w", err)
			}
			if err := os.WriteFile(filepath.Join(d, "CACHEDIR.TAG"), []byte(cacheDirTag), 0o644); err != nil {
				return fmt.Errorf("create target directory: %w", err)
			}
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %q: %w", d, err)
		}
	}
	return nil
}

// BwrapArgs is the bubblewrap command line for the plan; data holds the
// contents of generated files, to be passed as file descriptors 3, 4, ….
func (p *Plan) BwrapArgs(bwrap string) (argv, data []string) {
	argv = []string{bwrap,
		"--unshare-user", "--uid", strconv.Itoa(p.UID), "--gid", strconv.Itoa(p.GID),
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", p.Hostname,
		"--unshare-cgroup-try", "--die-with-parent", "--new-session",
	}
	if !p.HostNet {
		argv = append(argv, "--unshare-net")
	}
	for _, m := range p.Mounts {
		switch m.Kind {
		case "bind", "ro-bind":
			argv = append(argv, "--"+m.Kind, m.Src, m.Dst)
		case "symlink":
			argv = append(argv, "--symlink", m.Src, m.Dst)
		case "proc", "dev":
			argv = append(argv, "--"+m.Kind, m.Dst)
		case "tmpfs":
			argv = append(argv, "--perms", perms(m.Perms, "0755"), "--tmpfs", m.Dst)
		case "data":
			argv = append(argv, "--perms", perms(m.Perms, "0644"), "--ro-bind-data", strconv.Itoa(3+len(data)), m.Dst)
			data = append(data, m.Src)
		}
	}
	argv = append(argv, "--remount-ro", "/", "--chdir", p.Workdir, "--")
	if p.Entrypoint != "" {
		// docker run --entrypoint E IMAGE sh -c … runs E with the command as
		// its arguments (the Linux cross images have no entrypoint of their own).
		argv = append(argv, p.Entrypoint)
	}
	quoted := make([]string, len(p.CargoArgs))
	for i, a := range p.CargoArgs {
		quoted[i] = shellQuote(a)
	}
	argv = append(argv, "sh", "-c", "PATH=$PATH:"+containerSysroot+"/bin cargo "+strings.Join(quoted, " "))
	return argv, data
}

// runSandbox runs bubblewrap and, like `docker run`, returns only once every
// process of the sandbox is gone: bubblewrap itself exits as soon as the
// command does, while the kernel is still killing the rest of the pid
// namespace (an sccache server, say).
func runSandbox(o Options, argv, env, data []string) (int, error) {
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("sandbox info: %w", err)
	}
	defer infoR.Close()
	full := append([]string{argv[0], "--info-fd", strconv.Itoa(3 + len(data))}, argv[1:]...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	for _, d := range data {
		r, w, err := os.Pipe()
		if err != nil {
			infoW.Close()
			return 0, fmt.Errorf("sandbox data: %w", err)
		}
		defer r.Close()
		if _, err := io.WriteString(w, d); err != nil {
			w.Close()
			infoW.Close()
			return 0, fmt.Errorf("sandbox data: %w", err)
		}
		w.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, infoW)
	info := make(chan int, 1)
	go func() {
		var v struct {
			ChildPID int `json:"child-pid"`
		}
		_ = json.NewDecoder(infoR).Decode(&v)
		info <- v.ChildPID
	}()
	code, err := wait(cmd, func() { infoW.Close() })
	if pid := <-info; pid > 0 {
		waitGone(pid, 10*time.Second)
	}
	return code, err
}

// waitGone waits (at most limit) until process pid has exited: its
// /proc entry is gone or it is a zombie, which for the init of a pid
// namespace means every other process in it has been killed and reaped.
func waitGone(pid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait runs cmd, forwarding SIGINT and SIGTERM to it, and returns its exit
// status (128+n for a signal).
// started, when not nil, runs right after the start (or a failed start).
func wait(cmd *exec.Cmd, started func()) (int, error) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	err := cmd.Start()
	if started != nil {
		started()
	}
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sig:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return ExitOK, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		return 0, fmt.Errorf("run %s: %w", cmd.Path, err)
	}
}

// lookPath finds name in the host PATH value path.
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH", name)
}

func isVerbose(argv []string) bool {
	for _, a := range argv {
		if a == "--verbose" || len(a) >= 2 && a[0] == '-' && strings.Trim(a[1:], "v") == "" {
			return true
		}
	}
	return false
}

func perms(p, def string) string {
	if p == "" {
		return def
	}
	return p
}
