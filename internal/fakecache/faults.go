// Package fakecache provides fake GitHub Actions cache services for tests:
// a v1 service (NewV1, modelled on act's cache server), a v2 twirp service
// (NewV2) whose signed URLs point at an Azure Blob store (Azurite, started by
// StartAzurite, or the in-process NewMemBlobs), and helpers that sign Azure
// SAS URLs for the public development account.
//
// Every fake is an httptest server on 127.0.0.1. Each request is classified
// by Kind, counted and recorded, and can be given a Fault: an error status
// (with Retry-After), a delay, a connection reset, a truncated, stalled or
// corrupted body. Env returns the environment a client needs to reach a fake.
package fakecache

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind classifies the requests a fake receives.
type Kind string

// Request kinds, common to both protocols.
const (
	KindLookup    Kind = "lookup"    // v1 GET cache, v2 GetCacheEntryDownloadURL
	KindReserve   Kind = "reserve"   // v1 POST caches, v2 CreateCacheEntry
	KindUpload    Kind = "upload"    // v1 PATCH caches/{id}, blob Put Blob and Put Block
	KindBlockList Kind = "blocklist" // blob Put Block List
	KindCommit    Kind = "commit"    // v1 POST caches/{id}, v2 FinalizeCacheEntryUpload
	KindDownload  Kind = "download"  // v1 archive GET, blob GET and HEAD
	KindOther     Kind = "other"     // anything else
)

// Fault is what to do to one request instead of (or while) serving it.
type Fault struct {
	// Delay waits this long first (cut short when the client goes away).
	Delay time.Duration
	// Reset closes the connection without answering.
	Reset bool
	// Status answers with this status, RetryAfter and Body instead of
	// serving the request.
	Status     int
	RetryAfter string
	Body       string
	// Truncate serves the request but drops the connection after
	// TruncateAt bytes of the response body.
	Truncate   bool
	TruncateAt int64
	// Flip serves the request with the byte at FlipAt of the response body
	// inverted.
	Flip   bool
	FlipAt int64
	// Stall serves the request but, after StallAt bytes of the response
	// body, sends nothing more and keeps the connection open until the
	// client goes away (a half-open connection, a hung proxy).
	Stall   bool
	StallAt int64
}

// Request records one request a fake received.
type Request struct {
	Kind          Kind
	Method        string
	Path          string
	Authorization string
	Range         string
	At            time.Time
}

// Controls holds the fault injection and request records of one fake. Its
// methods are safe for concurrent use.
type Controls struct {
	t    testing.TB
	name string // the fake's name in failures

	mu       sync.Mutex
	queued   map[Kind][]Fault
	always   map[Kind]Fault
	hook     func(Kind, *http.Request) *Fault
	requests []Request
	allowed  []allowance
}

// allowance is a kind of unknown request a test declared.
type allowance struct{ method, pathPrefix string }

// newControls makes the controls of a fake named name. Called before the
// fake's server is started, so that its check runs after the server closed
// (cleanups run last registered first) and no request is still in flight.
func newControls(t testing.TB, name string) *Controls {
	c := &Controls{t: t, name: name}
	t.Cleanup(c.verify)
	return c
}

// Allow declares requests the fake does not know but the test sends on
// purpose (a probe of a wrong path, a method the protocol lacks): method
// ("" for any) and a path prefix. They are answered as before (a 404 or the
// protocol's error) instead of failing the test.
func (c *Controls) Allow(method, pathPrefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allowed = append(c.allowed, allowance{method, pathPrefix})
}

// unknown serves a request the fake does not know: it is recorded as
// KindOther, fails the test unless Allow declared it, and is answered by
// answer (after any fault for KindOther).
func (c *Controls) unknown(w http.ResponseWriter, r *http.Request, answer http.HandlerFunc) {
	c.mu.Lock()
	ok := slices.ContainsFunc(c.allowed, func(a allowance) bool {
		return (a.method == "" || a.method == r.Method) && strings.HasPrefix(r.URL.Path, a.pathPrefix)
	})
	c.mu.Unlock()
	if !ok {
		c.t.Errorf("fakecache %s: unexpected request %s %s (declare it with Allow if the test sends it on purpose)", c.name, r.Method, r.URL.RequestURI())
	}
	c.serve(KindOther, w, r, answer)
}

