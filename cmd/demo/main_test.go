package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestMain lets a test run the demo's main in a child process of the test
// binary.
func TestMain(m *testing.M) {
	if os.Getenv("RUSTCACHE_DEMO_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFailureRemovesDirectory runs the demo with a PATH lacking sccache, so
// it fails at once, and checks it removed its temporary directory.
func TestFailureRemovesDirectory(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUSTCACHE_DEMO_MAIN=1", "TMPDIR="+tmp, "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the demo succeeded without sccache on PATH:\n%s", out)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("the failed demo left %s in its temporary directory\n%s", e.Name(), out)
	}
}
