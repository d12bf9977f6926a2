// Package setup installs sccache and configures cargo and cross to use it.
//
// It validates every input first, then installs a verified sccache into the
// runner tool cache and the action's root directory, merges the cross
// configuration, and only at the end writes GITHUB_ENV, GITHUB_PATH and the
// step outputs — so a failure changes nothing the rest of the job sees.
//
// The root directory (input cache-root) holds everything the action owns:
//
//	<root>/bin/sccache   the binary RUSTC_WRAPPER names
//	<root>/cache/        SCCACHE_DIR, the disk cache restore and save carry
//	<root>/state.json    facts handed from setup to restore to save
//
// cross mounts the root at the same path inside its containers (a volume
// entry in Cross.toml), so the wrapper, the cache and the state are at
// identical paths on both sides.
package setup

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/crossconf"
	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/release"
	"github.com/org/rustcache-action/internal/rootdir"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/safefile"
	"github.com/org/rustcache-action/internal/sccache"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/workdir"
)

// RootVar is the variable that names the root directory; cross mounts it as a
// volume, and tools read it to find the root.
const RootVar = "RUSTCACHE_ROOT"

// ConfigError is a misconfiguration: the step fails and nothing was changed.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Options are setup's validated inputs.
type Options struct {
	Version       string // "latest" or a release tag
	Target        string // release target override
	DownloadBase  string
	Root          string
	CacheSizeText string
	CacheSize     int64
	WorkingDirs   []string
	Cross         string // auto, true, false
	Direct        bool
	Basedirs      []string // SCCACHE_BASEDIRS, absolute
	Incremental   bool
	Pipelining    bool
	Token         string
	// Timeout bounds the whole step (setup-timeout-minutes, or the
	// job.TimeoutVar override).
	Timeout time.Duration
	// FailOnError fails the step when sccache cannot be downloaded,
	// instead of going on without it.
	FailOnError bool
	Backend     backend.Options
	overridden  map[string]bool // env values given explicitly as inputs
}

// DefaultTimeout bounds the whole setup step (input setup-timeout-minutes).
const DefaultTimeout = 5 * time.Minute

