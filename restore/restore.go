// Package restore brings the sccache disk cache back from the GitHub Actions
// cache before the build.
//
// It looks the primary key up, then the restore-key prefixes (newest entry
// first), and streams the entry straight from the service into the archive
// extractor: no temporary archive file. The extractor writes into a sibling
// directory and swaps it into place only when the whole archive checked out,
// so the cache directory is always either what it was or the complete entry.
// Any fault of the service or the archive is a warning (the build proceeds
// with an empty cache) unless fail-on-cache-error is set.
package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/diskcache"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/progress"
	"github.com/org/rustcache-action/internal/report"
	"github.com/org/rustcache-action/internal/rootdir"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/targets"
	"github.com/org/rustcache-action/internal/transport"
)

// DefaultTimeout bounds the whole restore (lookup, download, extraction).
const DefaultTimeout = 10 * time.Minute

// Run performs the restore step.
func Run(ctx context.Context, e *runenv.Env) error {
	start := e.Now()
	r := inputs.NewReader(e.Input)
	j, err := job.Open(e, r)
	if err != nil {
		return err
	}
	ki := job.ReadKeyInputs(e, r)
	enabled := r.Bool("restore", true)
	j.State.CacheTargets = r.Bool("cache-targets", job.DefaultCacheTargets)
	j.State.CacheCargoHome = r.Bool("cache-cargo-home", false)
	minutes := r.Int("timeout-minutes", int(DefaultTimeout/time.Minute), 1, 360)
	if err := r.Err(); err != nil {
		return err
	}
	timeout := j.Timeout(minutes)
	if j.WithoutSccache("cache restore") {
		var cmds runenv.Commands
		cmds.SetOutput("cache-hit", "false")
		return cmds.Commit(e)
	}
	if !j.SetupDone() {
		return fmt.Errorf("%w: run the setup step first (uses: org/rustcache-action@v1), or give restore the same cache-root", j.NoSetup())
	}
	// A link or file planted in place of the cache directory (a build inside
	// a container can write under the root) is replaced, never followed.
	if err := rootdir.RealDir(j.CacheDir()); err != nil {
		if ferr := j.Fault("prepare the cache directory", err); ferr != nil {
			return ferr
		}
	}
	keys, err := j.Keys(ctx, ki)
	if err != nil {
		return err
	}
	rs := &state.Restore{PrimaryKey: keys.Primary, RestoreKeys: keys.RestoreKeys, KeyPrefix: keys.Prefix, Version: j.Version(), At: e.Now()}
	j.State.Restore = rs

	// A server still running on this job's port has the old directory open.
	if sc, err := j.Sccache(); err == nil {
		_ = sc.StopServer(ctx)
	} else {
		j.Notice("not stopping sccache: %v", err)
	}
	// A staging directory left by an earlier job on this root is never
	// moved into a target directory.
	_ = os.RemoveAll(filepath.Join(j.Root, job.TargetsDir))
	_ = os.RemoveAll(filepath.Join(j.Root, job.CargoHomeDir))

	route := transport.Decision{Route: transport.Skip}
	if enabled && j.State.Archive() {
		if route, err = j.Route(transport.Restore); err != nil {
			return err
		}
	}
	switch route.Route {
	case transport.Skip:
		switch {
		case !enabled:
			rs.Skipped = "restore: false"
		case !j.State.Archive():
			rs.Skipped = "the remote cache " + j.State.Backend.Kind + " holds the cache"
			fmt.Fprintf(j.Env.Stdout, "cache restore skipped: %s\n", rs.Skipped)
		default:
			rs.Skipped = "ACTIONS_CACHE_MODE=" + string(j.Mode)
			j.Notice("cache restore skipped: ACTIONS_CACHE_MODE=%s does not allow reading", j.Mode)
		}
	case transport.Nested:
		return handOff(j, rs)
	case transport.Off:
		rs.Warning = "no cache service"
		if err := j.Off(route.Reason); err != nil {
			return err
		}
	default:
		tctx, cancel := context.WithTimeout(ctx, timeout)
		err = fetch(tctx, j, rs, keys.Primary, keys.RestoreKeys, ki.WorkingDirs)
		cancel()
		if err != nil {
			return err
		}
	}
	rs.Seconds = e.Now().Sub(start).Seconds()
	return finish(j, rs)
}

// fetch looks the entry up and extracts it; faults become warnings.
func fetch(ctx context.Context, j *job.Job, rs *state.Restore, key string, restoreKeys, workDirs []string) error {
	client, err := j.Client()
	if err != nil {
		rs.Warning = "no cache service"
		return j.Unavailable(err)
	}
	rs.Protocol = client.Protocol()
	entry, err := client.Lookup(ctx, key, restoreKeys, rs.Version)
	if err != nil {
		rs.Warning = j.Redact(err.Error())
		return j.Fault("cache lookup failed", err)
	}
	if entry == nil {
		j.Env.Log().Printf("cache miss for %s", key)
		return nil
	}
	t0 := j.Env.Now()
	m := progress.Start(j.Env.Log(), j.Env.Clock(), "Received", "Download progress of "+entry.Key, -1)
	st, n, err := stream(ctx, client, entry, j.EntryDirs(), j.Workspace(), j.State.CacheSize, m)
	m.Stop()
	if err != nil {
		rs.Warning = j.Redact(err.Error())
		what := "cache restore failed"
		if errors.Is(err, archive.ErrUnsafe) || errors.Is(err, archive.ErrCorrupt) {
			what = "cache entry " + entry.Key + " rejected"
		}
		return j.Fault(what, err)
	}
	rs.MatchedKey, rs.Exact = entry.Key, entry.Exact
	rs.Bytes, rs.Files = n, st.Files
	j.Env.Log().Printf("restored %s: %d files, %s downloaded in %.1fs", entry.Key, st.Files, report.Bytes(n), j.Env.Now().Sub(t0).Seconds())
	putBack(j, rs, workDirs)
	return nil
}

