package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/workload"
)

// crate is the Rust workspace benchmarks 1 and 5 build.
type crate struct {
	name string
	// prepare writes the workspace at dir, which does not exist.
	prepare func(dir string) error
	// changeMember changes one source line of a workspace crate.
	changeMember func(dir string) error
	// addDependency adds a dependency, so Cargo.lock changes.
	addDependency func(dir string) error
}

// appendTo appends text to the file at dir/name.
func appendTo(dir, name, text string) error {
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(name)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceIn replaces the first old with new in the file at dir/name.
func replaceIn(dir, name, old, new string) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return fmt.Errorf("%s holds no %q", p, old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// realCrate is the project's realistic workload (regex, serde_json, serde
// derive, clap derive from Debian's registry).
func realCrate() (crate, error) {
	src, err := workload.SourceDir()
	if err != nil {
		return crate{}, err
	}
	if err := workload.CheckRegistry(workload.DebianRegistry, filepath.Join(src, "Cargo.lock")); err != nil {
		return crate{}, err
	}
	return crate{name: "workload", prepare: func(dir string) error {
		tmp, err := workload.Prepare(filepath.Dir(dir))
		if err != nil {
			return err
		}
		return os.Rename(tmp, dir)
	}, changeMember: func(dir string) error {
		return appendTo(dir, "crates/tally/src/lib.rs", "\npub const CHANGED: u32 = 1;\n")
	}, addDependency: workload.AddDependency}, nil
}

// tinyCrate is a two-crate workspace without dependencies, for --short.
func tinyCrate() crate {
	files := map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\", \"lib\"]\nresolver = \"2\"\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nlib = { path = \"../lib\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", lib::answer()); }\n",
		"lib/Cargo.toml":  "[package]\nname = \"lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"lib/src/lib.rs":  "pub fn answer() -> u32 { 42 }\n",
	}
	return crate{name: "tiny crate", changeMember: func(dir string) error {
		return appendTo(dir, "lib/src/lib.rs", "\npub const CHANGED: u32 = 1;\n")
	}, addDependency: func(dir string) error {
		// No registry: a new path dependency changes Cargo.lock too.
		if err := os.MkdirAll(filepath.Join(dir, "extra", "src"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "extra", "Cargo.toml"), []byte("[package]\nname = \"extra\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "extra", "src", "lib.rs"), []byte("pub fn one() -> u32 { 1 }\n"), 0o644); err != nil {
			return err
		}
		return replaceIn(dir, "app/Cargo.toml", "[dependencies]\n", "[dependencies]\nextra = { path = \"../extra\" }\n")
	}, prepare: func(dir string) error {
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				return err
			}
		}
		return nil
	}}
}

// builder says how a job builds: natively with cargo, or through the cross
// stand-in.
type builder struct {
	name    string // "native" or "cross"
	program string // cargo or the cross binary
	// setupInputs are added to setup's inputs.
	setupInputs map[string]string
	// path is prepended to PATH for the build (the cross binary's directory).
	path string
}

// jobsResult is what benchmark 1 leaves for the others: a copy of the real
// sccache directory of the first cold job.
type jobsResult struct {
	cacheDir string
}

