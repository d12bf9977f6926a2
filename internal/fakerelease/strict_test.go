package fakerelease

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps what the server reports and runs its
// cleanups when told, so a test can check that the server fails a test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) end() string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// TestServerFailsTheTest: a request for something the server does not serve
// fails the test unless declared with Allow, and so does a fault set with
// Fail that never fired (or fired fewer times than told).
func TestServerFailsTheTest(t *testing.T) {
	asset := "sccache-v1.0.0-x86_64-unknown-linux-musl.tar.gz"
	tests := []struct {
		name string
		run  func(t *testing.T, s *Server)
		want string // "" for no failure
	}{
		{"unknown release", func(t *testing.T, s *Server) { get(t, s.DownloadBase()+"/v9.0.0/"+asset) }, "unexpected request GET /mozilla/sccache/releases/download/v9.0.0/"},
		{"unknown path", func(t *testing.T, s *Server) { get(t, s.ServerURL()+"/x") }, "unexpected request GET /x"},
		{"declared", func(t *testing.T, s *Server) { s.Allow("/x"); get(t, s.ServerURL()+"/x") }, ""},
		{"fault never fired", func(t *testing.T, s *Server) { s.Fail(asset, NotFound, 1) }, "fault 1 for " + asset + " fired 0 times, 1 more never did"},
		{"standing fault never fired", func(t *testing.T, s *Server) { s.Fail(asset, ServerError, -1) }, "never fired"},
		{"fault fired", func(t *testing.T, s *Server) {
			s.Fail(asset, ServerError, 1)
			get(t, s.DownloadBase()+"/v1.0.0/"+asset)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := New(rec, Options{Binary: fakeBinary(t), Versions: []string{"v1.0.0"}})
			tt.run(t, s)
			got := rec.end()
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("failures %q, want %q", got, tt.want)
			}
		})
	}
}
