package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const idle = 150 * time.Millisecond

// stallServer runs handler; a handler that stalls waits for the client to
// go away, or for the test to end.
func stallServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, stall func())) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	stop := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		handler(w, r, func() {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv, &hits
}

// idleClient retries once, quickly, with a long header timeout: only the
// idle timeout can end a stall before the test's own deadline.
func idleClient() *http.Client {
	return New(Options{RetryMax: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond,
		Timeouts: Timeouts{Header: time.Minute, Idle: idle}}).StandardClient()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func checkStalled(t *testing.T, ctx context.Context, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatal("a stalled transfer succeeded")
	case ctx.Err() != nil:
		t.Fatalf("only the test's deadline ended the transfer: %v", err)
	case !errors.Is(err, ErrStalled):
		t.Fatalf("error %v is not ErrStalled", err)
	case !strings.Contains(err.Error(), "no byte moved for 150ms"):
		t.Errorf("error %q does not say how long nothing moved", err)
	}
}

func TestIdleNoAnswer(t *testing.T) {
	srv, hits := stallServer(t, func(w http.ResponseWriter, r *http.Request, stall func()) { stall() })
	ctx := testContext(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	_, err := idleClient().Do(req)
	checkStalled(t, ctx, err)
	if n := hits.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2: a stalled attempt is retried", n)
	}
}

func TestIdleMidBody(t *testing.T) {
	srv, _ := stallServer(t, func(w http.ResponseWriter, r *http.Request, stall func()) {
		w.Header().Set("Content-Length", "1000")
		w.Write(bytes.Repeat([]byte("x"), 100))
		w.(http.Flusher).Flush()
		stall()
	})
	ctx := testContext(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := idleClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	checkStalled(t, ctx, err)
	if len(b) != 100 {
		t.Errorf("read %d bytes before the stall, want 100", len(b))
	}
}

// TestIdleUpload: the service reads part of the request body, then stops
// reading and never answers.
func TestIdleUpload(t *testing.T) {
	srv, hits := stallServer(t, func(w http.ResponseWriter, r *http.Request, stall func()) {
		io.CopyN(io.Discard, r.Body, 1<<10)
		stall()
	})
	ctx := testContext(t)
	req, _ := http.NewRequestWithContext(ctx, "PUT", srv.URL, bytes.NewReader(make([]byte, 64<<20)))
	_, err := idleClient().Do(req)
	checkStalled(t, ctx, err)
	if n := hits.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
}

// slowReader yields one byte per wait.
type slowReader struct {
	n    int
	wait time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.wait)
	r.n--
	p[0] = 'x'
	return 1, nil
}

// TestIdleCountsOnlyTheNetwork: a service that sends or reads slowly but
// steadily, a program slow to produce the request body, and a caller slow
// between two reads of the response are not stalls.
func TestIdleCountsOnlyTheNetwork(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		body    io.Reader
		pause   time.Duration // between reads of the response
	}{
		{name: "steady trickle", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			for range 6 {
				w.(http.Flusher).Flush()
				time.Sleep(idle / 3)
				w.Write([]byte("x"))
			}
		}},
		{name: "slow request body", body: &slowReader{n: 2, wait: 2 * idle}, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok"))
		}},
		{name: "slow reader of the response", pause: 2 * idle, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("ok"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tc.handler))
			defer srv.Close()
			ctx := testContext(t)
			method := "GET"
			if tc.body != nil {
				method = "PUT"
			}
			req, _ := http.NewRequestWithContext(ctx, method, srv.URL, tc.body)
			resp, err := idleClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			time.Sleep(tc.pause)
			if _, err := io.ReadAll(resp.Body); err != nil {
				t.Fatalf("read: %v", err)
			}
		})
	}
}
