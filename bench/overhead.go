package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
)

// benchOverhead is benchmark 3: the steps that move no cache data, each as
// its own process of the compiled program with a runner-like environment:
// setup with the sccache release already in the tool cache, a restore that
// misses, and a save that finds nothing changed since the restore. The save
// follows a build in a real job, so the runner's sccache server is running
// when it starts; a second save row shows the same step with no server.
// cache is the cache directory the restore brings back (the real one from
// benchmark 1 when it ran).
func benchOverhead(ctx context.Context, env *benchEnv, t *table, cache string) error {
	const group = "3 overhead"
	r := actiontest.New(env.tb)
	st := &stepper{bin: env.bin, r: r}
	empty, seeded := fakecache.NewV1(env.tb), fakecache.NewV1(env.tb)
	ws := filepath.Join(r.Workspace, "app")
	in := map[string]string{"sccache-version": r.Version, "working-directory": ws}

	if cache == "" {
		cache = filepath.Join(env.scratch, "overhead-cache")
		if _, err := makeSccacheLike(cache, 16e6, 3); err != nil {
			return err
		}
	}
	info, err := sumTree(cache)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d files, %s", info.files, mb(info.bytes))

	// newJob empties RUNNER_TEMP (the root) and the workspace, keeps the
	// tool cache, and returns the job environment.
	newJob := func(svc *fakecache.V1) (map[string]string, error) {
		for _, d := range []string{r.Workspace, r.Temp} {
			if err := os.RemoveAll(d); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
		}
		r.With(svc.Env())
		return map[string]string{}, tinyCrate().prepare(ws)
	}
	step := func(name string, inputs, jobEnv map[string]string) (*stepOut, error) {
		o, err := st.run(ctx, name, inputs, jobEnv)
		if err != nil {
			return nil, err
		}
		return o, o.failed()
	}

	// Prime the tool cache and store one entry in the seeded service.
	r.Fresh()
	jobEnv, err := newJob(seeded)
	if err != nil {
		return err
	}
	if _, err := step("setup", in, jobEnv); err != nil {
		return err
	}
	if err := copyTree(cache, jobEnv["SCCACHE_DIR"]); err != nil {
		return err
	}
	r.Env["GITHUB_RUN_ID"] = "1"
	if o, err := step("save", map[string]string{"working-directory": ws}, jobEnv); err != nil {
		return err
	} else if o.outputs["saved"] != "true" {
		return fmt.Errorf("seeding save did not save: %v\n%s", o.outputs, o.stdout)
	}

	version := t.add(&row{group: group, name: "process start: rustcache-action version", goal: ""})
	setup := t.add(&row{group: group, name: "setup, sccache in the tool cache"})
	miss := t.add(&row{group: group, name: "restore, miss"})
	hit := t.add(&row{group: group, name: "restore, hit (" + what + ")", bytes: info.bytes})
	skip := t.add(&row{group: group, name: "save, unchanged since restore (server running)"})
	skipCold := t.add(&row{group: group, name: "save, unchanged since restore (no server)"})
	for round := range env.runs {
		env.logf("%s: round %d/%d, load %s", group, round+1, env.runs, loadAvg())
		r.Env["GITHUB_RUN_ID"] = fmt.Sprint(10 + round)

		s, err := timeIt(func() error { return exec.CommandContext(ctx, env.bin, "version").Run() })
		if err != nil {
			return err
		}
		version.runs = append(version.runs, s)

		// setup, then a restore that misses.
		jobEnv, err := newJob(empty)
		if err != nil {
			return err
		}
		downloads := r.Release.Downloads()
		o, err := step("setup", in, jobEnv)
		if err != nil {
			return err
		}
		setup.runs = append(setup.runs, o.took)
		if r.Release.Downloads() != downloads {
			return fmt.Errorf("setup downloaded sccache again although the tool cache held it:\n%s", o.stdout)
		}
		if o, err = step("restore", in, jobEnv); err != nil {
			return err
		}
		if o.outputs["cache-matched-key"] != "" {
			return fmt.Errorf("restore should miss: %v", o.outputs)
		}
		miss.runs = append(miss.runs, o.took)

		// setup, a restore that hits, and a save with nothing to do, with
		// and without the runner's server running.
		for _, running := range []bool{true, false} {
			jobEnv, err := newJob(seeded)
			if err != nil {
				return err
			}
			if _, err := step("setup", in, jobEnv); err != nil {
				return err
			}
			o, err := step("restore", in, jobEnv)
			if err != nil {
				return err
			}
			if o.outputs["cache-matched-key"] == "" {
				return fmt.Errorf("restore should hit: %v\n%s", o.outputs, o.stdout)
			}
			if running {
				hit.runs = append(hit.runs, o.took)
				if err := startServer(ctx, r, jobEnv); err != nil {
					return err
				}
			}
			o, err = step("save", map[string]string{"working-directory": ws}, jobEnv)
			if err != nil {
				return err
			}
			if o.outputs["saved"] != "false" || !strings.Contains(o.summary, "nothing changed") {
				return fmt.Errorf("save should skip the unchanged cache: %v\n%s", o.outputs, o.stdout)
			}
			if running {
				skip.runs = append(skip.runs, o.took)
			} else {
				skipCold.runs = append(skipCold.runs, o.took)
			}
		}
	}
	for _, rw := range []*row{setup, miss, skip} {
		w, _ := rw.median()
		rw.goal = goalText(w.Seconds(), "<=", 1)
	}
	version.note = "the floor of every step"
	w0, _ := skip.median()
	w1, _ := skipCold.median()
	skipCold.note = fmt.Sprintf("sccache --show-stats starts a server to answer (%+.0f ms)", (w1-w0).Seconds()*1000)
	return nil
}

// startServer starts the job's sccache server, as the build would have.
func startServer(ctx context.Context, r *actiontest.Runner, jobEnv map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jobEnv["RUSTC_WRAPPER"], "--start-server")
	cmd.Env = cargoEnv(r.Env, jobEnv)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sccache --start-server: %w\n%s", err, out)
	}
	return nil
}