// putBack moves the restored parts besides the sccache directory (the
// target part, cargo home) into place.
func putBack(j *job.Job, rs *state.Restore, workDirs []string) {
	if j.State.CacheTargets {
		putBackTargets(j, rs, workDirs)
	}
	if j.State.CacheCargoHome {
		putBackCargoHome(j, rs)
	}
}

// putBackCargoHome moves the restored part of cargo home into place; what
// cannot be put back cargo downloads again.
func putBackCargoHome(j *job.Job, rs *state.Restore) {
	home := j.CargoHome()
	if home == "" {
		j.Notice("cargo home not restored: neither CARGO_HOME nor HOME is set")
		return
	}
	res, err := targets.Restore(filepath.Join(j.Root, job.CargoHomeDir), j.Workspace(), []string{home}, false)
	if err != nil {
		j.Notice("cargo home not restored (cargo downloads again): %v", err)
		return
	}
	for _, r := range res {
		rs.CargoHomeFiles += r.Files
		if r.Problem != "" {
			j.Notice("cargo home restored only in part (cargo downloads the rest again): %s", r.Problem)
		}
		fmt.Fprintf(j.Env.Stdout, "cargo home: %d files (%s) into %s\n", r.Files, report.Bytes(r.Bytes), r.Dir)
	}
}

// putBackTargets moves the restored target part into the target
// directories. What cannot be put back is a notice: cargo rebuilds it.
func putBackTargets(j *job.Job, rs *state.Restore, workDirs []string) {
	var dirs []string
	for _, td := range j.TargetDirs(workDirs) {
		dirs = append(dirs, td.Dir)
	}
	res, err := targets.Restore(filepath.Join(j.Root, job.TargetsDir), j.Workspace(), dirs, true)
	if err != nil {
		j.Notice("target part not restored (cargo builds the dependencies again): %v", err)
		return
	}
	for _, r := range res {
		rs.Targets = append(rs.Targets, state.TargetRestore{Dir: r.Dir, Units: r.Units, Files: r.Files, Bytes: r.Bytes, Problem: r.Problem})
		if r.Problem != "" {
			j.Notice("target part of %s restored only in part (cargo builds the rest again): %s", r.Dir, r.Problem)
		}
		j.Env.Log().Printf("target part: %d units (%s) into %s", len(r.Units), report.Bytes(r.Bytes), r.Dir)
	}
}

// errExtracted closes the pipe once extraction has ended, which stops the
// downloader; the write error it then reports is not a download fault.
var errExtracted = errors.New("extraction finished")

// stream downloads the entry into the extractor through a pipe.
func stream(ctx context.Context, c cacheservice.Client, entry *cacheservice.Entry, dirs []string, workspace string, cacheSize int64, m *progress.Meter) (archive.Stats, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type dl struct {
		n   int64
		err error
	}
	done := make(chan dl, 1)
	go func() {
		n, err := c.Download(ctx, entry, m.Writer(pw))
		pw.CloseWithError(err)
		done <- dl{n, err}
	}()
	maxBytes, maxEntries := int64(0), 0
	if cacheSize > 0 {
		// A cache holds at most cache-size bytes; leave room for a limit
		// lowered since the entry was saved, but refuse a bomb.
		maxBytes = 4*cacheSize + 1<<30
		// And far fewer files than an archive of empty files could hold,
		// each of which costs a file creation before the limit is seen.
		maxEntries = job.MaxEntries(cacheSize)
	}
	st, xerr := archive.ExtractDirs(ctx, pr, dirs, workspace, archive.ExtractOptions{MaxBytes: maxBytes, MaxEntries: maxEntries})
	// Unblock the downloader whatever happened; a complete archive needs none
	// of the bytes that may follow.
	pr.CloseWithError(errExtracted)
	cancel()
	d := <-done
	switch {
	case xerr == nil:
		// The archive was complete and verified (zstd checksum, tar end).
		return st, d.n, nil
	case d.err != nil && !errors.Is(d.err, context.Canceled) && !errors.Is(d.err, errExtracted):
		// The download failed first; the extractor only saw the stream end.
		return st, d.n, fmt.Errorf("download %s: %w", entry.Key, d.err)
	default:
		return st, d.n, fmt.Errorf("extract %s: %w", entry.Key, xerr)
	}
}

// finish takes the snapshot save compares against, records the state and
// writes the outputs.
func finish(j *job.Job, rs *state.Restore) error {
	snap, err := diskcache.Take(j.CacheDir())
	if err != nil {
		return j.Fault("scan the restored cache", err)
	}
	if err := os.MkdirAll(j.CacheDir(), 0o755); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	// Without the snapshot save cannot count hits and misses, but the state
	// is still recorded: save then says so and uploads.
	if err := snap.SaveFile(j.SnapshotPath()); err != nil {
		if ferr := j.Fault("record the cache snapshot", err); ferr != nil {
			return ferr
		}
	} else {
		rs.SnapshotFile = j.SnapshotPath()
	}
	if err := state.Save(j.Root, j.State); err != nil {
		return fmt.Errorf("record restore state: %w", err)
	}
	var cmds runenv.Commands
	cmds.SetOutput("cache-hit", strconv.FormatBool(rs.Exact))
	cmds.SetOutput("cache-matched-key", rs.MatchedKey)
	cmds.SetOutput("cache-primary-key", rs.PrimaryKey)
	if err := cmds.Commit(j.Env); err != nil {
		return err
	}
	return nil
}
