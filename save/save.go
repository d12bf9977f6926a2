// Package save stores the sccache disk cache after the build and writes the
// job report.
//
// In order: stop the runner's sccache server (it flushes its pending writes),
// collect its statistics, compare the cache directory with the snapshot
// restore took — which counts the hits and misses of every sccache server that
// used the directory, including those inside cross containers — skip the
// upload when no entry was added or removed, trim the directory to cache-size
// by least recent use, stream it as tar+zstd straight into the cache service
// under a new key, prune superseded entries, and write the summary.
package save

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/diskcache"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/progress"
	"github.com/org/rustcache-action/internal/prune"
	"github.com/org/rustcache-action/internal/report"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/safefile"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/transport"
)

// ReportFile is the name, under the root, of a copy of the job summary.
const ReportFile = "report.md"

// DefaultTimeout bounds the upload.
const DefaultTimeout = 15 * time.Minute

// options are save's inputs.
type options struct {
	save    bool
	keep    int
	token   string
	timeout time.Duration
	ki      job.KeyInputs
}

// Run performs the save step.
func Run(ctx context.Context, e *runenv.Env) error {
	j, o, err := open(e)
	if err != nil {
		return err
	}
	if j.WithoutSccache("cache save") {
		var cmds runenv.Commands
		cmds.SetOutput("saved", "false")
		return cmds.Commit(e)
	}
	if !j.SetupDone() {
		return j.Fault("nothing to save", fmt.Errorf("%w (did the setup step run with the same cache-root?)", j.NoSetup()))
	}
	d, err := run(ctx, j, o)
	if err != nil {
		return err
	}
	if d.SavedBy != "" {
		return nil // handed to actions/cache/save: save-finish prunes and publishes
	}
	return publish(j, d)
}

// open opens the job and reads save's inputs.
func open(e *runenv.Env) (*job.Job, options, error) {
	r := inputs.NewReader(e.Input)
	j, err := job.Open(e, r)
	if err != nil {
		return nil, options{}, err
	}
	o, err := readOptions(e, r, j)
	return j, o, err
}

// readOptions reads save's inputs and masks the token.
func readOptions(e *runenv.Env, r *inputs.Reader, j *job.Job) (options, error) {
	o := options{
		save:    r.Bool("save", true) && r.Bool("save-if", true),
		keep:    r.Int("keep", 1, 0, 100),
		token:   r.Secret("github-token"),
		timeout: j.Timeout(r.Int("timeout-minutes", int(DefaultTimeout/time.Minute), 1, 360)),
		ki:      job.ReadKeyInputs(e, r),
	}
	j.Mask(o.token)
	defTargets := job.DefaultCacheTargets
	if j.State.Restore != nil {
		defTargets = j.State.CacheTargets
	}
	j.State.CacheTargets = r.Bool("cache-targets", defTargets)
	j.State.CacheCargoHome = r.Bool("cache-cargo-home", j.State.Restore != nil && j.State.CacheCargoHome)
	if err := r.Err(); err != nil {
		return o, err
	}
	return o, nil
}

