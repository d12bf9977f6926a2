package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// cpuClock reads the CPU time (user+system) used so far by this process and
// by the children it has waited for.
func cpuClock() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// sample is one timed run: its wall time and the CPU time it cost this
// process and its children (the in-process fake services included).
type sample struct {
	wall, cpu time.Duration
}

// timeIt runs f and measures it.
func timeIt(f func() error) (sample, error) {
	c0, t0 := cpuClock(), time.Now()
	err := f()
	return sample{wall: time.Since(t0), cpu: cpuClock() - c0}, err
}

// loadAvg returns the 1, 5 and 15 minute load averages as /proc/loadavg
// prints them, or "?" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// settle returns memory a finished case held to the operating system and
// gives the writeback of files a moment, so one case disturbs the next less.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %q: run from the repository", wd)
		}
	}
}

// buildBinary compiles the action's program from the module root into dir
// and returns its path. -trimpath matches the release build.
func buildBinary(root, dir string) (string, error) {
	out := filepath.Join(dir, "rustcache-action")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, b)
	}
	return out, nil
}

// hasTool reports whether name is on PATH.
func hasTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
