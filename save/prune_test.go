package save_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
)

// TestSavePruning runs setup and save against a fake cache service and a
// fake REST API answering every request with status: pruning faults are a
// notice, never a warning or a failure, and keep 0 sends no request at all.
func TestSavePruning(t *testing.T) {
	tests := []struct {
		name     string
		keep     string
		status   int // the REST API's answer to every request
		requests bool
		notice   string
	}{
		{name: "keep 0", keep: "0", status: http.StatusTeapot},
		{name: "403 on list", keep: "1", status: http.StatusForbidden, requests: true, notice: "actions: write"},
		{name: "404 on list", keep: "1", status: http.StatusNotFound, requests: true, notice: "pruning older cache entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if !tc.requests {
					t.Errorf("unexpected REST request %s %s", r.Method, r.URL)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(`{"message":"no"}`))
			}))
			t.Cleanup(api.Close)
			svc := fakecache.NewV1(t)
			r := actiontest.New(t).With(svc.Env())
			jobEnv := map[string]string{}
			if s := r.Run("setup", map[string]string{"sccache-version": r.Version}, jobEnv); s.Code != 0 {
				t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
			}
			f := filepath.Join(jobEnv["SCCACHE_DIR"], "a", "b", "entry")
			os.MkdirAll(filepath.Dir(f), 0o755)
			if err := os.WriteFile(f, []byte("compiled"), 0o644); err != nil {
				t.Fatal(err)
			}
			r.Env["GITHUB_API_URL"] = api.URL
			s := r.Run("save", map[string]string{"keep": tc.keep, "github-token": "tok"}, jobEnv)
			if s.Code != 0 || s.Outputs["saved"] != "true" {
				t.Fatalf("save: %d %v\n%s", s.Code, s.Outputs, s.Stdout)
			}
			if w := s.Annotations("warning"); len(w) != 0 {
				t.Errorf("warnings %q, want none", w)
			}
			if tc.requests && calls.Load() == 0 {
				t.Errorf("no REST request made")
			}
			var notes []string
			for _, n := range s.Annotations("notice") {
				if strings.Contains(n, "pruning") {
					notes = append(notes, n)
				}
			}
			switch {
			case tc.notice == "" && len(notes) != 0:
				t.Errorf("pruning notices %q, want none", notes)
			case tc.notice != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.notice)):
				t.Errorf("pruning notices %q, want one mentioning %q", notes, tc.notice)
			}
		})
	}
}
