package testkit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Recorder is a testing.TB for testing test helpers such as the fakes: it
// keeps what they report through Errorf and holds their cleanups until End,
// so a test can check that a fake fails the test it serves. Everything else
// goes to the embedded TB.
type Recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

// NewRecorder wraps t.
func NewRecorder(t testing.TB) *Recorder { return &Recorder{TB: t} }

// Helper does nothing: the recorded failures carry no position.
func (r *Recorder) Helper() {}

// Errorf records a failure.
func (r *Recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Cleanup holds f until End.
func (r *Recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// End runs the held cleanups, last registered first, and returns the
// recorded failures, one a line.
func (r *Recorder) End() string {
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}