// verify fails the test for every queued fault no request took.
func (c *Controls) verify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	kinds := make([]Kind, 0, len(c.queued))
	for k, q := range c.queued {
		if len(q) > 0 {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		c.t.Errorf("fakecache %s: %d fault(s) queued for %s requests never fired: %+v", c.name, len(c.queued[k]), k, c.queued[k])
	}
}

// Inject queues faults for the next requests of kind k, one per request.
func (c *Controls) Inject(k Kind, faults ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queued == nil {
		c.queued = map[Kind][]Fault{}
	}
	c.queued[k] = append(c.queued[k], faults...)
}

// Always applies f to every request of kind k (after the queued ones) until
// ClearFaults.
func (c *Controls) Always(k Kind, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.always == nil {
		c.always = map[Kind]Fault{}
	}
	c.always[k] = f
}

// Hook installs a function consulted for requests that have no queued or
// standing fault; it returns nil to serve the request normally.
func (c *Controls) Hook(fn func(Kind, *http.Request) *Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hook = fn
}

// ClearFaults removes all queued and standing faults and the hook.
func (c *Controls) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued, c.always, c.hook = nil, nil, nil
}

// Count returns how many requests of kind k arrived.
func (c *Controls) Count(k Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.requests {
		if r.Kind == k {
			n++
		}
	}
	return n
}

// Requests returns a copy of the requests received so far, in order.
func (c *Controls) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.requests...)
}

// ResetCounts forgets the recorded requests.
func (c *Controls) ResetCounts() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = nil
}

// take records r and returns the fault to apply, if any.
func (c *Controls) take(k Kind, r *http.Request) *Fault {
	c.mu.Lock()
	c.requests = append(c.requests, Request{
		Kind:          k,
		Method:        r.Method,
		Path:          r.URL.Path,
		Authorization: r.Header.Get("Authorization"),
		Range:         firstNonEmpty(r.Header.Get("x-ms-range"), r.Header.Get("Range")),
		At:            time.Now(),
	})
	if q := c.queued[k]; len(q) > 0 {
		f := q[0]
		c.queued[k] = q[1:]
		c.mu.Unlock()
		return &f
	}
	if f, ok := c.always[k]; ok {
		c.mu.Unlock()
		return &f
	}
	hook := c.hook
	c.mu.Unlock()
	if hook != nil {
		return hook(k, r)
	}
	return nil
}

// serve records the request, applies its fault and otherwise calls next.
func (c *Controls) serve(k Kind, w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	f := c.take(k, r)
	if f == nil {
		next(w, r)
		return
	}
	if f.Delay > 0 {
		// Read the body first: the server notices a client that went away
		// (and cancels r.Context) only once the body has been consumed.
		if r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.Reset {
		resetConnection(w)
		return
	}
	if f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	if f.Truncate || f.Flip || f.Stall {
		fw := &faultWriter{ResponseWriter: w, fault: *f, done: r.Context().Done()}
		next(fw, r)
		return
	}
	next(w, r)
}

// resetConnection drops the client's connection without a response.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST, not FIN
	}
	_ = conn.Close()
}

// faultWriter corrupts, cuts or stalls a response body.
type faultWriter struct {
	http.ResponseWriter
	fault   Fault
	written int64
	done    <-chan struct{} // the request's context
}

func (f *faultWriter) Write(p []byte) (int, error) {
	if f.fault.Flip && f.fault.FlipAt >= f.written && f.fault.FlipAt < f.written+int64(len(p)) {
		q := append([]byte(nil), p...)
		q[f.fault.FlipAt-f.written] ^= 0xff
		p = q
	}
	if f.fault.Truncate && f.written+int64(len(p)) > f.fault.TruncateAt {
		keep := f.fault.TruncateAt - f.written
		if keep > 0 {
			_, _ = f.ResponseWriter.Write(p[:keep])
		}
		if fl, ok := f.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	if f.fault.Stall && f.written+int64(len(p)) > f.fault.StallAt {
		if keep := f.fault.StallAt - f.written; keep > 0 {
			_, _ = f.ResponseWriter.Write(p[:keep])
		}
		f.Flush()
		<-f.done
		panic(http.ErrAbortHandler)
	}
	n, err := f.ResponseWriter.Write(p)
	f.written += int64(n)
	return n, err
}

// Flush passes flushes through.
func (f *faultWriter) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Hijack passes hijacking through.
func (f *faultWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(f.ResponseWriter).Hijack()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
