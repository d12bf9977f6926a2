// Command bench measures rustcache-action's performance and prints one table:
//
//  1. warm against cold jobs on a real Rust workspace, natively and through
//     the cross stand-in when it is available;
//  2. transport: saving and restoring the same cache directory through the
//     fake v1 and v2 cache services, next to the official client's method on
//     the same bytes;
//  3. overhead of the steps that do little work, as separate processes;
//  4. scaling of save and restore with the size of the cache;
//  5. the target part (cache-targets): warm jobs after an unchanged, a
//     workspace-crate and a lockfile change, against sccache alone and
//     Swatinem/rust-cache's method, natively and through the cross stand-in.
//
// Every case runs several times and the table gives medians. It exits
// non-zero only when something is broken (a step fails, a restore brings back
// different bytes, a warm job misses the cache entirely); a slow number is
// reported, never fatal. Run it from the repository:
//
//	go run ./bench            # everything (about an hour on 2 cores)
//	go run ./bench -short     # a tiny version of each, under two minutes
//	go run ./bench -only 2,4  # some benchmarks
//
// scripts/bench wraps it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
)

// benchEnv is what every benchmark shares.
type benchEnv struct {
	tb      *actiontest.Standalone
	bin     string // the compiled action program
	scratch string // a directory for everything the benchmarks make
	repo    string // the module root
	short   bool
	runs    int
	log     io.Writer

	scale      []int64 // benchmark 4's sizes in bytes, when given
	transport  []int64 // benchmark 2's synthetic sizes in bytes, when given
	smallFiles int     // benchmark 4's small-file count, when given
}

