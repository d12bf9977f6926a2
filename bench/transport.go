package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/diskcache"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/httpx"
)

// layout places a cache directory outside the workspace as on a hosted
// runner: <root>/work/repo/repo is GITHUB_WORKSPACE and the cache is
// <root>/work/_temp/rustcache/cache, so archive names start with
// "../../_temp/rustcache/cache". Restores go back to the same path, as in
// the next job on a fresh runner.
type layout struct {
	root, ws, dir string
}

// cacheRel is the cache directory relative to the workspace.
const cacheRel = "../../_temp/rustcache/cache"

func newLayout(root string) (layout, error) {
	l := layout{root: root, ws: filepath.Join(root, "work", "repo", "repo")}
	l.dir = filepath.Join(l.ws, filepath.FromSlash(cacheRel))
	if err := os.MkdirAll(l.ws, 0o755); err != nil {
		return l, err
	}
	return l, os.MkdirAll(filepath.Dir(l.dir), 0o755)
}

// version is the cache version of every entry the benchmarks save, the one
// @actions/cache computes for the same path.
var version = cacheservice.Version([]string{cacheRel}, cacheservice.CompressionZstd, false)

// service is a running fake cache service and a client of ours for it.
type service struct {
	name   string
	env    map[string]string
	client cacheservice.Client
	tb     *actiontest.Standalone
	stop   func()
}

// close stops the service and drops what it held.
func (s *service) close() {
	s.tb.Close()
	if s.stop != nil {
		s.stop()
	}
}

// serviceKind starts one kind of fake service; each measurement gets a
// fresh one, so stored entries never pile up in memory.
type serviceKind struct {
	name  string
	start func(tb *actiontest.Standalone) (map[string]string, func(), error)
}

func serviceKinds(azurite bool) []serviceKind {
	kinds := []serviceKind{
		{"v1", func(tb *actiontest.Standalone) (map[string]string, func(), error) {
			return fakecache.NewV1(tb).Env(), nil, nil
		}},
		{"v2+MemBlobs", func(tb *actiontest.Standalone) (map[string]string, func(), error) {
			return fakecache.NewV2(tb, fakecache.NewMemBlobs(tb)).Env(), nil, nil
		}},
	}
	if azurite {
		kinds = append(kinds, serviceKind{"v2+Azurite", func(tb *actiontest.Standalone) (map[string]string, func(), error) {
			a, err := fakecache.LaunchAzurite()
			if err != nil {
				return nil, nil, err
			}
			return fakecache.NewV2(tb, a).Env(), a.Stop, nil
		}})
	}
	return kinds
}

// haveAzurite reports whether Azurite can be launched.
func haveAzurite() bool { return fakecache.AzuriteBinary() != "" && hasTool("node") }

// haveOfficial reports whether test/interop's @actions/cache is installed.
func haveOfficial() bool {
	dir := fakecache.InteropDir()
	if dir == "" || !hasTool("node") {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "cache", "package.json"))
	return err == nil
}

func startService(env *benchEnv, k serviceKind) (*service, error) {
	tb := actiontest.NewStandalone(env.scratch)
	vars, stop, err := k.start(tb)
	if err != nil {
		tb.Close()
		return nil, fmt.Errorf("start %s: %w", k.name, err)
	}
	c, err := newClient(vars)
	if err != nil {
		tb.Close()
		if stop != nil {
			stop()
		}
		return nil, err
	}
	return &service{name: k.name, env: vars, client: c, tb: tb, stop: stop}, nil
}

// newClient is the action's client for a service, with production settings.
func newClient(vars map[string]string) (cacheservice.Client, error) {
	return cacheservice.New(cacheservice.Config{Getenv: func(k string) string { return vars[k] }, HTTP: httpx.New(httpx.Options{})})
}

// method is one way of saving and restoring a cache directory.
type method struct {
	name string
	// save stores src.dir under key and returns the bytes stored.
	save func(ctx context.Context, s *service, key string, src layout) (int64, error)
	// restore brings key back to dst.dir, which does not exist.
	restore func(ctx context.Context, s *service, key string, dst layout) error
}

// ours is the action's own pipeline, as save and restore compose it: the
// archive is compressed while it uploads, and extracted while it downloads,
// with no archive file (save.upload and restore.stream).
func ours() method {
	return method{name: "rustcache-action", save: saveOurs, restore: restoreOurs}
}

