// Package job holds what the restore and save steps share: locating the root
// and its state, computing the cache keys, connecting to the cache service,
// and turning cache faults into warnings (or failures, when the user asked for
// fail-on-cache-error).
package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/cachekey"
	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/httpx"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/rootdir"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/sccache"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/transport"
	"github.com/org/rustcache-action/internal/workdir"
)

// Compression is the compression name in the cache version, as the official
// client names zstd archives written without long-distance matching.
const Compression = "zstd-without-long"

// SnapshotFile is the name, under the root, of the cache snapshot restore
// takes for save.
const SnapshotFile = "snapshot.txt"

// Job is one restore or save step.
type Job struct {
	Env         *runenv.Env
	Root        string
	State       *state.State
	FailOnError bool
	Mode        cacheservice.Mode
	Warnings    []string

	timeout  time.Duration // what Timeout returned, for the advice on faults
	stateErr error         // why the state file could not be read
}

// Open reads the common inputs (cache-root, fail-on-cache-error) and the state
// setup left. A missing setup is reported as an error that says what to do.
func Open(e *runenv.Env, r *inputs.Reader) (*Job, error) {
	j := &Job{Env: e}
	// Masked before anything else is printed or sent.
	j.Mask(e.Getenv("ACTIONS_RUNTIME_TOKEN"))
	if err := transport.CheckForce(e.Getenv(transport.ForceVar)); err != nil {
		return nil, err
	}
	root := r.AbsPath("cache-root", "")
	if root == "" {
		root = e.Getenv("RUSTCACHE_ROOT")
	}
	if root == "" {
		root = e.DefaultRoot()
	}
	j.Root, j.FailOnError, j.Mode = root, r.Bool("fail-on-cache-error", false), cacheservice.ModeFromEnv(e.Getenv)
	// A root under a regular file is a misconfiguration, not a missing setup.
	if err := rootdir.NotDirectory(root); err != nil {
		r.Check(false, "cache-root", root, "expected the directory given to the setup step: "+err.Error())
	}
	// A state file that cannot be read (a link planted in its place, a cut
	// file) means no usable setup: restore says so, save warns.
	st, err := state.Load(root)
	if err != nil {
		st, j.stateErr = &state.State{}, err
	}
	j.State = st
	return j, nil
}

// NoSetup says why SetupDone is false, wrapping ErrNoSetup.
func (j *Job) NoSetup() error {
	if j.stateErr != nil {
		return fmt.Errorf("%w under %q: %w", ErrNoSetup, j.Root, j.stateErr)
	}
	return fmt.Errorf("%w under %q", ErrNoSetup, j.Root)
}

// Mask registers a credential with the step's log (ghcmd.Log.Mask): the
// runner hides each of its lines, and Redact removes it from everything this
// job prints or records — a service may echo what it was sent in an error.
func (j *Job) Mask(secret string) { j.Env.Log().Mask(secret) }

// Redact replaces every masked credential in s with "***".
func (j *Job) Redact(s string) string { return j.Env.Log().Redact(s) }

// TimeoutVar names an environment variable that, set to a positive Go
// duration such as "90s", bounds a restore or save more finely than the
// timeout-minutes input (setup: setup-timeout-minutes), and wins over it.
// Tests use it to bound a service that accepts a request and never answers.
const TimeoutVar = "RUSTCACHE_TIMEOUT"

// Timeout is the bound of this step's cache transfer: TimeoutVar when it
// holds a positive duration, else the timeout-minutes value.
func (j *Job) Timeout(minutes int) time.Duration {
	if v := strings.TrimSpace(j.Env.Getenv(TimeoutVar)); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			j.timeout = d
			return d
		}
		j.Notice("%s=%q is not a positive duration such as 90s; using timeout-minutes", TimeoutVar, v)
	}
	j.timeout = time.Duration(minutes) * time.Minute
	return j.timeout
}

// ErrNoSetup means the root holds no state from a setup step.
var ErrNoSetup = errors.New("no sccache setup found")

// SetupDone reports whether setup ran for this root: its state is there,
// and so is the marker setup writes into the roots it owns — restore and
// save never replace or trim a directory setup did not prepare.
func (j *Job) SetupDone() bool {
	return j.State.SccacheVersion != "" && j.State.SccacheTarget != "" && rootdir.Owned(j.Root)
}

// WithoutSccache reports whether setup went on without sccache (its
// release could not be downloaded), saying with a notice that the step
// (restore, save) is skipped for that reason. Setup has already warned.
func (j *Job) WithoutSccache(step string) bool {
	if j.State.WithoutSccache == "" {
		return false
	}
	j.Notice("%s skipped: sccache is not set up in this job (the setup step could not download it; see its warning)", step)
	return true
}

// Workspace is the base that archive names are relative to.
func (j *Job) Workspace() string { return j.Env.Workspace() }

