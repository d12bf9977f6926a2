package faults_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	jobpkg "github.com/org/rustcache-action/internal/job"
)

// stallProxy stands in front of a v1 fake and stops in the middle of a
// transfer without closing the connection — a half-open TCP connection, a
// hung load balancer — which the fakes' own faults cannot do (their Delay
// comes before the response). Downloads stall after stallAt bytes of the
// body; uploads stall after reading stallAt bytes of a chunk.
type stallProxy struct {
	srv     *httptest.Server
	stallAt int64
}

func newStallProxy(t *testing.T, target string, stallAt int64) *stallProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{stallAt: stallAt}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(&url.URL{Scheme: u.Scheme, Host: u.Host}) },
		// Lookups name download URLs on the fake: point them back here.
		ModifyResponse: func(resp *http.Response) error {
			if !strings.HasSuffix(resp.Request.URL.Path, "/_apis/artifactcache/cache") || resp.StatusCode != http.StatusOK {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			b = bytes.ReplaceAll(b, []byte(u.Host), []byte(strings.TrimPrefix(p.srv.URL, "http://")))
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Del("Content-Length")
			return nil
		},
	}
	stop := make(chan struct{})
	// stall blocks until the client goes away or the test ends.
	stall := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/artifacts/"):
			// Fetch the answer from the fake, send its headers and the
			// first stallAt bytes, then nothing.
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.Scheme+"://"+u.Host+r.URL.RequestURI(), nil)
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.CopyN(w, resp.Body, p.stallAt)
			w.(http.Flusher).Flush()
			stall(r)
		case r.Method == http.MethodPatch:
			_, _ = io.CopyN(io.Discard, r.Body, p.stallAt)
			stall(r)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(func() { close(stop) })
	return p
}

// stallLimit is the steps' time limit in TestStallMidTransfer: above the
// idle timeout's retries (the backoff between six tries of an upload is
// 15.5 s), below the stepDeadline that marks a hanging step.
const stallLimit = 40 * time.Second

// TestStallMidTransfer: the service sends part of the entry (or reads part
// of an upload) and then neither sends nor closes, on every try. Each try
// ends after the idle timeout (shortened here) and is retried; the step
// then gives up with one warning that says the connection stalled — long
// before its time limit — and leaves the cache directory and the service
// as they were.
func TestStallMidTransfer(t *testing.T) {
	for _, step := range []string{"restore", "save"} {
		for _, strict := range []bool{false, true} {
			name := step + "/warn"
			if strict {
				name = step + "/strict"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				faultsInjected.Add(1)
				svc := newService(t, v1)
				proxy := newStallProxy(t, svc.env()["ACTIONS_CACHE_URL"], 1<<20)
				j := newJob(t, svc, nil)
				u, _ := url.Parse(svc.env()["ACTIONS_CACHE_URL"])
				j.r.Env["ACTIONS_CACHE_URL"] = proxy.srv.URL + u.Path
				if step == "restore" {
					j.seed(sampleArchive(t))
					writeTree(t, j.cacheDir, map[string][]byte{"0/1/previous-entry": []byte("from an earlier step")})
				} else {
					j.keys()
					j.fill()
				}
				before := tree(t, j.cacheDir)
				j.r.Timeouts.Idle = 300 * time.Millisecond
				j.r.Env[jobpkg.TimeoutVar] = stallLimit.String()
				in := map[string]string{}
				if strict {
					in["fail-on-cache-error"] = "true"
				}
				start := time.Now()
				s := j.run(step, in)
				took := time.Since(start)

				said := s.Annotations("warning")
				if strict {
					said = s.Annotations("error")
				}
				wantCode := 0
				if strict {
					wantCode = 1
				}
				if s.Code != wantCode || len(said) != 1 {
					t.Fatalf("exit %d, annotations %q; want exit %d and one annotation\n%s", s.Code, said, wantCode, s.Stdout)
				}
				t.Logf("%s after %v", said[0], took.Round(time.Millisecond))
				if !strings.Contains(said[0], "stalled: no byte moved for 300ms") || strings.Contains(said[0], "did not finish within") {
					t.Errorf("the annotation does not say the connection stalled: %q", said[0])
				}
				checkHint(t, said[0])
				if d := treeDiff(before, tree(t, j.cacheDir)); d != "" {
					t.Errorf("the cache dir changed (-before +after):\n%s", d)
				}
				if step == "save" && len(svc.complete()) != 0 {
					t.Errorf("a stalled upload left a complete entry")
				}
				j.checkNoLeftovers()
			})
		}
	}
}
