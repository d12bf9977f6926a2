package prune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/httpx"
)

// stub answers one expected request.
type stub struct {
	method, path string
	query        url.Values // every value must match; nil: any query
	status       int
	body         any // JSON-encoded when not nil
	link         string
	used         bool
}

// api is a fake GitHub REST API: each request must match an unused stub,
// in any order, else the test fails; a stub never used fails it at cleanup.
type api struct {
	t     *testing.T
	mu    sync.Mutex
	stubs []*stub
	srv   *httptest.Server
}

func newAPI(t *testing.T) *api {
	a := &api{t: t}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(func() {
		a.srv.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.stubs {
			if !s.used {
				t.Errorf("expected request never made: %s %s %v", s.method, s.path, s.query)
			}
		}
	})
	return a
}

func (a *api) expect(s *stub) { a.mu.Lock(); a.stubs = append(a.stubs, s); a.mu.Unlock() }

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer tok" {
		a.t.Errorf("%s %s: Authorization %q, want the token", r.Method, r.URL, got)
	}
	for _, s := range a.stubs {
		if s.used || s.method != r.Method || s.path != r.URL.Path || !matches(s.query, r.URL.Query()) {
			continue
		}
		s.used = true
		if s.link != "" {
			w.Header().Set("Link", strings.ReplaceAll(s.link, "BASE", a.srv.URL))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		if s.body != nil {
			_ = json.NewEncoder(w).Encode(s.body)
		}
		return
	}
	a.t.Errorf("unexpected request: %s %s", r.Method, r.URL)
	w.WriteHeader(http.StatusTeapot)
}

func matches(want, got url.Values) bool {
	for k, v := range want {
		if got.Get(k) != v[0] {
			return false
		}
	}
	return true
}

const (
	repoPath = "/repos/o/r/actions/caches"
	prefix   = "rustcache-v1-linux-x64-aaaa-"
	ref      = "refs/heads/main"
	saved    = prefix + "lock-105-1"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type entry map[string]any

// cache is a listed entry; age in minutes before t0.
func cache(id int, key, ref string, age int) entry {
	return entry{"id": id, "key": key, "ref": ref, "version": "v", "size_in_bytes": 10,
		"created_at": t0.Add(-time.Duration(age) * time.Minute).Format(time.RFC3339)}
}

func listing(entries ...entry) map[string]any {
	return map[string]any{"total_count": len(entries), "actions_caches": entries}
}

func listQuery(page string) url.Values {
	q := url.Values{"key": {prefix}, "ref": {ref}, "sort": {"created_at"}, "direction": {"desc"}, "per_page": {"100"}}
	if page != "" {
		q.Set("page", page)
	}
	return q
}

func deleted(id int, status int) *stub {
	return &stub{method: "DELETE", path: fmt.Sprintf("%s/%d", repoPath, id), status: status}
}

func request(a *api, keep int) Request {
	return Request{APIURL: a.srv.URL, Repo: "o/r", Ref: ref, Prefix: prefix, Saved: saved, Keep: keep, Token: "tok",
		HTTP: httpx.New(httpx.Options{Base: a.srv.Client(), WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond})}
}

// five entries of the configuration on the ref, the saved one newest but
// listed out of order, plus entries pruning must never touch.
var mixed = listing(
	cache(3, prefix+"lock-103-1", ref, 30),
	cache(5, saved, ref, 0),
	cache(4, prefix+"lock-104-1", ref, 20),
	cache(2, prefix+"lock-102-1", ref, 40),
	cache(1, prefix+"other-101-1", ref, 50),
	cache(90, prefix+"lock-90-1", "refs/heads/feature", 60),              // other ref
	cache(91, "rustcache-v1-linux-x64-bbbb-lock-91-1", ref, 70),          // other configuration
	cache(92, "rustcache-v1-linux-x64-aaaa-lock-92-1", "refs/pull/1", 5), // other ref, newer
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		keep    int
		list    any // nil: no listing expected
		deletes []int
	}{
		{"keep 0 makes no request", 0, nil, nil},
		{"keep 1 keeps only the saved entry", 1, mixed, []int{4, 3, 2, 1}},
		{"keep 3 keeps the saved and the two newest others", 3, mixed, []int{2, 1}},
		{"keep 5 keeps all", 5, mixed, nil},
		{"keep 1 when the listing does not show the saved entry yet", 1,
			listing(cache(4, prefix+"lock-104-1", ref, 20), cache(3, prefix+"lock-103-1", ref, 30)), []int{4, 3}},
		{"keep 2 when the saved entry is the only one", 2, listing(cache(5, saved, ref, 0)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			if tc.list != nil {
				a.expect(&stub{method: "GET", path: repoPath, query: listQuery(""), status: 200, body: tc.list})
			}
			for _, id := range tc.deletes {
				a.expect(deleted(id, http.StatusNoContent))
			}
			n, err := Run(context.Background(), request(a, tc.keep))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if n != len(tc.deletes) {
				t.Errorf("deleted %d, want %d", n, len(tc.deletes))
			}
		})
	}
}

