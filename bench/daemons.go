package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of the times in /proc/<pid>/stat (100 on
// every Linux configuration in use).
const clockTick = 10 * time.Millisecond

// serverCPU returns the CPU time used so far by the sccache server processes
// whose environment names dir as SCCACHE_DIR, with the compilers they have
// waited for: the build's work that a job's own rusage misses, because the
// server is a daemon the build's processes do not wait for. It returns 0 off
// Linux or when no such process is found.
func serverCPU(dir string) time.Duration {
	if dir == "" {
		return 0
	}
	want := []byte("SCCACHE_DIR=" + dir + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "sccache") {
			continue
		}
		env, err := os.ReadFile(filepath.Join(p, "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		total += procCPU(filepath.Join(p, "stat"))
	}
	return total
}

// procCPU reads utime, stime, cutime and cstime from a /proc/<pid>/stat file.
func procCPU(stat string) time.Duration {
	b, err := os.ReadFile(stat)
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: split after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}
