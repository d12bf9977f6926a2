package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/workload"
)

// Methods of benchmark 5.
const (
	mSccache   = "sccache only (cache-targets: false)"
	mRustCache = "rust-cache's method (target part through the same transport)"
	mOurs      = "this action (cache-targets: true)"
)

// scenario is a change between the job that saved and the warm job.
type scenario struct {
	name string
	edit func(ws string) error // nil: unchanged
}

// compilingRe counts what cargo compiled.
var compilingRe = regexp.MustCompile(`(?m)^\s+Compiling `)

// benchTargets is benchmark 5: warm jobs of each method after a cold job
// that saved, in three scenarios run one after the other on the same
// service (as consecutive commits would): (1) unchanged, (2) one workspace
// crate changed, (3) a dependency added (a new Cargo.lock, restored by
// prefix). Every time is a whole job from a fresh checkout at the same path
// and an emptied root: setup, restore, build, save.
func benchTargets(ctx context.Context, env *benchEnv, t *table, c crate, b builder) error {
	group := "5 target part " + b.name
	r := actiontest.New(env.tb)
	st := &stepper{bin: env.bin, r: r}
	ws := filepath.Join(r.Workspace, "app")
	scenarios := []scenario{
		{name: "(1) unchanged"},
		{name: "(2) one workspace crate changed", edit: c.changeMember},
		{name: "(3) dependency added, prefix restore", edit: c.addDependency},
	}
	methods := []string{mSccache, mRustCache, mOurs}
	cold := t.add(&row{group: group, name: "cold cargo build --release, no cache (" + c.name + ")", note: "plain cargo"})
	rows := map[string]map[string]*row{}
	entry := map[string]*row{}
	for _, s := range scenarios {
		rows[s.name] = map[string]*row{}
		for _, m := range methods {
			rows[s.name][m] = t.add(&row{group: group, name: s.name + ": " + m})
		}
	}
	for _, m := range methods {
		entry[m] = t.add(&row{group: group, name: "entry and save of the cold job: " + m})
	}
	notes := map[*row][]string{}

	for round := range env.runs {
		env.logf("benchmark 5 (%s, %s): round %d/%d, load %s", b.name, c.name, round+1, env.runs, loadAvg())
		r.Fresh()
		if err := c.prepare(ws); err != nil {
			return err
		}
		s, _, err := buildOutput(ctx, b, ws, withPath(cargoEnv(r.Env, nil), b.path))
		if err != nil {
			return fmt.Errorf("cold build: %w", err)
		}
		cold.runs = append(cold.runs, s)
		env.logf("  cold %s", seconds(s.wall))

		for _, m := range methods {
			svc := fakecache.NewV1(env.tb)
			r.With(svc.Env())
			run := 1000 * (round + 1)
			j := &targetJob{env: env, st: st, r: r, b: b, c: c, ws: ws, method: m}
			seed, err := j.run(ctx, run, nil)
			if err != nil {
				return fmt.Errorf("%s, cold job: %w", m, err)
			}
			if !seed.saved {
				return fmt.Errorf("%s: the cold job saved nothing\n%s", m, seed.summary)
			}
			entry[m].runs = append(entry[m].runs, sample{wall: seed.parts["save"]})
			var size int64
			for _, e := range svc.Entries() {
				size = max(size, e.Size)
			}
			notes[entry[m]] = append(notes[entry[m]], fmt.Sprintf("entry %s", mb(size)))
			for i, sc := range scenarios {
				out, err := j.run(ctx, run+1+i, sc.edit)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", m, sc.name, err)
				}
				if c.name == "workload" && m == mOurs && sc.edit == nil && out.compiled > len(workload.Members)+1 {
					return fmt.Errorf("%s, %s: cargo compiled %d packages, more than the workspace's: the target part did not make the dependencies fresh\n%s", m, sc.name, out.compiled, out.summary)
				}
				rw := rows[sc.name][m]
				rw.runs = append(rw.runs, out.total)
				notes[rw] = append(notes[rw], fmt.Sprintf("restore %s build %s save %s, %d compiled", seconds(out.parts["restore"]), seconds(out.parts["build"]), seconds(out.parts["save"]), out.compiled))
				env.logf("  %s %s: %s (restore %s build %s save %s, %d compiled)", m, sc.name, seconds(out.total.wall),
					seconds(out.parts["restore"]), seconds(out.parts["build"]), seconds(out.parts["save"]), out.compiled)
			}
		}
	}
	for _, rw := range t.rows {
		if n := notes[rw]; len(n) > 0 {
			rw.note = n[len(n)/2]
		}
	}
	for _, m := range methods {
		entry[m].note = notes[entry[m]][0] + "; the time is the save step"
	}
	for i, sc := range scenarios {
		for _, m := range methods {
			rw := rows[sc.name][m]
			rw.ratio = fmt.Sprintf("/cold %.2f", ratioOf(rw, cold))
		}
		ours, rc, sccache := rows[sc.name][mOurs], rows[sc.name][mRustCache], rows[sc.name][mSccache]
		if i < 2 {
			q := ratioOf(ours, rc)
			ours.ratio += fmt.Sprintf(", /rust-cache %.2f", q)
			ours.goal = "/rust-cache " + goalText(q, "<=", 0.8)
		} else {
			q := max(ratioOf(ours, rc), ratioOf(ours, sccache))
			ours.ratio += fmt.Sprintf(", /best other %.2f", q)
			ours.goal = "/both " + goalText(q, "<=", 1)
		}
	}
	return nil
}

