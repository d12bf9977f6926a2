package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
)

// scaleCase is one size of benchmark 4.
type scaleCase struct {
	name  string
	fill  func(dir string) (treeInfo, error)
	kinds []serviceKind // the services our pipeline is measured on
}

// benchScaling is benchmark 4: save and restore of synthetic caches of
// growing size, and of many small files, through our pipeline on v1 and v2
// and through the real save and restore steps on v1; then the rate at each
// size, to see whether time grows linearly with the bytes.
func benchScaling(ctx context.Context, env *benchEnv, t *table) error {
	sizes := []int64{50e6, 200e6, 1e9}
	smallFiles := 100_000
	if env.short {
		sizes = []int64{2e6, 8e6, 32e6}
		smallFiles = 2_000
	}
	if len(env.scale) > 0 {
		sizes = env.scale
	}
	if env.smallFiles > 0 {
		smallFiles = env.smallFiles
	}
	kinds := serviceKinds(false)
	var cases []scaleCase
	for i, n := range sizes {
		cases = append(cases, scaleCase{name: "synthetic", kinds: kinds, fill: func(dir string) (treeInfo, error) {
			return makeSccacheLike(dir, n, uint64(100+i))
		}})
	}
	// Per-file costs do not depend on the protocol: v1 only.
	cases = append(cases, scaleCase{name: "small files 0.5–2 KB", kinds: kinds[:1], fill: func(dir string) (treeInfo, error) {
		return makeSmallFiles(dir, smallFiles, 512, 2048, 7)
	}})
	type point struct {
		label         string
		files         int
		bytes         int64
		save, restore map[string]*row // by "v1", "v2+MemBlobs", "v1 steps"
	}
	var points []point
	for _, sc := range cases {
		tc, err := prepareCase(env, "scale", sc.name, sc.fill)
		if err != nil {
			return err
		}
		group := "4 scaling " + tc.label
		p := point{label: tc.label, files: tc.sum.files, bytes: tc.sum.bytes, save: map[string]*row{}, restore: map[string]*row{}}
		res, err := measureTransfer(ctx, env, t, group, tc, sc.kinds, []method{ours()}, nil)
		for k, byMethod := range res {
			if r := byMethod["rustcache-action"]; r != nil {
				p.save[k], p.restore[k] = r.save, r.restore
			}
		}
		if err != nil {
			return err
		}
		sr, rr, err := measureSteps(ctx, env, t, group, tc)
		if err != nil {
			return err
		}
		p.save["v1 steps"], p.restore["v1 steps"] = sr, rr
		points = append(points, p)
		if err := os.RemoveAll(tc.src.root); err != nil {
			return err
		}
		settle()
	}

	// The curve: time and rate per size for each path, and a straight line
	// through the synthetic sizes (time = fixed + bytes/rate).
	for _, path := range []string{"v1", "v2+MemBlobs", "v1 steps"} {
		for _, op := range []string{"save", "restore"} {
			var parts []string
			var xs, ys []float64
			for i, p := range points {
				r := p.save[path]
				if op == "restore" {
					r = p.restore[path]
				}
				if r == nil || len(r.runs) == 0 {
					continue
				}
				w, _ := r.median()
				part := fmt.Sprintf("%s: %s, %.0f MB/s", mb(p.bytes), seconds(w), r.mbps())
				if p.files >= 10_000 {
					part = fmt.Sprintf("%d files: %s, %.0f files/s", p.files, seconds(w), float64(p.files)/w.Seconds())
				}
				parts = append(parts, part)
				if i < len(sizes) { // the synthetic sizes, not the small files
					xs, ys = append(xs, float64(p.bytes)), append(ys, w.Seconds())
				}
			}
			t.add(&row{group: "4 scaling curve", name: path + " " + op, ratio: linearity(xs, ys), note: strings.Join(parts, "; ")})
		}
	}
	return nil
}

// linearity fits seconds = a + bytes/rate through the points by least
// squares and calls the curve linear when no point is further from the line
// than 15% of the largest time (short times are the noisiest on a shared
// machine, so their deviation is not judged against themselves) and the
// fixed part is not clearly negative.
func linearity(bytes, secs []float64) string {
	a, b, ok := fitLine(bytes, secs)
	if !ok {
		return "too few sizes"
	}
	worst, top := 0.0, 0.0
	for i := range bytes {
		worst = max(worst, math.Abs(a+b*bytes[i]-secs[i]))
		top = max(top, secs[i])
	}
	if top > 0 {
		worst /= top
	}
	verdict := "linear"
	switch {
	case worst > 0.15 || b <= 0:
		verdict = "NOT linear"
	case a < -0.05*top:
		// A line through the origin's far side: time grows faster than
		// the bytes.
		verdict = "NOT linear (superlinear)"
	}
	rate := "∞"
	if b > 0 {
		rate = fmt.Sprintf("%.0f MB/s", 1/b/1e6)
	}
	return fmt.Sprintf("%s: %.2fs + bytes at %s (off by ≤ %.0f%% of the longest)", verdict, a, rate, 100*worst)
}

