package fakecache

import (
	"net/http"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

func get(t *testing.T, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFakesFailTheTest checks that each fake fails its test for a request it
// does not know (unless declared with Allow) and for a queued fault that
// never fired, and stays quiet otherwise.
func TestFakesFailTheTest(t *testing.T) {
	type fake struct {
		url string
		c   *Controls
	}
	fakes := map[string]func(tb testing.TB) fake{
		"v1": func(tb testing.TB) fake { v := NewV1(tb); return fake{v.URL, v.Controls} },
		"v2": func(tb testing.TB) fake { v := NewV2(tb, NewMemBlobs(tb)); return fake{v.URL, v.Controls} },
	}
	for name, start := range fakes {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name, method, path string
				allow              bool
				inject             Kind
				want               string // "" for no failure
			}{
				{name: "unknown path", method: http.MethodGet, path: "nope/x", want: "unexpected request GET /"},
				{name: "unknown path declared", method: http.MethodGet, path: "nope/x", allow: true},
				{name: "unknown method", method: http.MethodDelete, path: "twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry", want: "unexpected request DELETE"},
				{name: "unfired fault", inject: KindCommit, want: "1 fault(s) queued for commit requests never fired"},
				{name: "nothing wrong"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rec := testkit.NewRecorder(t)
					f := start(rec)
					if tt.allow {
						f.c.Allow("", "/")
					}
					if tt.inject != "" {
						f.c.Inject(tt.inject, Fault{Status: 500})
					}
					if tt.method != "" {
						get(t, tt.method, f.url+tt.path)
					}
					got := rec.End()
					if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
						t.Errorf("failures %q, want %q", got, tt.want)
					}
				})
			}
		})
	}
}

// TestMemBlobsFailsOnUnknownOperations: the blob store fails the test for an
// operation no cache client uses.
func TestMemBlobsFailsOnUnknownOperations(t *testing.T) {
	rec := testkit.NewRecorder(t)
	m := NewMemBlobs(rec)
	get(t, http.MethodGet, m.BaseURL()+"/elsewhere/x")
	if got := rec.End(); !strings.Contains(got, "fakecache blobs: unexpected request GET /elsewhere/x") {
		t.Errorf("failures %q", got)
	}
}