// VersionPath stands for the sccache directory in the cache version. The
// official client hashes the path patterns it was given, which for this
// directory would be its absolute path: every entry would then belong to one
// RUNNER_TEMP (or cache-root), and a job whose root lies elsewhere (another
// self-hosted runner, act, a changed cache-root) would never find it. The
// archive names its entries relative to the workspace and restore extracts
// them by the archive's own layout, so one fixed name fits every root.
const VersionPath = "rustcache-action/sccache-dir"

// Version is the cache version of the entry: cacheservice.Version of
// [Job.VersionPaths], [Compression] and the Windows flag — for an entry of
// the sccache directory alone the SHA-256 of
// "rustcache-action/sccache-dir|zstd-without-long|1.0"
// ("…|zstd-without-long|windows-only|1.0" on Windows), whatever the root.
func (j *Job) Version() string {
	return cacheservice.Version(j.VersionPaths(), Compression, strings.HasPrefix(j.State.Platform, "Windows"))
}

// Client connects to the cache service.
func (j *Job) Client() (cacheservice.Client, error) {
	return cacheservice.New(cacheservice.Config{Getenv: j.Env.Getenv, HTTP: j.Env.Client(), Redact: j.Redact})
}

// Route decides how this step moves the entry (see package transport).
func (j *Job) Route(op transport.Op) (transport.Decision, error) {
	f := transport.FactsFromEnv(j.Env.Getenv)
	f.Op = op
	_, err := j.Client()
	f.Credentials = err == nil
	return transport.Choose(f)
}

// HandOff writes the outputs the nested actions/cache step (named by step)
// takes: handoff, key, path (EntryDirs, one a line) and extra, and says in
// the log which step moves the entry. actions/cache files the entry under the
// version of these paths as given (absolute, so tied to the root), while the
// program's own client uses Version (the same for every root): an entry one
// route saved is not found by the other. Each runner kind always takes the
// same route, so this splits entries only between runner kinds.
func (j *Job) HandOff(step, key string, extra map[string]string) error {
	var cmds runenv.Commands
	cmds.SetOutput("handoff", "actions-cache")
	cmds.SetOutput("key", key)
	cmds.SetOutput("path", strings.Join(j.EntryDirs(), "\n"))
	for k, v := range extra {
		cmds.SetOutput(k, v)
	}
	j.Env.Log().Printf("the cache service's credentials do not reach this step: %s moves %s", step, key)
	return cmds.Commit(j.Env)
}

// Off says once, clearly, why the cache is not persisted on this runner.
func (j *Job) Off(reason string) error {
	return j.Fault("cache persistence is off", fmt.Errorf("%w: %s; sccache still runs with a local cache; see the README section \"Runtime credentials\"", cacheservice.ErrUnavailable, reason))
}

// CacheDir is the sccache directory under the root. It is derived from the
// root, never read back from the state file, which a build inside a cross
// container can edit.
func (j *Job) CacheDir() string { return rootdir.Cache(j.Root) }

// Sccache returns a runner for the installed sccache on this job's port: the
// binary setup installed at its fixed place under the root (named for the
// target setup recorded), never a path read back from a file, and only when
// it is a regular file of this user that nobody else can write.
func (j *Job) Sccache() (*sccache.Runner, error) {
	path := rootdir.Sccache(j.Root, j.State.SccacheTarget)
	if err := rootdir.Installed(path); err != nil {
		return nil, err
	}
	env := j.Env.ChildEnviron()
	if b := j.State.Backend; b != nil && !b.Active {
		// The builds fell back to the local disk cache: so does a server
		// started here, whatever the job's env still holds.
		env = slices.DeleteFunc(env, func(kv string) bool {
			name, _, _ := strings.Cut(kv, "=")
			return slices.Contains(backend.AllNames(), name)
		})
	}
	env = append(env, "SCCACHE_DIR="+j.CacheDir(), fmt.Sprintf("SCCACHE_SERVER_PORT=%d", j.State.ServerPort))
	return &sccache.Runner{Path: path, Env: env, Command: j.Env.Command}, nil
}

// Fault handles a cache fault: a warning annotation (and nil), or the error
// itself when fail-on-cache-error is set. Both say what happened and, when
// there is something to say, what it means for later runs and what to do.
func (j *Job) Fault(what string, err error) error {
	msg := j.Redact(fmt.Sprintf("%s: %v", what, err))
	j.Warnings = append(j.Warnings, msg)
	hint := j.advice(err)
	if hint != "" {
		hint = "; " + hint
	}
	if j.FailOnError {
		return fmt.Errorf("%s (fail-on-cache-error is set)%s", msg, hint)
	}
	j.Env.Log().Warningf("%s — the build goes on without the cache%s", msg, hint)
	return nil
}