// fitLine is the least-squares line y = a + b·x; ok is false for fewer than
// two distinct x.
func fitLine(x, y []float64) (a, b float64, ok bool) {
	n := float64(len(x))
	if len(x) < 2 {
		return 0, 0, false
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, 0, false
	}
	b = (n*sxy - sx*sy) / d
	a = (sy - b*sx) / n
	return a, b, true
}

// cacheSizeFor returns a cache-size input under which restore accepts an
// entry of files files (and its directories), or "" when the default does.
func cacheSizeFor(files int) string {
	entries := int64(files) + 300 // and up to 273 directories
	if entries <= 32768 {         // the default 2G allows 2G / 64 KiB entries
		return ""
	}
	return fmt.Sprintf("%dG", (entries*64<<10)>>30+1)
}

// measureSteps times the real save and restore steps (the compiled program)
// on tc's directory against a fresh v1 service per round: setup (untimed),
// the directory moved in as SCCACHE_DIR, save, the directory moved back out,
// restore into the empty root. These include what the pipeline rows do not:
// process start, the cache snapshot and trim before the upload, and the
// snapshot after the restore.
func measureSteps(ctx context.Context, env *benchEnv, t *table, group string, tc transferCase) (*row, *row, error) {
	tb := actiontest.NewStandalone(env.scratch)
	defer tb.Close()
	r := actiontest.New(tb)
	st := &stepper{bin: env.bin, r: r}
	ws := filepath.Join(r.Workspace, "app")
	in := map[string]string{"sccache-version": r.Version, "working-directory": ws}
	save := t.add(&row{group: group, name: "v1 save step (real program)", bytes: tc.sum.bytes})
	if size := cacheSizeFor(tc.sum.files); size != "" {
		// restore refuses an entry with more files than cache-size / 64 KiB
		// (and 16384): a cache of tiny files needs a larger cache-size.
		in["cache-size"] = size
		save.note = "cache-size " + size + " (restore allows cache-size/64 KiB files)"
	}
	restore := t.add(&row{group: group, name: "v1 restore step (real program)", bytes: tc.sum.bytes})
	for round := range env.runs {
		env.logf("%s: steps, round %d/%d, load %s", group, round+1, env.runs, loadAvg())
		if err := func() error {
			defer settle()
			stb := actiontest.NewStandalone(env.scratch)
			defer stb.Close()
			svc := fakecache.NewV1(stb)
			r.Fresh().With(svc.Env())
			r.Env["GITHUB_RUN_ID"] = fmt.Sprint(500 + round)
			if err := tinyCrate().prepare(ws); err != nil {
				return err
			}
			jobEnv := map[string]string{}
			o, err := st.run(ctx, "setup", in, jobEnv)
			if err != nil {
				return err
			}
			if err := o.failed(); err != nil {
				return err
			}
			dir := jobEnv["SCCACHE_DIR"]
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if err := os.Rename(tc.src.dir, dir); err != nil {
				return err
			}
			o, err = st.run(ctx, "save", map[string]string{"working-directory": ws}, jobEnv)
			if rerr := os.Rename(dir, tc.src.dir); rerr != nil && err == nil {
				err = rerr
			}
			if err != nil {
				return err
			}
			if err := o.failed(); err != nil {
				return err
			}
			if o.outputs["saved"] != "true" {
				return fmt.Errorf("save did not save: %v\n%s", o.outputs, o.stdout)
			}
			save.runs = append(save.runs, o.took)
			o, err = st.run(ctx, "restore", in, jobEnv)
			if err != nil {
				return err
			}
			if err := o.failed(); err != nil {
				return err
			}
			if o.outputs["cache-matched-key"] == "" {
				return fmt.Errorf("restore missed: %v\n%s", o.outputs, o.stdout)
			}
			restore.runs = append(restore.runs, o.took)
			if round == 0 {
				if err := sameTree(tc.sum, dir); err != nil {
					return fmt.Errorf("restored by the step: %w", err)
				}
			}
			return os.RemoveAll(dir)
		}(); err != nil {
			return save, restore, fmt.Errorf("%s steps: %w", group, err)
		}
	}
	return save, restore, nil
}