func run(ctx context.Context, j *job.Job, o options) (*report.Data, error) {
	st := j.State
	d := &report.Data{SccacheVersion: st.SccacheVersion, Target: st.SccacheTarget, Platform: st.Platform, CacheMode: string(j.Mode)}
	if !j.Mode.Known() {
		d.CacheMode = ""
	}

	// 1. Stop the runner's server: statistics first, then a clean stop that
	// waits for its cache writes.
	if sc, err := j.Sccache(); err != nil {
		j.Notice("sccache statistics unavailable, server not stopped: %v", err)
	} else {
		if stats, err := sc.Stats(ctx); err == nil {
			d.HostStats = true
			d.HostRequests, d.HostHits, d.HostMisses, d.HostNotCacheable = stats.CompileRequests, stats.Hits, stats.Misses, stats.NotCacheable
		} else {
			j.Notice("sccache statistics unavailable: %v", err)
		}
		if err := sc.StopServer(ctx); err != nil {
			j.Notice("stopping sccache: %v", err)
		}
	}

	d.Backend, d.BackendFallback = backendRow(st.Backend)
	if st.Backend != nil && st.Backend.Active {
		// The store holds the entries: count from the servers' statistics,
		// the runner's and those the wrapper left for containers.
		cs, n, err := backend.ServerStats(filepath.Join(j.Root, backend.StatsDir), st.ServerPort)
		if err != nil {
			j.Notice("statistics of container servers: %v", err)
		}
		d.Hits, d.Misses = int(d.HostHits+cs.Hits), int(d.HostMisses+cs.Misses)
		d.ContainerServers = n
		if !st.Archive() {
			d.RestoreSkip = "the remote cache holds the cache"
			d.SaveSkip = "the remote cache holds the cache (no GitHub Actions cache entry)"
			fmt.Fprintf(j.Env.Stdout, "upload skipped: %s\n", d.SaveSkip)
			return d, nil
		}
	}

	// 2. Account for every server's work from the shared directory.
	after, err := diskcache.Take(j.CacheDir())
	if err != nil {
		return d, j.Fault("scan the cache", err)
	}
	before := diskcache.Snapshot{}
	rs := st.Restore
	if rs != nil {
		d.PrimaryKey, d.MatchedKey, d.Exact = rs.PrimaryKey, rs.MatchedKey, rs.Exact
		d.RestoredBytes, d.RestoreSecs, d.RestoreSkip, d.Protocol = rs.Bytes, rs.Seconds, rs.Skipped, rs.Protocol
		if rs.Warning != "" {
			d.Warnings = append(d.Warnings, "restore: "+rs.Warning)
		}
		b, err := diskcache.LoadFile(j.SnapshotPath())
		if err != nil {
			// Without the snapshot nothing can be counted, and whether the
			// cache changed is unknown: say so, and upload.
			d.Unaccounted = "the snapshot restore took is unreadable"
			if ferr := j.Fault("cache accounting", err); ferr != nil {
				return d, ferr
			}
		} else {
			before = b
		}
	}
	diff := diskcache.Compare(before, after)
	if d.Unaccounted == "" && (st.Backend == nil || !st.Backend.Active) {
		d.Hits, d.Misses = diff.Hits, diff.Misses
		d.SizeBefore = before.Bytes()
	}
	d.SizeAfter = after.Bytes()
	tp := &targetPart{}
	if st.CacheTargets {
		tp = selectTargets(j, o.ki.WorkingDirs, d)
	}
	if st.CacheCargoHome {
		tp.selectCargoHome(j, o.ki.WorkingDirs, d)
	}

	// 3. Decide whether to upload, and how.
	route := transport.Decision{Route: transport.Skip}
	if o.save {
		if route, err = j.Route(transport.Save); err != nil {
			return d, err
		}
	}
	switch {
	case !o.save:
		d.SaveSkip = "save is disabled for this run"
	case route.Route == transport.Skip:
		d.SaveSkip = "ACTIONS_CACHE_MODE=" + string(j.Mode) + " does not allow writing"
	case len(after) == 0 && tp.files == 0:
		d.SaveSkip = "the cache is empty"
	case rs != nil && rs.MatchedKey != "" && d.Unaccounted == "" && !diff.ContentChanged() && !tp.changed:
		d.SaveSkip = "nothing changed since restore"
	}
	if d.SaveSkip != "" {
		j.Env.Log().Printf("upload skipped: %s", d.SaveSkip)
		return d, nil
	}
	if d.Unaccounted != "" {
		j.Env.Log().Printf("uploading: whether the cache changed since restore is unknown (%s)", d.Unaccounted)
	}
	files := make([]string, 0, len(after))
	for f := range after {
		files = append(files, f)
	}
	sccacheLimit := st.CacheSize
	if st.CacheTargets || st.CacheCargoHome {
		sccacheLimit = tp.fit(j, st.CacheSize, d)
	}
	if n, limit := job.ArchiveEntries(files)+tp.stagedEntries(), job.MaxEntries(st.CacheSize); n > limit {
		d.SaveSkip = fmt.Sprintf("the cache holds %d entries, more than restore accepts for its cache-size (%d)", n, limit)
		return d, j.Fault("cache not saved", fmt.Errorf("%s: raise cache-size (restore accepts one entry per 64 KiB of it, at least 16384)", d.SaveSkip))
	}

	// 4. Trim, upload, prune.
	removed, _, err := diskcache.Trim(j.CacheDir(), after, sccacheLimit)
	if err != nil {
		return d, j.Fault("trim the cache", err)
	}
	d.Trimmed, d.SizeAfter = removed, after.Bytes()

	key := ""
	version := j.Version()
	if rs != nil {
		key = rs.PrimaryKey
	} else {
		keys, err := j.Keys(ctx, o.ki)
		if err != nil {
			return d, err
		}
		key = keys.Primary
		d.PrimaryKey = key
		rs = &state.Restore{KeyPrefix: keys.Prefix}
	}
	if route.Route == transport.Off {
		d.SaveSkip = "no cache service"
		return d, j.Off(route.Reason)
	}
	t0 := j.Env.Now()
	if err := tp.stage(j); err != nil {
		return d, j.Fault("stage the target part", err)
	}
	if route.Route == transport.Nested {
		// actions/cache/save uploads the entry's directories as they are
		// now; save-finish prunes and reports.
		return d, handOff(j, d, key, rs.KeyPrefix)
	}
	client, err := j.Client()
	if err != nil {
		d.SaveSkip = "no cache service"
		return d, j.Unavailable(err)
	}
	d.Protocol = client.Protocol()
	uctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	m := progress.Start(j.Env.Log(), j.Env.Clock(), "Sent", "Upload progress of "+key, -1)
	n, err := upload(uctx, client, key, version, sources(j), j.Workspace(), m)
	m.Stop()
	switch {
	case errors.Is(err, cacheservice.ErrAlreadyExists), errors.Is(err, cacheservice.ErrRefused) && savedByOther(uctx, j, client, key, version):
		d.SaveSkip = "another job saved " + key + " first"
		j.Notice("cache entry %s already exists: another job saved it first", key)
		return d, nil
	case err != nil:
		d.SaveSkip = "upload failed"
		return d, j.Fault("cache save failed", err)
	}
	d.SavedKey, d.SavedBytes, d.SaveSecs = key, n, j.Env.Now().Sub(t0).Seconds()
	j.Env.Log().Printf("saved %s: %s in %.1fs", key, report.Bytes(n), d.SaveSecs)

	pruneOld(ctx, j, o, rs.KeyPrefix, key, d)
	return d, nil
}