func saveOurs(ctx context.Context, s *service, key string, src layout) (int64, error) {
	return streamSave(ctx, s.client, key, version, src.dir, src.ws, diskcache.Skip)
}

// streamSave archives dir into the service while it uploads.
func streamSave(ctx context.Context, c cacheservice.Client, key, version, dir, ws string, skip func(string) bool) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		_, err := archive.Write(ctx, pw, dir, ws, archive.WriteOptions{Skip: skip})
		pw.CloseWithError(err)
		werr <- err
	}()
	n, err := c.Save(ctx, key, version, pr)
	pr.CloseWithError(errors.New("upload finished"))
	cancel()
	if aerr := <-werr; aerr != nil && err == nil {
		err = aerr
	}
	return n, err
}

func restoreOurs(ctx context.Context, s *service, key string, dst layout) error {
	e, err := lookup(ctx, s, key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.client.Download(ctx, e, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	_, xerr := archive.Extract(ctx, pr, dst.dir, dst.ws, archive.ExtractOptions{})
	pr.CloseWithError(errors.New("extraction finished"))
	cancel()
	derr := <-done
	if xerr != nil {
		return errors.Join(xerr, derr)
	}
	return nil
}

func lookup(ctx context.Context, s *service, key string) (*cacheservice.Entry, error) {
	e, err := s.client.Lookup(ctx, key, nil, version)
	if err != nil {
		return nil, err
	}
	if e == nil || !e.Exact {
		return nil, fmt.Errorf("entry %s not found", key)
	}
	return e, nil
}

// toolkitShell is the official client's method with our HTTP client: GNU
// tar piped into zstd -T0 writing an archive file, which is then uploaded in
// 32 MiB chunks, four at a time (the toolkit's v1 settings, and our
// defaults); restore downloads the whole file and then runs tar -x through
// unzstd. Compression and transfer do not overlap.
func toolkitShell(tmp string) method {
	file := filepath.Join(tmp, "cache.tzst")
	return method{
		name: "tar|zstd -T0, then upload",
		save: func(ctx context.Context, s *service, key string, src layout) (int64, error) {
			defer os.Remove(file)
			if err := shell(ctx, src.ws, `tar --posix -cf - -P -C "$1" "$2" | zstd -T0 -q -c > "$3"`, src.ws, cacheRel, file); err != nil {
				return 0, err
			}
			f, err := os.Open(file)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			return s.client.Save(ctx, key, version, f)
		},
		restore: func(ctx context.Context, s *service, key string, dst layout) error {
			defer os.Remove(file)
			e, err := lookup(ctx, s, key)
			if err != nil {
				return err
			}
			f, err := os.Create(file)
			if err != nil {
				return err
			}
			if _, err := s.client.Download(ctx, e, f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return shell(ctx, dst.ws, `tar -xf "$2" -P -C "$1" --use-compress-program unzstd`, dst.ws, file)
		},
	}
}

func shell(ctx context.Context, dir, script string, args ...string) error {
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-o", "pipefail", "-c", script, "bash"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", script, err, out)
	}
	return nil
}

// official is @actions/cache itself (test/interop/cache.js under node),
// saving and restoring the same path through the same service. It takes
// the absolute path, as a workflow gives it (${{ runner.temp }}/...): the
// toolkit's glob refuses "..", and archives the path relative to the
// workspace all the same.
func official(tmp string) method {
	script := filepath.Join(fakecache.InteropDir(), "cache.js")
	run := func(ctx context.Context, s *service, ws string, args ...string) (map[string]any, error) {
		cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
		cmd.Dir = ws
		cmd.Env = officialEnv(s, ws, tmp)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		out := stdout.String()
		if err != nil || strings.Contains(out, "::warning ") || strings.Contains(out, "::error ") {
			return nil, fmt.Errorf("node cache.js %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var res map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
			return nil, fmt.Errorf("node cache.js %s: %q is not JSON", strings.Join(args, " "), lines[len(lines)-1])
		}
		return res, nil
	}
	return method{
		name: "@actions/cache 6.3.0",
		save: func(ctx context.Context, s *service, key string, src layout) (int64, error) {
			res, err := run(ctx, s, src.ws, "save", src.dir, key)
			if err != nil {
				return 0, err
			}
			if res["saved"] != true {
				return 0, fmt.Errorf("@actions/cache did not save: %v", res)
			}
			return -1, nil
		},
		restore: func(ctx context.Context, s *service, key string, dst layout) error {
			res, err := run(ctx, s, dst.ws, "restore", dst.dir, key)
			if err != nil {
				return err
			}
			if res["hit"] != true {
				return fmt.Errorf("@actions/cache missed %s: %v", key, res)
			}
			return nil
		},
	}
}

// officialEnv is node's environment: this process's, without anything that
// could point the client at a real service, plus the fake's variables.
func officialEnv(s *service, ws, tmp string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") ||
			strings.HasPrefix(k, "INPUT_") || strings.HasPrefix(k, "CACHE_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range s.env {
		out = append(out, k+"="+v)
	}
	if s.env["ACTIONS_RUNTIME_TOKEN"] == "" {
		// The official client always sends a token; the v1 fake takes any.
		out = append(out, "ACTIONS_RUNTIME_TOKEN=bench")
	}
	return append(out, "GITHUB_WORKSPACE="+ws, "RUNNER_TEMP="+tmp)
}

// transferCase is one cache directory measured by benchmark 2 or 4.
type transferCase struct {
	label string // e.g. "real sccache dir (15 MB, 24 files)"
	src   layout
	sum   treeSum
}

// transferRows are the save and restore rows of one method on one service.
type transferRows struct {
	save, restore *row
	stored        int64
}

// measureTransfer saves and restores tc with every method on every
// service, round after round (methods interleaved), and returns the rows by
// service and method. The first restore of each pair is checked against the
// source.
func measureTransfer(ctx context.Context, env *benchEnv, t *table, group string, tc transferCase, kinds []serviceKind, methods []method, only func(kind, method string) bool) (map[string]map[string]*transferRows, error) {
	out := map[string]map[string]*transferRows{}
	for _, k := range kinds {
		out[k.name] = map[string]*transferRows{}
		for _, m := range methods {
			if only != nil && !only(k.name, m.name) {
				continue
			}
			out[k.name][m.name] = &transferRows{
				save:    t.add(&row{group: group, name: k.name + " save    " + m.name, bytes: tc.sum.bytes}),
				restore: t.add(&row{group: group, name: k.name + " restore " + m.name, bytes: tc.sum.bytes}),
			}
		}
	}
	tmp := filepath.Join(env.scratch, "tmp")
	for round := range env.runs {
		for _, k := range kinds {
			for _, m := range methods {
				rows := out[k.name][m.name]
				if rows == nil {
					continue
				}
				env.logf("%s: %s, %s on %s, round %d/%d, load %s", group, tc.label, m.name, k.name, round+1, env.runs, loadAvg())
				if err := oneTransfer(ctx, env, k, m, tc, rows, round, tmp); err != nil {
					return out, fmt.Errorf("%s on %s: %w", m.name, k.name, err)
				}
			}
		}
	}
	return out, nil
}

func oneTransfer(ctx context.Context, env *benchEnv, k serviceKind, m method, tc transferCase, rows *transferRows, round int, tmp string) error {
	defer settle()
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	s, err := startService(env, k)
	if err != nil {
		return err
	}
	defer s.close()
	key := fmt.Sprintf("bench-%d-%d", round, time.Now().UnixNano())
	var stored int64
	ss, err := timeIt(func() error {
		var err error
		stored, err = m.save(ctx, s, key, tc.src)
		return err
	})
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if stored > 0 {
		rows.stored = stored
	}
	// Restore to the same path, as the next job would: the source steps
	// aside meanwhile.
	aside := tc.src.dir + ".aside"
	if err := os.Rename(tc.src.dir, aside); err != nil {
		return err
	}
	rs, err := timeIt(func() error { return m.restore(ctx, s, key, tc.src) })
	if err == nil && round == 0 {
		if derr := sameTree(tc.sum, tc.src.dir); derr != nil {
			err = fmt.Errorf("restored tree differs: %w", derr)
		}
	}
	if rerr := os.RemoveAll(tc.src.dir); rerr != nil && err == nil {
		err = rerr
	}
	if rerr := os.Rename(aside, tc.src.dir); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	rows.save.runs = append(rows.save.runs, ss)
	rows.restore.runs = append(rows.restore.runs, rs)
	return nil
}

// compareRows writes, on each other method's rows, how many times slower it
// was than ours, against the ≥ 2× target.
func compareRows(byMethod map[string]*transferRows, oursName string) {
	o := byMethod[oursName]
	if o == nil {
		return
	}
	if o.stored > 0 {
		o.save.note = fmt.Sprintf("archive %s", mb(o.stored))
	}
	for name, r := range byMethod {
		if name == oursName {
			continue
		}
		for _, p := range [][2]*row{{r.save, o.save}, {r.restore, o.restore}} {
			x := ratioOf(p[0], p[1])
			if x == 0 {
				continue
			}
			p[0].ratio = fmt.Sprintf("this/ours %.2f", x)
			p[0].goal = goalText(x, ">=", 2)
		}
	}
}

func mb(n int64) string {
	if n >= 10e6 {
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// benchTransport is benchmark 2: the real sccache directory of benchmark 1
// (when it ran) and a synthetic sccache-like one, saved and restored by our
// pipeline, by the toolkit's shell pipeline with our client (v1), and by
// @actions/cache, on every fake service; then, for the synthetic one, the
// parts of our pipeline alone.
func benchTransport(ctx context.Context, env *benchEnv, t *table, real string) error {
	sizes := []int64{500e6}
	if env.short {
		sizes = []int64{8e6}
	}
	if len(env.transport) > 0 {
		sizes = env.transport
	}
	var cases []transferCase
	if real != "" {
		tc, err := prepareCase(env, "real", "real sccache dir", func(dir string) (treeInfo, error) {
			return treeInfo{}, copyTree(real, dir)
		})
		if err != nil {
			return err
		}
		cases = append(cases, tc)
	}
	for i, size := range sizes {
		tc, err := prepareCase(env, fmt.Sprintf("synthetic-%d", i), "synthetic", func(dir string) (treeInfo, error) {
			return makeSccacheLike(dir, size, 42)
		})
		if err != nil {
			return err
		}
		cases = append(cases, tc)
	}

	kinds := serviceKinds(haveAzurite())
	tmp := filepath.Join(env.scratch, "tmp")
	methods := []method{ours(), toolkitShell(tmp)}
	if haveOfficial() {
		methods = append(methods, official(tmp))
	}
	for _, tc := range cases {
		group := "2 transport " + tc.label
		res, err := measureTransfer(ctx, env, t, group, tc, kinds, methods, func(kind, m string) bool {
			// The shell pipeline stands for the toolkit's v1 path only.
			return m != "tar|zstd -T0, then upload" || kind == "v1"
		})
		for _, byMethod := range res {
			compareRows(byMethod, "rustcache-action")
		}
		if err != nil {
			return err
		}
		if !haveAzurite() {
			t.add(&row{group: group, name: "v2+Azurite", note: "skipped: azurite-blob or node missing (npm ci in test/interop)"})
		}
		if !haveOfficial() {
			t.add(&row{group: group, name: "@actions/cache", note: "skipped: node or test/interop/node_modules missing"})
		}
	}
	return benchParts(ctx, env, t, cases[len(cases)-1])
}

// prepareCase builds a source layout under the scratch directory with fill
// and digests it.
func prepareCase(env *benchEnv, name, label string, fill func(dir string) (treeInfo, error)) (transferCase, error) {
	src, err := newLayout(filepath.Join(env.scratch, "src-"+name))
	if err != nil {
		return transferCase{}, err
	}
	if err := os.RemoveAll(src.dir); err != nil {
		return transferCase{}, err
	}
	env.logf("preparing %s", label)
	if _, err := fill(src.dir); err != nil {
		return transferCase{}, fmt.Errorf("prepare %s: %w", label, err)
	}
	sum, err := sumTree(src.dir)
	if err != nil {
		return transferCase{}, err
	}
	return transferCase{label: fmt.Sprintf("%s (%s, %d files)", label, mb(sum.bytes), sum.files), src: src, sum: sum}, nil
}

// benchParts times each stage of our pipeline alone on tc, and the
// toolkit's compression and extraction commands alone, to show what limits
// the whole: archive.Write into io.Discard, archive.Extract from memory,
// upload of the compressed bytes from memory and download into io.Discard.
func benchParts(ctx context.Context, env *benchEnv, t *table, tc transferCase) error {
	group := "2 parts " + tc.label
	var compressed bytes.Buffer
	if _, err := archive.Write(ctx, &compressed, tc.src.dir, tc.src.ws, archive.WriteOptions{Skip: diskcache.Skip}); err != nil {
		return err
	}
	data := compressed.Bytes()
	n := tc.sum.bytes
	write := t.add(&row{group: group, name: "archive.Write → io.Discard", bytes: n})
	extract := t.add(&row{group: group, name: "archive.Extract ← memory", bytes: n})
	tarz := t.add(&row{group: group, name: "tar --posix | zstd -T0 > file", bytes: n})
	untar := t.add(&row{group: group, name: "tar -x --use-compress-program unzstd", bytes: n})
	kinds := serviceKinds(false)
	up := map[string]*row{}
	down := map[string]*row{}
	for _, k := range kinds {
		up[k.name] = t.add(&row{group: group, name: k.name + " upload ← memory (Save)", bytes: n, note: "MB/s of cache content; " + mb(int64(len(data))) + " sent"})
		down[k.name] = t.add(&row{group: group, name: k.name + " download → io.Discard", bytes: n})
	}
	sink := t.add(&row{group: group, name: "v1 upload ← memory to a discarding server", bytes: n, note: "the client and loopback alone"})
	sum := t.add(&row{group: group, name: "MD5 of the archive (v2 client: blocks up, ranges down)", bytes: n})
	dst, err := newLayout(filepath.Join(env.scratch, "restore"))
	if err != nil {
		return err
	}
	file := filepath.Join(env.scratch, "parts.tzst")
	defer os.Remove(file)
	for round := range env.runs {
		env.logf("%s: round %d/%d, load %s", group, round+1, env.runs, loadAvg())
		s, err := timeIt(func() error {
			_, err := archive.Write(ctx, io.Discard, tc.src.dir, tc.src.ws, archive.WriteOptions{Skip: diskcache.Skip})
			return err
		})
		if err != nil {
			return err
		}
		write.runs = append(write.runs, s)

		if err := os.RemoveAll(dst.dir); err != nil {
			return err
		}
		s, err = timeIt(func() error {
			_, err := archive.Extract(ctx, bytes.NewReader(data), dst.dir, dst.ws, archive.ExtractOptions{})
			return err
		})
		if err != nil {
			return err
		}
		extract.runs = append(extract.runs, s)
		if err := os.RemoveAll(dst.dir); err != nil {
			return err
		}

		s, err = timeIt(func() error {
			return shell(ctx, tc.src.ws, `tar --posix -cf - -P -C "$1" "$2" | zstd -T0 -q -c > "$3"`, tc.src.ws, cacheRel, file)
		})
		if err != nil {
			return err
		}
		tarz.runs = append(tarz.runs, s)
		s, err = timeIt(func() error {
			return shell(ctx, dst.ws, `tar -xf "$2" -P -C "$1" --use-compress-program unzstd`, dst.ws, file)
		})
		if err != nil {
			return err
		}
		untar.runs = append(untar.runs, s)
		if err := os.RemoveAll(dst.dir); err != nil {
			return err
		}
		settle()

		s, err = timeIt(func() error {
			vars, stop := sinkV1()
			defer stop()
			c, err := newClient(vars)
			if err != nil {
				return err
			}
			_, err = c.Save(ctx, fmt.Sprintf("sink-%d", round), version, bytes.NewReader(data))
			return err
		})
		if err != nil {
			return fmt.Errorf("upload to the sink: %w", err)
		}
		sink.runs = append(sink.runs, s)
		s, _ = timeIt(func() error {
			md5.Sum(data)
			return nil
		})
		sum.runs = append(sum.runs, s)

		for _, k := range kinds {
			if err := func() error {
				defer settle()
				svc, err := startService(env, k)
				if err != nil {
					return err
				}
				defer svc.close()
				key := fmt.Sprintf("parts-%d", round)
				s, err := timeIt(func() error {
					_, err := svc.client.Save(ctx, key, version, bytes.NewReader(data))
					return err
				})
				if err != nil {
					return fmt.Errorf("%s upload: %w", k.name, err)
				}
				up[k.name].runs = append(up[k.name].runs, s)
				e, err := lookup(ctx, svc, key)
				if err != nil {
					return err
				}
				s, err = timeIt(func() error {
					_, err := svc.client.Download(ctx, e, io.Discard)
					return err
				})
				if err != nil {
					return fmt.Errorf("%s download: %w", k.name, err)
				}
				down[k.name].runs = append(down[k.name].runs, s)
				return nil
			}(); err != nil {
				return err
			}
		}
	}
	return nil
}
