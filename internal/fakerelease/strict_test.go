package fakerelease

import (
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

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
			rec := testkit.NewRecorder(t)
			s := New(rec, Options{Binary: fakeBinary(t), Versions: []string{"v1.0.0"}})
			tt.run(t, s)
			got := rec.End()
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("failures %q, want %q", got, tt.want)
			}
		})
	}
}