// targetJob runs the jobs of one method.
type targetJob struct {
	env    *benchEnv
	st     *stepper
	r      *actiontest.Runner
	b      builder
	c      crate
	ws     string
	method string
}

// jobOut is one job's times.
type jobOut struct {
	total    sample
	parts    map[string]time.Duration
	compiled int
	saved    bool
	summary  string
}

// run runs one job on a fresh runner: the workspace from scratch (edited
// when edit is set, its Cargo.lock brought up to date), then the method's
// restore, the build and its save.
func (j *targetJob) run(ctx context.Context, runID int, edit func(string) error) (*jobOut, error) {
	r := j.r
	r.Fresh()
	r.Env["GITHUB_RUN_ID"] = strconv.Itoa(runID)
	if err := j.c.prepare(j.ws); err != nil {
		return nil, err
	}
	if edit != nil {
		if err := edit(j.ws); err != nil {
			return nil, err
		}
		if _, _, err := runOutput(ctx, "cargo", j.ws, cargoEnv(r.Env, nil), "metadata", "--format-version=1", "-q"); err != nil {
			return nil, fmt.Errorf("update Cargo.lock: %w", err)
		}
	}
	out := &jobOut{parts: map[string]time.Duration{}}
	var err error
	if j.method == mRustCache {
		out.total, err = timeIt(func() error { return j.rustCache(ctx, runID, out) })
	} else {
		out.total, err = timeIt(func() error { return j.action(ctx, out) })
	}
	return out, err
}

// action runs setup, restore, the build and save through the action.
func (j *targetJob) action(ctx context.Context, out *jobOut) error {
	jobEnv := map[string]string{}
	targets := strconv.FormatBool(j.method == mOurs)
	in := map[string]string{"sccache-version": j.r.Version, "working-directory": j.ws, "cache-targets": targets}
	for k, v := range j.b.setupInputs {
		in[k] = v
	}
	for _, name := range []string{"setup", "restore"} {
		o, err := j.st.run(ctx, name, in, jobEnv)
		if err != nil {
			return err
		}
		if err := o.failed(); err != nil {
			return err
		}
		out.parts[name] = o.took.wall
	}
	s, n, err := buildOutput(ctx, j.b, j.ws, withPath(cargoEnv(j.r.Env, jobEnv), j.b.path))
	if err != nil {
		return err
	}
	out.parts["build"], out.compiled = s.wall, n
	o, err := j.st.run(ctx, "save", map[string]string{"working-directory": j.ws, "cache-targets": targets}, jobEnv)
	if err != nil {
		return err
	}
	out.parts["save"] = o.took.wall
	out.saved = o.outputs["saved"] == "true"
	out.summary = o.summary
	return o.failed()
}

// rustCache emulates Swatinem/rust-cache v2.9.2 around a plain build: the
// key is the lockfile's hash plus the run, restored by that prefix and then
// by any lockfile; after the build the target directory is cleaned as its
// save step cleans it and uploaded whole. (Its cargo home part — registry
// index, .crate files, git databases — is empty for this workload, which
// builds from a local directory source; the action carries none either.)
func (j *targetJob) rustCache(ctx context.Context, runID int, out *jobOut) error {
	client, err := newClient(j.r.Env)
	if err != nil {
		return err
	}
	lock, err := os.ReadFile(filepath.Join(j.ws, "Cargo.lock"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	sum := sha256.Sum256(lock)
	prefix := "v0-rust-" + hex.EncodeToString(sum[:4]) + "-"
	key := prefix + strconv.Itoa(runID)
	target := filepath.Join(j.ws, "target")
	t0 := time.Now()
	if _, err := restoreDir(ctx, client, key, []string{prefix, "v0-rust-"}, rustCacheVersion, target, j.ws); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	out.parts["restore"] = time.Since(t0)
	env := withPath(cargoEnv(j.r.Env, nil), j.b.path)
	s, n, err := buildOutput(ctx, j.b, j.ws, env)
	if err != nil {
		return err
	}
	out.parts["build"], out.compiled = s.wall, n
	t0 = time.Now()
	pkgs, deps, err := rustCachePackages(ctx, j.ws, cargoEnv(j.r.Env, nil))
	if err != nil {
		return err
	}
	if err := rustCacheClean(target, pkgs, deps); err != nil {
		return fmt.Errorf("clean: %w", err)
	}
	if _, err := saveDir(ctx, client, key, rustCacheVersion, target, j.ws); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	out.parts["save"] = time.Since(t0)
	out.saved = true
	return nil
}

// buildOutput runs the release build and counts the packages compiled.
func buildOutput(ctx context.Context, b builder, ws string, env []string) (sample, int, error) {
	s, text, err := runOutput(ctx, b.program, ws, env, "build", "--release")
	return s, len(compilingRe.FindAllString(text, -1)), err
}

// runOutput runs a command in dir, times it and returns its output.
func runOutput(ctx context.Context, program, dir string, env []string, args ...string) (sample, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, program, args...)
	c.Dir, c.Env = dir, append(env, "CARGO_TERM_COLOR=never")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	s, err := timeIt(c.Run)
	if err != nil {
		return s, out.String(), fmt.Errorf("%s %s in %q: %w\n%s", program, strings.Join(args, " "), dir, err, out.String())
	}
	return s, out.String(), nil
}
