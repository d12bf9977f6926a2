package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProcCPU(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
	}{
		// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
		// majflt cmajflt utime stime cutime cstime ...
		{"plain", "4242 (sccache) S 1 4242 4242 0 -1 4194560 10 20 0 0 150 50 700 100 20 0 3 0\n", 1000 * clockTick},
		{"spaces in the name", "7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0\n", 10 * clockTick},
		{"truncated", "7 (x) R 1 7", 0},
		{"garbage", "no parenthesis", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "stat")
			if err := os.WriteFile(p, []byte(tc.stat), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := procCPU(p); got != tc.want {
				t.Errorf("procCPU = %v, want %v", got, tc.want)
			}
		})
	}
	if got := procCPU(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("procCPU(missing) = %v", got)
	}
	if got := serverCPU(""); got != 0 {
		t.Errorf("serverCPU(\"\") = %v", got)
	}
}