// backendRow describes the remote backend for the summary: what it is and
// whether the builds used it.
func backendRow(b *state.Backend) (string, string) {
	if b == nil {
		return "", ""
	}
	if !b.Active {
		return b.Kind, b.Fallback
	}
	d := b.Describe
	if b.Trust != "" && b.ReadOnly {
		d += " — " + b.Trust
	}
	return d, ""
}

// savedByOther reports whether, after the service declined this save, an
// entry with exactly this key and version exists: another job of the same
// configuration won the race (the v2 service may let both upload and
// decline the second finalize).
func savedByOther(ctx context.Context, j *job.Job, c cacheservice.Client, key, version string) bool {
	if !j.Mode.CanRead() {
		return false
	}
	e, err := c.Lookup(ctx, key, nil, version)
	return err == nil && e != nil && e.Exact
}

// sources are the entry's directories as the archive takes them: the
// sccache directory without sccache's temporary and lock files, the staged
// parts whole.
func sources(j *job.Job) []archive.Source {
	var srcs []archive.Source
	for i, dir := range j.EntryDirs() {
		src := archive.Source{Dir: dir}
		if i == 0 {
			src.Skip = diskcache.Skip
		}
		srcs = append(srcs, src)
	}
	return srcs
}

// upload streams the archive into the service through a pipe.
func upload(ctx context.Context, c cacheservice.Client, key, version string, srcs []archive.Source, workspace string, m *progress.Meter) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		_, err := archive.WriteDirs(ctx, pw, srcs, workspace, archive.WriteOptions{})
		pw.CloseWithError(err)
		werr <- err
	}()
	n, err := c.Save(ctx, key, version, m.Reader(pr))
	pr.CloseWithError(errors.New("upload finished"))
	cancel()
	if aerr := <-werr; aerr != nil && err == nil {
		return n, aerr
	}
	if err != nil {
		return n, fmt.Errorf("upload %s: %w", key, err)
	}
	return n, nil
}

// pruneOld deletes superseded entries of the configuration, keeping o.keep
// of them, saved (the key just uploaded) always among them. Any fault is a
// notice: GitHub evicts old entries by itself.
func pruneOld(ctx context.Context, j *job.Job, o options, prefix, saved string, d *report.Data) {
	e := j.Env
	if o.keep == 0 || o.token == "" || prefix == "" || e.Getenv("GITHUB_REPOSITORY") == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	n, err := prune.Run(ctx, prune.Request{
		APIURL: e.Getenv("GITHUB_API_URL"), Repo: e.Getenv("GITHUB_REPOSITORY"), Ref: e.Getenv("GITHUB_REF"),
		Prefix: prefix, Saved: saved, Keep: o.keep, Token: o.token, HTTP: e.Client(),
	})
	d.Pruned = n
	if err != nil {
		d.PruneNote = j.Redact("(pruning stopped: " + err.Error() + ")")
		j.Notice("pruning older cache entries: %v", err)
	}
}

// publish writes the summary and the outputs.
func publish(j *job.Job, d *report.Data) error {
	d.Warnings = append(d.Warnings, j.Warnings...)
	e := j.Env
	// A copy under the root, for artifact uploads and for runners without a
	// job summary.
	if err := safefile.Write(filepath.Join(j.Root, ReportFile), []byte(d.Markdown()), 0o644); err != nil {
		j.Notice("write %s: %v", ReportFile, err)
	}
	if ok, err := e.AppendSummary(d.Markdown()); err != nil {
		j.Notice("job summary: %v", err)
	} else if !ok {
		fmt.Fprint(e.Stdout, d.Markdown())
	}
	j.Notice("%s", d.Headline())
	var cmds runenv.Commands
	if d.Unaccounted != "" {
		cmds.SetOutput("hits", "")
		cmds.SetOutput("misses", "")
	} else {
		cmds.SetOutput("hits", strconv.Itoa(d.Hits))
		cmds.SetOutput("misses", strconv.Itoa(d.Misses))
	}
	rate := d.HitRate()
	if rate < 0 {
		cmds.SetOutput("hit-rate", "")
	} else {
		cmds.SetOutput("hit-rate", strconv.FormatFloat(rate, 'f', 1, 64))
	}
	cmds.SetOutput("saved", strconv.FormatBool(d.SavedKey != ""))
	cmds.SetOutput("saved-key", d.SavedKey)
	cmds.SetOutput("saved-bytes", strconv.FormatInt(d.SavedBytes, 10))
	return cmds.Commit(e)
}
