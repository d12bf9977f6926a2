package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range tests {
		got, ok := RetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffCapsRetryAfter(t *testing.T) {
	b := Backoff(2 * time.Second)
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3600"}}}
	if d := b(time.Millisecond, time.Second, 0, resp); d != 2*time.Second {
		t.Errorf("capped Retry-After = %v, want 2s", d)
	}
	resp.Header.Set("Retry-After", "1")
	if d := b(time.Millisecond, time.Second, 0, resp); d != time.Second {
		t.Errorf("Retry-After 1 = %v", d)
	}
	if d := b(100*time.Millisecond, time.Second, 5, nil); d != time.Second {
		t.Errorf("exponential backoff not bounded by max: %v", d)
	}
}

// TestPlainBaseGetsHeaderTimeout: a plain *http.Client (what main passes)
// must not wait forever for a server that never answers.
func TestPlainBaseGetsHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{Base: &http.Client{}, RetryMax: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond,
		Timeouts: Timeouts{Header: 200 * time.Millisecond, Idle: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start := time.Now()
	_, err := c.StandardClient().Do(req)
	if err == nil {
		t.Fatal("a server that never answers gave a response")
	}
	if ctx.Err() != nil {
		t.Fatalf("only the test's own deadline stopped the request after %v", time.Since(start))
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2 (one retry)", n)
	}
}