// ParseOptions reads and validates every setup input.
func ParseOptions(e *runenv.Env) (*Options, error) {
	r := inputs.NewReader(e.Input)
	o := &Options{overridden: map[string]bool{}}
	o.Version = r.Version("sccache-version", release.DefaultVersion())
	o.Target = r.String("sccache-target", "")
	r.Check(o.Target == "" || arch.ValidTarget(o.Target), "sccache-target", o.Target, inputs.OneOfWant(arch.Targets()))
	o.DownloadBase = r.String("sccache-url", "")
	r.Check(o.DownloadBase == "" || strings.HasPrefix(o.DownloadBase, "https://") || strings.HasPrefix(o.DownloadBase, "http://"),
		"sccache-url", o.DownloadBase, "expected an http(s) URL of a directory holding <version>/<asset>")
	o.Root = r.AbsPath("cache-root", e.DefaultRoot())
	o.CacheSizeText, o.CacheSize = r.Size("cache-size", "2G")
	o.overridden["cache-size"] = strings.TrimSpace(e.Input("cache-size")) != ""
	o.WorkingDirs = workdir.Read(r, e.Workspace())
	o.Cross = r.OneOf("cross", "auto", "auto", "true", "false")
	for _, b := range []struct {
		name string
		dst  *bool
		def  bool
	}{{"sccache-direct", &o.Direct, true}, {"cargo-incremental", &o.Incremental, false}, {"cargo-build-pipelining", &o.Pipelining, false}} {
		*b.dst = r.Bool(b.name, b.def)
		o.overridden[b.name] = strings.TrimSpace(e.Input(b.name)) != ""
	}
	windows := arch.Detect(e.Getenv, e.GOOS, e.GOARCH).OS == "Windows"
	o.Basedirs = readBasedirs(r.Lines("basedirs", nil, false), e.Workspace(), windows, func(ok bool, value, want string) {
		r.Check(ok, "basedirs", value, want)
	})
	// Masked before it is sent anywhere or could appear in an error.
	o.Token = r.Secret("github-token")
	e.Log().Mask(o.Token)
	for _, secret := range backend.Secrets(backend.Kind(strings.TrimSpace(e.Input("backend"))), e.Getenv) {
		e.Log().Mask(secret)
	}
	o.Backend = backend.ReadOptions(r)
	o.Timeout = time.Duration(r.Int("setup-timeout-minutes", int(DefaultTimeout/time.Minute), 1, 360)) * time.Minute
	o.FailOnError = r.Bool("fail-on-cache-error", false)
	errs := []error{r.Err()}
	for _, v := range inherited {
		if val := e.Getenv(v.name); !o.overridden[v.input] && ghcmd.HasControl(val) {
			errs = append(errs, fmt.Errorf("environment variable %s: invalid value %q: setup passes it on to later steps as it is, and it holds a control character (a line break?); fix or unset it", v.name, val))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, &ConfigError{err}
	}
	if d, err := time.ParseDuration(strings.TrimSpace(e.Getenv(job.TimeoutVar))); err == nil && d > 0 {
		o.Timeout = d
	}
	return o, nil
}

// Result is what setup did, for tests and the report.
type Result struct {
	Version, Target, ContainerTarget string
	SccachePath                      string
	Env                              map[string]string
	CrossFiles                       []string
	Downloaded                       bool
	// WithoutSccache says why setup went on without sccache (the release
	// server unreachable or too slow); empty when sccache was set up.
	WithoutSccache string
}

// Run performs the setup step: every check first (inputs, platform, the
// version, the root, the cross configurations and whether each file can be
// written), with nothing written; then the install and the writes. A
// misconfiguration therefore leaves the root, the workspace and the
// workflow command files as they were. The whole step is bounded by
// Options.Timeout; a release server that cannot be reached in it does not
// fail the step (see withoutSccache).
func Run(ctx context.Context, e *runenv.Env) (*Result, error) {
	start := e.Now()
	o, err := ParseOptions(e)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	p, err := makePlan(ctx, e, o)
	if err == nil {
		var res *Result
		if res, err = p.apply(ctx, e, start); err == nil {
			return res, nil
		}
	}
	var ue *unreachableError
	if errors.As(err, &ue) {
		return withoutSccache(e, o, ue)
	}
	return nil, err
}

// plan is everything setup decided before writing anything.
type plan struct {
	o                       *Options
	plat                    arch.Platform
	target, containerTarget string
	version                 string
	ports                   ports
	sccachePath, wrapper    string
	exports                 map[string]string
	basedirs                basedirsPlan
	portNotice              string // why the ports are not the root's own
	cross                   []crossPlan
	installer               *release.Installer
	prepareBeforeInstall    bool // the tool cache or the download directory lies in the root
}

// makePlan validates everything and decides what to write, writing nothing.
func makePlan(ctx context.Context, e *runenv.Env, o *Options) (*plan, error) {
	var err error
	p := &plan{o: o, plat: arch.Detect(e.Getenv, e.GOOS, e.GOARCH), target: o.Target}
	if p.target == "" {
		if p.target, err = arch.Target(p.plat); err != nil {
			return nil, &ConfigError{err}
		}
	}
	p.containerTarget, _ = arch.ContainerTarget(p.plat)
	if err := rootdir.Check(o.Root); err != nil {
		return nil, &ConfigError{fmt.Errorf("input cache-root: %w", err)}
	}
	prev := 0
	if st, err := state.Load(o.Root); err == nil {
		prev = st.ServerPort
	}
	var moved bool
	p.ports, moved = choosePorts(o.Root, prev, e.Getenv("SCCACHE_SERVER_PORT"), probeTCP)
	if moved {
		p.portNotice = fmt.Sprintf("sccache server port %d instead of this root's usual one: another program or another job's sccache server holds that", p.ports.host)
	}
	p.sccachePath = rootdir.Sccache(o.Root, p.target)

	if p.cross, err = planCross(o, e.Getenv, e.Workspace(), crossEntriesFor(p.ports.container, o.Backend.Kind)); err != nil {
		return nil, err
	}
	if len(p.cross) > 0 && p.plat.OS != "Linux" {
		if o.Cross == "true" {
			return nil, &ConfigError{fmt.Errorf("input cross: caching builds inside cross containers needs a Linux runner (this one is %s); set cross: false or auto", p.plat)}
		}
		e.Log().Noticef("cross configuration left unchanged: caching inside cross containers needs a Linux runner (this one is %s)", p.plat)
		p.cross = nil
	}

	p.installer = &release.Installer{
		HTTP:         e.Client(),
		ServerURL:    e.Getenv("GITHUB_SERVER_URL"),
		APIURL:       e.Getenv("GITHUB_API_URL"),
		DownloadBase: o.DownloadBase,
		Token:        o.Token,
		ToolCache:    toolCache(e, o.Root),
		TempDir:      tempDir(e, o.Root),
		Now:          e.Now,
	}
	p.prepareBeforeInstall = e.Getenv("RUNNER_TOOL_CACHE") == "" || e.Getenv("RUNNER_TEMP") == ""
	if p.version, err = p.installer.ResolveVersion(ctx, o.Version); err != nil {
		return nil, fetchFailed(err)
	}
	if p.basedirs, err = planBasedirs(o, e.Getenv, p.version, p.plat.OS == "Windows"); err != nil {
		return nil, &ConfigError{err}
	}
	// sccache before 0.9 answers a compile before its cache entry is written;
	// inside a cross container the server dies with cargo, so the last
	// entries would be lost. For those releases RUSTC_WRAPPER is a script
	// that waits for the pending writes. With a remote backend the wrapper
	// is that script for every release: it collects each server's
	// statistics and, on a fallback, keeps the backend's variables away from
	// sccache.
	p.wrapper = p.sccachePath
	if (needsWaitWrapper(p.version) || o.Backend.Remote()) && p.plat.OS != "Windows" {
		p.wrapper = filepath.Join(rootdir.Bin(o.Root), WaitWrapper)
	}
	p.exports = exportsFor(o, e.Getenv, p.wrapper, rootdir.Cache(o.Root), p.ports)
	p.basedirs.apply(p.exports)
	return p, nil
}

// apply installs sccache and writes what the plan decided.
func (p *plan) apply(ctx context.Context, e *runenv.Env, start time.Time) (*Result, error) {
	o := p.o
	rootErr := func(err error) error { return &ConfigError{fmt.Errorf("input cache-root: %w", err)} }
	if p.prepareBeforeInstall {
		if err := rootdir.Prepare(o.Root); err != nil {
			return nil, rootErr(err)
		}
	}
	// The tool cache first: a download that fails or does not match its
	// checksum leaves the root untouched.
	res, err := p.installer.Install(ctx, p.version, p.target)
	if err != nil {
		return nil, fetchFailed(err)
	}
	if err := rootdir.Prepare(o.Root); err != nil {
		return nil, rootErr(err)
	}
	if p.portNotice != "" {
		e.Log().Noticef("%s", p.portNotice)
	}
	if p.basedirs.notice != "" {
		e.Log().Noticef("%s", p.basedirs.notice)
	}
	dec := decideBackend(ctx, e, o, p.version, res.Path, p.exports)
	if dec.Active {
		for k, v := range dec.Settings.Exports {
			p.exports[k] = v
		}
		if f := caBundle(e.Getenv, p.plat.OS); f != "" {
			p.exports["SSL_CERT_FILE"] = f
		}
	}
	// A server still running on this port is this root's own (choosePorts
	// passes over ports other servers hold), left by an earlier job on a
	// self-hosted runner or an earlier setup, with an older configuration:
	// stop it, so the first compile starts one with this job's settings. It
	// is stopped before the wrapper is replaced: Windows cannot replace a
	// running executable.
	run := &sccache.Runner{Path: res.Path, Env: childEnv(e, p.exports), Command: e.Command, Timeout: 20 * time.Second}
	if err := run.StopServer(ctx); err != nil {
		e.Log().Noticef("could not stop an earlier sccache server on port %d: %v", p.ports.host, err)
	}
	if err := copyExecutable(res.Path, p.sccachePath); err != nil {
		return nil, rootErr(err)
	}
	if err := writeSupportFiles(o.Root, p.wrapper, p.sccachePath, wrapperPrelude(o.Backend, dec)); err != nil {
		return nil, rootErr(err)
	}

	var crossFiles []string
	for _, c := range p.cross {
		for _, ch := range c.changes {
			if err := ch.Write(); err != nil {
				return nil, &ConfigError{fmt.Errorf("cross configuration: %w", err)}
			}
			e.Log().Printf("cross configuration updated: %s", ch.Path)
			crossFiles = append(crossFiles, ch.Path)
		}
		if len(c.changes) == 0 {
			e.Log().Printf("cross configuration of %s already up to date", c.dir)
		}
	}
	if over := crossconf.EnvOverrides(e.Getenv); len(over) > 0 && len(p.cross) > 0 {
		e.Log().Warningf("%s", overrideAdvice(over, crossEntriesFor(p.ports.container, o.Backend.Kind)))
	}

	st, err := state.Load(o.Root)
	if err != nil {
		st = &state.State{}
	}
	st.SccacheVersion, st.SccacheTarget, st.SccachePath = p.version, p.target, p.sccachePath
	st.ContainerTarget, st.Platform = p.containerTarget, p.plat.String()
	st.CacheDir, st.CacheSize = rootdir.Cache(o.Root), o.CacheSize
	// A size the user set in the environment wins over the input's default;
	// save trims to the size sccache itself was given.
	if _, n, err := inputs.NormalizeSize(p.exports["SCCACHE_CACHE_SIZE"]); err == nil {
		st.CacheSize = n
	}
	st.ServerPort, st.ContainerPort = p.ports.host, p.ports.container
	st.Cross, st.Downloaded = crossFiles, res.Downloaded
	st.Backend = backendState(o.Backend, dec)
	st.SetupSeconds = e.Now().Sub(start).Seconds()
	st.Restore = nil
	if err := state.Save(o.Root, st); err != nil {
		return nil, rootErr(err)
	}

	var cmds runenv.Commands
	for k, v := range p.exports {
		cmds.SetEnv(k, v)
	}
	cmds.AddPath(rootdir.Bin(o.Root))
	cmds.SetOutput("sccache-path", p.sccachePath)
	cmds.SetOutput("sccache-version", p.version)
	cmds.SetOutput("cache-root", o.Root)
	if err := cmds.Commit(e); err != nil {
		return nil, err
	}
	reportBackend(e, o.Backend, dec)
	how := "reused from the tool cache"
	if res.Downloaded {
		how = "downloaded and verified"
	}
	e.Log().Printf("sccache %s (%s) %s: %s", p.version, p.target, how, p.sccachePath)
	return &Result{Version: p.version, Target: p.target, ContainerTarget: p.containerTarget, SccachePath: p.sccachePath,
		Env: p.exports, CrossFiles: crossFiles, Downloaded: res.Downloaded}, nil
}

// WaitWrapper is the file name, in <root>/bin, of the RUSTC_WRAPPER used with
// sccache releases before 0.9.
const WaitWrapper = "sccache-wait"

// ConfFile is the sccache configuration file setup writes under the root.
const ConfFile = "sccache.conf"

//go:embed sccache-wait.sh
var waitScript []byte

// sccacheConf raises sccache's server start-up timeout from 10 s: a build
// container on a busy runner can take longer to start a server, and the
// compile then fails instead of waiting.
const sccacheConf = "server_startup_timeout_ms = 60000\n"

// writeSupportFiles writes the sccache configuration and, when the wrapper is
// the waiting script, the script itself (with prelude in place of its
// environment marker) and an empty statistics directory for it.
func writeSupportFiles(root, wrapper, sccachePath, prelude string) error {
	if err := safefile.Write(filepath.Join(root, ConfFile), []byte(sccacheConf), 0o644); err != nil {
		return err
	}
	stats := filepath.Join(root, backend.StatsDir)
	if err := os.RemoveAll(stats); err != nil {
		return fmt.Errorf("clear %q: %w", stats, err)
	}
	if wrapper == sccachePath {
		return nil
	}
	if err := os.Mkdir(stats, 0o755); err != nil {
		return fmt.Errorf("create %q: %w", stats, err)
	}
	script := strings.Replace(string(waitScript), "#@environment@\n", prelude, 1)
	return safefile.Write(wrapper, []byte(script), 0o755)
}

// needsWaitWrapper reports whether an sccache release answers compiles
// before writing their cache entries (releases before 0.9).
func needsWaitWrapper(version string) bool {
	v, err := inputs.ParseVersion(version)
	return err == nil && v.Major == 0 && v.Minor < 9
}

func toolCache(e *runenv.Env, root string) string {
	if tc := e.Getenv("RUNNER_TOOL_CACHE"); tc != "" {
		return tc
	}
	return filepath.Join(root, "toolcache")
}

func tempDir(e *runenv.Env, root string) string {
	if t := e.Getenv("RUNNER_TEMP"); t != "" {
		return t
	}
	return root
}

// ports are the sccache server ports of this job: one for servers on the
// runner, one for servers inside cross containers. They differ so that a
// container sharing the host network never reaches the host's server, which
// cannot see the container's /target paths.
type ports struct{ host, container int }

// exportsFor computes the environment this job's builds get. An input given
// explicitly wins; otherwise a value the user already set in the workflow's
// environment is kept; otherwise the default applies.
func exportsFor(o *Options, getenv func(string) string, wrapper, cacheDir string, p ports) map[string]string {
	defaults := map[string]string{
		"RUSTC_WRAPPER":          wrapper,
		"SCCACHE_DIR":            cacheDir,
		"SCCACHE_CONF":           filepath.Join(o.Root, ConfFile),
		"SCCACHE_CACHE_SIZE":     o.CacheSizeText,
		"SCCACHE_DIRECT":         strconv.FormatBool(o.Direct),
		"CARGO_INCREMENTAL":      boolDigit(o.Incremental),
		"CARGO_BUILD_PIPELINING": strconv.FormatBool(o.Pipelining),
	}
	out := map[string]string{}
	for _, v := range inherited {
		out[v.name] = defaults[v.name]
		if val := getenv(v.name); val != "" && !o.overridden[v.input] {
			out[v.name] = val
		}
	}
	out["SCCACHE_SERVER_PORT"] = strconv.Itoa(p.host)
	out[RootVar] = o.Root
	return out
}

// inherited are the variables setup exports that keep a value the workflow
// already set, unless the input named beside it is given explicitly. Their
// values go to GITHUB_ENV as they are, so ParseOptions refuses one holding a
// control character.
var inherited = []struct{ name, input string }{
	{"RUSTC_WRAPPER", ""},
	{"SCCACHE_DIR", ""},
	{"SCCACHE_CONF", ""},
	{"SCCACHE_CACHE_SIZE", "cache-size"},
	{"SCCACHE_DIRECT", "sccache-direct"},
	{"CARGO_INCREMENTAL", "cargo-incremental"},
	{"CARGO_BUILD_PIPELINING", "cargo-build-pipelining"},
}

// overrideAdvice tells what to add to the cross configuration lists set in
// the environment (over, e.g. CROSS_BUILD_ENV_PASSTHROUGH), which replace
// the entries setup merged into the files: the entries themselves.
func overrideAdvice(over []string, ent crossconf.Entries) string {
	return fmt.Sprintf("%s set in the environment replace the cross configuration's lists: add the passthrough entries %s and the volume entries %s to them, or builds inside cross containers will not use the cache",
		strings.Join(over, ", "), strings.Join(ent.Passthrough, ", "), strings.Join(ent.Volumes, ", "))
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func childEnv(e *runenv.Env, exports map[string]string) []string {
	env := e.ChildEnviron()
	for k, v := range exports {
		env = append(env, k+"="+v)
	}
	return env
}

// copyExecutable copies src to dst atomically with mode 0755, skipping the
// copy when dst already has the same size and modification time.
func copyExecutable(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("stat %q: %w", src, err)
	}
	// Skipped only for a regular file of this user nobody else can write:
	// a link planted in its place is replaced, not kept.
	if di, err := os.Lstat(dst); err == nil && rootdir.Installed(dst) == nil && di.Size() == si.Size() && di.ModTime().Equal(si.ModTime()) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %q: %w", src, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".sccache-*")
	if err != nil {
		return fmt.Errorf("copy sccache into %q: %w", filepath.Dir(dst), err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copy sccache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("copy sccache: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return fmt.Errorf("copy sccache: %w", err)
	}
	if err := os.Chtimes(tmp.Name(), si.ModTime(), si.ModTime()); err != nil {
		return fmt.Errorf("copy sccache: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("install %q: %w", dst, err)
	}
	return nil
}

// crossPlan is one workspace whose cross configuration gets our entries,
// and the files that change for it.
type crossPlan struct {
	dir     string
	changes []crossconf.Change
}

// crossEntriesFor adds a remote backend's names to CrossEntries.
func crossEntriesFor(containerPort int, k backend.Kind) crossconf.Entries {
	e := CrossEntries(containerPort)
	pass, vols := backend.CrossNames(k)
	e.Passthrough = append(e.Passthrough, pass...)
	e.Volumes = append(e.Volumes, vols...)
	return e
}

// CrossEntries are the passthrough and volume entries a cross container needs
// to use the cache: the wrapper and sccache settings by name, the root as a
// volume (and by name, because cross 0.2.5 does not set volume variables inside
// the container), and a literal server port of its own.
func CrossEntries(containerPort int) crossconf.Entries {
	return crossconf.Entries{
		Passthrough: []string{"RUSTC_WRAPPER", "SCCACHE_DIR", "SCCACHE_CONF", "SCCACHE_CACHE_SIZE", "SCCACHE_DIRECT", "SCCACHE_BASEDIRS",
			RootVar, "SCCACHE_SERVER_PORT=" + strconv.Itoa(containerPort)},
		Volumes: []string{RootVar},
	}
}

// planCross decides which workspaces get cross entries, validates every
// configuration source they have and computes the changes, refusing files
// that lead out of the workspace or cannot be written — before anything is
// written anywhere.
func planCross(o *Options, getenv func(string) string, workspace string, entries crossconf.Entries) ([]crossPlan, error) {
	if o.Cross == "false" {
		return nil, nil
	}
	var plans []crossPlan
	for _, dir := range o.WorkingDirs {
		srcs, err := crossconf.Sources(dir, getenv)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("cross configuration in %q: %w", dir, err)}
		}
		if len(srcs) == 0 && o.Cross == "auto" {
			continue
		}
		changes, err := crossconf.Plan(dir, workdir.Scope(workspace, dir), getenv, entries, true)
		if err != nil {
			return nil, &ConfigError{err}
		}
		plans = append(plans, crossPlan{dir: dir, changes: changes})
	}
	return plans, nil
}

// FileError returns the file, line and column a configuration error points
// at, for an annotation that links to it.
func FileError(err error) (path string, line, col int, ok bool) {
	var pe *crossconf.ParseError
	if errors.As(err, &pe) {
		return pe.Path, pe.Line, pe.Column, true
	}
	return "", 0, 0, false
}

// IsConfigError reports whether err is a misconfiguration (as opposed to a
// fault of a service).
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
