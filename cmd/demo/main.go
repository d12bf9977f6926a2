// Command demo runs the action's main job locally: a real Rust workspace
// (regex, serde_json, serde derive, clap derive, from Debian's crate registry)
// is built through the action's setup, restore and save steps twice — a cold
// job, then a warm job on a fresh runner — against a local fake release
// server and a local cache service, and the job summaries and times are
// printed.
//
//	go run ./cmd/demo            # native build
//	go run ./cmd/demo -cross     # inside the cross stand-in (needs bwrap)
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/workload"
)

func main() {
	keep := flag.Bool("keep", false, "keep the demo's directory")
	crossBuild := flag.Bool("cross", false, "build inside the cross stand-in (a bubblewrap sandbox laid out like a cross container)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "rustcache-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tb := actiontest.NewStandalone(dir)
	// The first cleanup runs last, on every path: tb.Fatal runs the
	// cleanups before it exits.
	tb.Cleanup(func() {
		if *keep {
			fmt.Println("kept", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	})
	defer tb.Close()

	svc := fakecache.NewV1(tb)
	r := actiontest.New(tb).With(svc.Env())
	fmt.Printf("fake GitHub releases at %s, cache service (v1) at %s\n\n", r.Release.ServerURL(), svc.URL)

	build := []string{"cargo", "build", "--release", "-q"}
	in0 := map[string]string{}
	if *crossBuild {
		bin := filepath.Join(dir, "cross")
		if out, err := exec.Command("go", "build", "-o", bin, "./test/crossbox/cmd/cross").CombinedOutput(); err != nil {
			tb.Fatalf("build the cross stand-in (run the demo from the repository root): %v\n%s", err, out)
		}
		build[0] = bin
		in0["cross"] = "true"
		fmt.Println("building inside the cross stand-in:", bin)
	}

	var times []time.Duration
	for i, name := range []string{"cold", "warm"} {
		r.Fresh()
		r.Env["GITHUB_RUN_ID"] = fmt.Sprint(100 + i)
		// The same workspace path in both jobs, as on hosted runners: the
		// paths of workspace crates are part of sccache's hash.
		tmp, err := workload.Prepare(r.Workspace)
		if err != nil {
			tb.Fatal(err)
		}
		ws := filepath.Join(r.Workspace, "app")
		if err := os.Rename(tmp, ws); err != nil {
			tb.Fatal(err)
		}
		in := map[string]string{"sccache-version": r.Version, "working-directory": ws}
		for k, v := range in0 {
			in[k] = v
		}
		jobEnv := map[string]string{}
		fmt.Printf("=== %s job ===\n", name)
		start := time.Now()
		for _, step := range []string{"setup", "restore"} {
			s := r.Run(step, in, jobEnv)
			fmt.Print(s.Stdout)
			if s.Code != 0 {
				tb.Fatalf("%s failed", step)
			}
		}
		b0 := time.Now()
		if out, err := r.Command(ws, jobEnv, build[0], build[1:]...); err != nil {
			tb.Fatalf("%s: %v\n%s", strings.Join(build, " "), err, out)
		}
		buildTime := time.Since(b0)
		s := r.Run("save", map[string]string{"working-directory": ws}, jobEnv)
		if s.Code != 0 {
			tb.Fatalf("save failed:\n%s", s.Stdout)
		}
		total := time.Since(start)
		times = append(times, total)
		fmt.Print(s.Summary)
		fmt.Printf("%s job: build %.1fs, whole job (setup+restore+build+save) %.1fs\n\n", name, buildTime.Seconds(), total.Seconds())
	}
	fmt.Printf("warm/cold job time: %.2f\n", times[1].Seconds()/times[0].Seconds())
}