func TestRunPaginates(t *testing.T) {
	a := newAPI(t)
	next := func(p int) string { return fmt.Sprintf(`<BASE%s?page=%d&per_page=100>; rel="next"`, repoPath, p) }
	a.expect(&stub{method: "GET", path: repoPath, query: listQuery(""), status: 200, link: next(2),
		body: listing(cache(5, saved, ref, 0), cache(4, prefix+"lock-104-1", ref, 20))})
	a.expect(&stub{method: "GET", path: repoPath, query: url.Values{"page": {"2"}}, status: 200, link: next(3),
		body: listing(cache(3, prefix+"lock-103-1", ref, 30))})
	a.expect(&stub{method: "GET", path: repoPath, query: url.Values{"page": {"3"}}, status: 200,
		body: listing(cache(2, prefix+"lock-102-1", ref, 40), cache(1, prefix+"lock-101-1", ref, 50))})
	for _, id := range []int{3, 2, 1} {
		a.expect(deleted(id, http.StatusNoContent))
	}
	if n, err := Run(context.Background(), request(a, 2)); err != nil || n != 3 {
		t.Fatalf("Run = %d, %v; want 3 deleted", n, err)
	}
}

func TestRunFaults(t *testing.T) {
	forbidden := map[string]string{"message": "Resource not accessible by integration"}
	tests := []struct {
		name  string
		stubs []*stub
		n     int
		want  error // nil: success
	}{
		{"403 on list", []*stub{{method: "GET", path: repoPath, status: 403, body: forbidden}}, 0, ErrNoPermission},
		{"401 on list", []*stub{{method: "GET", path: repoPath, status: 401, body: forbidden}}, 0, ErrNoPermission},
		{"403 on delete", []*stub{
			{method: "GET", path: repoPath, status: 200, body: listing(cache(5, saved, ref, 0), cache(4, prefix+"a", ref, 1), cache(3, prefix+"b", ref, 2))},
			{method: "DELETE", path: repoPath + "/4", status: 403, body: forbidden},
		}, 0, ErrNoPermission},
		{"404 on delete: already gone", []*stub{
			{method: "GET", path: repoPath, status: 200, body: listing(cache(5, saved, ref, 0), cache(4, prefix+"a", ref, 1), cache(3, prefix+"b", ref, 2))},
			deleted(4, 404), deleted(3, 204),
		}, 1, nil},
		{"500 then success is retried", []*stub{
			{method: "GET", path: repoPath, status: 500},
			{method: "GET", path: repoPath, status: 200, body: listing(cache(5, saved, ref, 0), cache(4, prefix+"a", ref, 1))},
			deleted(4, 204),
		}, 1, nil},
		{"429 is a rate limit", []*stub{
			{method: "GET", path: repoPath, status: 429}, {method: "GET", path: repoPath, status: 429},
			{method: "GET", path: repoPath, status: 429}, {method: "GET", path: repoPath, status: 429},
			{method: "GET", path: repoPath, status: 429}, {method: "GET", path: repoPath, status: 429},
		}, 0, ErrRateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t)
			for _, s := range tc.stubs {
				a.expect(s)
			}
			n, err := Run(context.Background(), request(a, 1))
			if n != tc.n {
				t.Errorf("deleted %d, want %d", n, tc.n)
			}
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("Run: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("Run error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRunRejectsBadRepository(t *testing.T) {
	a := newAPI(t) // no request expected
	r := request(a, 1)
	r.Repo = "no-slash"
	if _, err := Run(context.Background(), r); err == nil || !strings.Contains(err.Error(), "no-slash") {
		t.Errorf("Run = %v, want an error naming the repository", err)
	}
}