// benchJobs measures benchmark 1 for one builder: (a) a cold release build
// without sccache, (b) a cold job through the action, (c) a warm job on an
// emptied root, interleaved round by round so that load changes hit all
// three alike. The workspace is always at the same path: sccache hashes the
// paths of workspace crates.
func benchJobs(ctx context.Context, env *benchEnv, t *table, c crate, b builder, stash string) (*jobsResult, error) {
	group := "1 warm/cold " + b.name
	r := actiontest.New(env.tb)
	st := &stepper{bin: env.bin, r: r}
	ws := filepath.Join(r.Workspace, "app")
	rowA := t.add(&row{group: group, name: "(a) cold cargo build --release, no sccache (" + c.name + ")"})
	rowB := t.add(&row{group: group, name: "(b) cold job: setup+restore miss+build+save"})
	rowC := t.add(&row{group: group, name: "(c) warm job, emptied root: setup+restore hit+build+save"})
	res := &jobsResult{}
	var stepsB, stepsC []map[string]time.Duration
	var hitNote string
	for round := range env.runs {
		env.logf("benchmark 1 (%s, %s): round %d/%d, load %s", b.name, c.name, round+1, env.runs, loadAvg())

		// (a) no sccache at all.
		r.Fresh()
		if err := c.prepare(ws); err != nil {
			return nil, err
		}
		s, err := runCargo(ctx, b.program, ws, withPath(cargoEnv(r.Env, nil), b.path), "build", "--release", "-q")
		if err != nil {
			return nil, fmt.Errorf("(a): %w", err)
		}
		rowA.runs = append(rowA.runs, s)
		env.logf("  (a) %s (cpu %s), load %s", seconds(s.wall), seconds(s.cpu), loadAvg())

		// (b) and (c) share a fresh cache service.
		svc := fakecache.NewV1(env.tb)
		r.With(svc.Env())
		job := func(runID int) (sample, map[string]time.Duration, *stepOut, *stepOut, error) {
			r.Fresh()
			r.Env["GITHUB_RUN_ID"] = strconv.Itoa(runID)
			if err := c.prepare(ws); err != nil {
				return sample{}, nil, nil, nil, err
			}
			jobEnv := map[string]string{}
			in := map[string]string{"sccache-version": r.Version, "working-directory": ws}
			for k, v := range b.setupInputs {
				in[k] = v
			}
			parts := map[string]time.Duration{}
			var restore, save *stepOut
			var daemons time.Duration
			total, err := timeIt(func() error {
				for _, name := range []string{"setup", "restore"} {
					o, err := st.run(ctx, name, in, jobEnv)
					if err != nil {
						return err
					}
					if err := o.failed(); err != nil {
						return err
					}
					parts[name] = o.took.wall
					restore = o
				}
				s, err := runCargo(ctx, b.program, ws, withPath(cargoEnv(r.Env, jobEnv), b.path), "build", "--release", "-q")
				if err != nil {
					return err
				}
				parts["build"] = s.wall
				// The compiles ran in the sccache server, a daemon: count
				// its CPU before save stops it.
				daemons = serverCPU(jobEnv["SCCACHE_DIR"])
				save, err = st.run(ctx, "save", map[string]string{"working-directory": ws}, jobEnv)
				if err != nil {
					return err
				}
				parts["save"] = save.took.wall
				return save.failed()
			})
			total.cpu += daemons
			return total, parts, restore, save, err
		}

		sb, parts, restore, save, err := job(1000 + 2*round)
		if err != nil {
			return nil, fmt.Errorf("(b): %w", err)
		}
		if restore.outputs["cache-matched-key"] != "" || save.outputs["saved"] != "true" {
			return nil, fmt.Errorf("(b): the cold job should miss and save: restore %v, save %v\n%s", restore.outputs, save.outputs, save.stdout)
		}
		rowB.runs = append(rowB.runs, sb)
		env.logf("  (b) %s (cpu %s): %s, load %s", seconds(sb.wall), seconds(sb.cpu), stepNote([]map[string]time.Duration{parts}), loadAvg())
		stepsB = append(stepsB, parts)
		if round == 0 && stash != "" {
			if err := copyTree(filepath.Join(r.Temp, "rustcache", "cache"), stash); err != nil {
				return nil, fmt.Errorf("keep the cold job's cache: %w", err)
			}
			res.cacheDir = stash
		}

		sc, parts, restore, save, err := job(1001 + 2*round)
		if err != nil {
			return nil, fmt.Errorf("(c): %w", err)
		}
		if restore.outputs["cache-matched-key"] == "" {
			return nil, fmt.Errorf("(c): the warm job did not restore: %v\n%s", restore.outputs, restore.stdout)
		}
		if save.outputs["hits"] == "0" || save.outputs["hits"] == "" {
			return nil, fmt.Errorf("(c): the warm job had no cache hits: %v\n%s", save.outputs, save.summary)
		}
		hitNote = fmt.Sprintf("hits %s misses %s", save.outputs["hits"], save.outputs["misses"])
		rowC.runs = append(rowC.runs, sc)
		env.logf("  (c) %s (cpu %s): %s, load %s", seconds(sc.wall), seconds(sc.cpu), stepNote([]map[string]time.Duration{parts}), loadAvg())
		stepsC = append(stepsC, parts)
	}
	rowA.note = "plain cargo"
	rowB.note = stepNote(stepsB)
	rowC.note = stepNote(stepsC) + "; " + hitNote
	ba, ca := ratioOf(rowB, rowA), ratioOf(rowC, rowA)
	rowB.ratio = fmt.Sprintf("b/a %.2f (best %.2f%s)", ba, bestRatio(rowB, rowA), cpuRatio(rowB, rowA, b))
	rowC.ratio = fmt.Sprintf("c/a %.2f (best %.2f%s)", ca, bestRatio(rowC, rowA), cpuRatio(rowC, rowA, b))
	if c.name == "workload" {
		rowC.goal = goalText(ca, "<=", 0.30)
	} else {
		rowC.goal = "(workload only)"
	}
	return res, nil
}

// bestRatio is the ratio of the fastest runs: other work on a shared
// machine only ever slows a run down, so the minimum is the least disturbed.
func bestRatio(a, b *row) float64 {
	la, _ := a.spread()
	lb, _ := b.spread()
	if lb <= 0 {
		return 0
	}
	return la.Seconds() / lb.Seconds()
}

// cpuRatio compares the median CPU times, which other load disturbs far
// less than wall times; only natively, where every compile's CPU is seen
// (the sandbox's processes are not).
func cpuRatio(a, b *row, bd builder) string {
	if bd.name != "native" {
		return ""
	}
	_, ca := a.median()
	_, cb := b.median()
	if ca <= 0 || cb <= 0 {
		return ""
	}
	return fmt.Sprintf(", cpu %.2f", ca.Seconds()/cb.Seconds())
}

// stepNote gives the median time of each part of a job.
func stepNote(runs []map[string]time.Duration) string {
	out := ""
	for _, name := range []string{"setup", "restore", "build", "save"} {
		var d []time.Duration
		for _, m := range runs {
			d = append(d, m[name])
		}
		if len(d) == 0 {
			continue
		}
		if out != "" {
			out += " "
		}
		out += name + " " + seconds(medianOf(d))
	}
	return out
}

// withPath prepends dir to PATH in env (a list of k=v), when dir is set.
func withPath(env []string, dir string) []string {
	if dir == "" {
		return env
	}
	for i, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			env[i] = "PATH=" + dir + string(os.PathListSeparator) + kv[5:]
			return env
		}
	}
	return append(env, "PATH="+dir)
}
