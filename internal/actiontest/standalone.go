package actiontest

import (
	"fmt"
	"os"
	"testing"
)

// Standalone lets a program that is not a test (the demo, the benchmarks
// command) use the fakes and the Runner, which take a testing.TB. Only the
// methods the fakes call are provided; Fatal and Skip end the program.
type Standalone struct {
	testing.TB // nil: any other method panics, which would be a bug here
	cleanups   []func()
	dir        string
}

// NewStandalone returns a TB whose temporary directories live under dir.
func NewStandalone(dir string) *Standalone { return &Standalone{dir: dir} }

// Close runs the registered cleanups, newest first.
func (s *Standalone) Close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}

// Helper does nothing.
func (s *Standalone) Helper() {}

// Cleanup registers f for Close.
func (s *Standalone) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }

// Name names the program.
func (s *Standalone) Name() string { return "rustcache-demo" }

// TempDir returns a new directory under the standalone's directory.
func (s *Standalone) TempDir() string {
	d, err := os.MkdirTemp(s.dir, "t-")
	if err != nil {
		s.Fatal(err)
	}
	return d
}

// Logf prints to stderr.
func (s *Standalone) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Log prints to stderr.
func (s *Standalone) Log(args ...any) { fmt.Fprintln(os.Stderr, args...) }

// Errorf prints to stderr.
func (s *Standalone) Errorf(format string, args ...any) { s.Logf("error: "+format, args...) }

// Fatalf prints and exits.
func (s *Standalone) Fatalf(format string, args ...any) {
	s.Logf("fatal: "+format, args...)
	s.Close()
	os.Exit(1)
}

// Fatal prints and exits.
func (s *Standalone) Fatal(args ...any) { s.Fatalf("%s", fmt.Sprint(args...)) }

// Skipf exits: a prerequisite is missing.
func (s *Standalone) Skipf(format string, args ...any) {
	s.Fatalf("missing prerequisite: "+format+" (run bash scripts/install-deps)", args...)
}

// Skip exits: a prerequisite is missing.
func (s *Standalone) Skip(args ...any) { s.Skipf("%s", fmt.Sprint(args...)) }

// Failed reports false: a failure exits at once.
func (s *Standalone) Failed() bool { return false }