func (e *benchEnv) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: "+format+"\n", args...)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the flags, runs the chosen benchmarks and prints the table to
// stdout; progress goes to stderr. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "a tiny version of each benchmark (small sizes, a tiny crate), one run each")
	runs := fs.Int("runs", 0, "runs of every case (default 3, 1 with -short)")
	only := fs.String("only", "1,2,3,4,5", "benchmarks to run, comma-separated")
	crateName := fs.String("crate", "", "crate for benchmark 1: workload or tiny (default: workload, tiny with -short)")
	keep := fs.Bool("keep", false, "keep the scratch directory")
	scale := fs.String("scale", "", "sizes in MB for benchmark 4, comma-separated (default 50,200,1000; 2,8,32 with -short)")
	smallFiles := fs.Int("small-files", 0, "files of the many-small-files case of benchmark 4 (default 100000; 2000 with -short)")
	transport := fs.String("transport", "", "sizes in MB of benchmark 2's synthetic directories, comma-separated (default 500; 8 with -short)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	env := &benchEnv{short: *short, runs: *runs, log: stderr, smallFiles: *smallFiles}
	for _, l := range []struct {
		flag, value string
		sizes       *[]int64
	}{{"scale", *scale, &env.scale}, {"transport", *transport, &env.transport}} {
		for _, f := range strings.Split(l.value, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			mb, err := strconv.ParseFloat(f, 64)
			if err != nil || mb <= 0 {
				fmt.Fprintf(stderr, "bench: -%s: %q is not a size in MB\n", l.flag, f)
				return 2
			}
			*l.sizes = append(*l.sizes, int64(mb*1e6))
		}
	}
	if env.runs <= 0 {
		env.runs = 3
		if env.short {
			env.runs = 1
		}
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}

	repo, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	env.repo = repo
	scratch, err := os.MkdirTemp("", "rustcache-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	env.scratch = scratch
	env.tb = actiontest.NewStandalone(scratch)
	// The first cleanup runs last, on every path: env.tb.Fatal runs the
	// cleanups before it exits.
	env.tb.Cleanup(func() {
		if *keep {
			fmt.Fprintln(stderr, "bench: kept", scratch)
		} else {
			os.RemoveAll(scratch)
		}
	})
	defer env.tb.Close()
	if env.bin, err = buildBinary(repo, scratch); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}

	start, load0 := time.Now(), loadAvg()
	t := &table{}
	var failures []error
	fail := func(what string, err error) {
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", what, err))
			fmt.Fprintf(stderr, "bench: %s FAILED: %v\n", what, err)
		}
	}

	// skipped notes a benchmark whose tools are missing: a skip locally, a
	// failure under CI (as testkit.Missing does for tests).
	skipped := func(group string, tools ...string) bool {
		var missing []string
		for _, tool := range tools {
			if !hasTool(tool) {
				missing = append(missing, tool)
			}
		}
		if len(missing) == 0 {
			return false
		}
		why := strings.Join(missing, ", ") + " not found on PATH (bash scripts/install-deps)"
		if os.Getenv("CI") != "" {
			fail(group, errors.New(why))
		}
		t.add(&row{group: group, name: "skipped", note: why})
		return true
	}

	var real string // the cold job's sccache directory, for benchmarks 2 and 3
	if want["1"] && !skipped("1 warm/cold", "cargo", "sccache") {
		c, err := chooseCrate(*crateName, env.short)
		if err != nil {
			fail("benchmark 1", err)
		} else {
			res, err := benchJobs(ctx, env, t, c, builder{name: "native", program: "cargo"}, filepath.Join(scratch, "real-cache"))
			fail("benchmark 1 native", err)
			if res != nil {
				real = res.cacheDir
			}
			note, err := benchCross(ctx, env, t, c)
			fail("benchmark 1 cross", err)
			if note != "" {
				t.add(&row{group: "1 warm/cold cross", name: "skipped", note: note})
			}
		}
	}
	if want["2"] && !skipped("2 transport", "tar", "zstd", "unzstd", "bash") {
		fail("benchmark 2", benchTransport(ctx, env, t, real))
	}
	if want["3"] && !skipped("3 overhead", "sccache") {
		fail("benchmark 3", benchOverhead(ctx, env, t, real))
	}
	if want["4"] && !skipped("4 scaling", "sccache") {
		fail("benchmark 4", benchScaling(ctx, env, t))
	}
	if want["5"] && !skipped("5 target part", "cargo", "sccache") {
		c, err := chooseCrate(*crateName, env.short)
		if err != nil {
			fail("benchmark 5", err)
		} else {
			fail("benchmark 5 native", benchTargets(ctx, env, t, c, builder{name: "native", program: "cargo"}))
			cross, note, err := crossBuilder(ctx, env)
			fail("benchmark 5 cross", err)
			if note != "" {
				t.add(&row{group: "5 target part cross", name: "skipped", note: note})
			} else if cross != nil {
				fail("benchmark 5 cross", benchTargets(ctx, env, t, c, *cross))
			}
		}
	}

	fmt.Fprintf(stdout, "rustcache-action benchmarks (%s): %d run(s) per case, medians; %d CPUs, %s/%s\n",
		map[bool]string{true: "short", false: "full"}[env.short], env.runs, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "load average (1/5/15 min) at start: %s, at end: %s; took %s\n\n", load0, loadAvg(), time.Since(start).Round(time.Second))
	t.write(stdout)
	fmt.Fprintln(stdout, "\ncpu/wall: CPU seconds per wall second (2.00 = both cores busy) of the benchmark process and the children it waited for,")
	fmt.Fprintln(stdout, "in-process fake services included; a native job adds its sccache server's (read from /proc before save stops it);")
	fmt.Fprintln(stdout, "processes inside the cross sandbox are not seen.")
	fmt.Fprintln(stdout, "MB/s: bytes of cache content (not of the archive) per second. \"best\": the ratio of the fastest runs, which other load disturbs least.")
	if len(failures) > 0 {
		fmt.Fprintf(stdout, "\n%d benchmark(s) BROKEN:\n", len(failures))
		for _, err := range failures {
			fmt.Fprintln(stdout, " -", err)
		}
		return 1
	}
	return 0
}

// chooseCrate picks benchmark 1's workspace.
func chooseCrate(name string, short bool) (crate, error) {
	if name == "" {
		name = "workload"
		if short {
			name = "tiny"
		}
	}
	switch name {
	case "workload":
		return realCrate()
	case "tiny":
		return tinyCrate(), nil
	default:
		return crate{}, errors.New("-crate must be workload or tiny")
	}
}