// advice tells the user what a cache fault means and what, if anything, to
// do about it. Local file-system errors and missing credentials explain
// themselves.
func (j *Job) advice(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		limit := "the step's time limit"
		if j.timeout > 0 {
			limit = j.timeout.String()
		}
		return fmt.Sprintf("the cache service did not finish within %s: raise timeout-minutes if it is only slow", limit)
	case errors.Is(err, httpx.ErrStalled):
		return "the connection to the cache service stopped moving data on every try (a hung proxy or a half-open connection): a later run tries again"
	case errors.Is(err, cacheservice.ErrThrottled):
		return "the repository reached the cache service's rate limit: a later run tries again (save-if can keep saves to one branch)"
	case errors.Is(err, cacheservice.ErrForbidden):
		return "the cache service refused this job's token (read-only, as for pull requests from forks, or expired): a later run tries again"
	case errors.Is(err, cacheservice.ErrRefused):
		return "the cache service declined the request: if the repository's cache storage is full, lower cache-size or delete entries under Actions › Caches"
	case errors.Is(err, archive.ErrUnsafe), errors.Is(err, archive.ErrCorrupt), errors.Is(err, cacheservice.ErrUntrustedEntry):
		return "the entry is skipped and the next save replaces it; delete it under Actions › Caches if this repeats"
	case errors.Is(err, cacheservice.ErrUnavailable), errors.Is(err, ErrNoSetup), errors.As(err, &pe):
		return ""
	}
	return "a fault of the cache service or the network: a later run tries again"
}

// Notice prints a notice annotation.
func (j *Job) Notice(format string, args ...any) {
	j.Env.Log().Noticef(format, args...)
}

// Unavailable says once, clearly, why the cache is not persisted.
func (j *Job) Unavailable(err error) error {
	if errors.Is(err, cacheservice.ErrUnavailable) {
		return j.Fault("cache persistence is off", fmt.Errorf("%w: no cache service credentials reach this step (ACTIONS_RESULTS_URL / ACTIONS_CACHE_URL are unset); sccache still runs with a local cache; see the README section \"Runtime credentials\"", cacheservice.ErrUnavailable))
	}
	return j.Fault("cache service", err)
}

// KeyInputs are the inputs the keys depend on.
type KeyInputs struct {
	UserKey     string
	Targets     []string
	WorkingDirs []string
}

// ReadKeyInputs reads key, targets and working-directory; bad values are
// recorded in r.
func ReadKeyInputs(e *runenv.Env, r *inputs.Reader) KeyInputs {
	k := KeyInputs{
		UserKey:     r.Key("key", 200),
		Targets:     r.Lines("targets", nil, true),
		WorkingDirs: workdir.Read(r, e.Workspace()),
	}
	for _, t := range k.Targets {
		r.Check(!strings.ContainsAny(t, " \t"), "targets", t, "expected one target per line or comma-separated")
	}
	return k
}

// Keys computes this job's cache keys.
func (j *Job) Keys(ctx context.Context, ki KeyInputs) (cachekey.Keys, error) {
	var locks [][]byte
	for _, d := range ki.WorkingDirs {
		if b, err := os.ReadFile(filepath.Join(d, "Cargo.lock")); err == nil {
			locks = append(locks, b)
		}
	}
	return cachekey.Compute(cachekey.Parts{
		OS:             j.Env.Getenv("RUNNER_OS"),
		Arch:           j.Env.Getenv("RUNNER_ARCH"),
		UserKey:        ki.UserKey,
		RustcVersion:   j.rustcVersion(ctx, ki.WorkingDirs),
		Targets:        ki.Targets,
		SccacheVersion: j.State.SccacheVersion,
		Lockfiles:      locks,
		RunID:          j.Env.Getenv("GITHUB_RUN_ID"),
		RunAttempt:     j.Env.Getenv("GITHUB_RUN_ATTEMPT"),
	})
}

// rustcVersion runs `rustc -vV` in the first workspace (so rust-toolchain
// files apply); an unavailable rustc gives "" and a notice.
func (j *Job) rustcVersion(ctx context.Context, dirs []string) string {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := j.Env.Command(ctx, "rustc", "-vV")
	cmd.Env = j.Env.ChildEnviron()
	if len(dirs) > 0 {
		cmd.Dir = dirs[0]
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		j.Notice("rustc -vV failed (%v): the cache key does not include the compiler version", err)
		return ""
	}
	return out.String()
}

// SnapshotPath is where restore leaves the cache snapshot.
func (j *Job) SnapshotPath() string { return filepath.Join(j.Root, SnapshotFile) }

// Bounds on the number of archive entries a cache may hold: an sccache entry
// for a Rust crate (a compressed rlib, rmeta and dep-info) is rarely below
// tens of KiB, so a cache of cache-size bytes holding more than one entry per
// minAverageEntry bytes (and more than minEntries) is an archive of tiny
// files made to exhaust inodes and time. 2 GiB allow 32768 entries.
const (
	minEntries      = 16384
	minAverageEntry = 64 << 10
)

// MaxEntries is how many archive entries (files and directories) restore
// accepts for a cache of cacheSize bytes. save refuses to upload a cache past
// it, since no restore would take it back.
func MaxEntries(cacheSize int64) int {
	return int(max(minEntries, cacheSize/minAverageEntry))
}

// ArchiveEntries counts the entries an archive of a cache with these files
// (slash-separated paths relative to the cache dir) holds: the files, every
// directory above them, and the cache dir itself.
func ArchiveEntries(files []string) int {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	return len(files) + len(dirs) + 1
}
