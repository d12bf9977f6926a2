package cacheservice

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/httpx"
)

// TestDownloadWithoutRanges covers servers that ignore Range (200 with the
// whole body) or honour only open-ended ranges, with bodies that break off.
func TestDownloadWithoutRanges(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 5000)
	tests := []struct {
		name        string
		honourRange bool
		breaks      int // how many responses break off after 1000 bytes
	}{
		{"plain", false, 0},
		{"plain, broken bodies", false, 2},
		{"open-ended resume", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var breaks atomic.Int32
			breaks.Store(int32(tt.breaks))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body := data
				status := http.StatusOK
				if rng := r.Header.Get("Range"); tt.honourRange && strings.HasSuffix(rng, "-") && rng != "bytes=0-" {
					start, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"))
					body, status = data[start:], http.StatusPartialContent
					w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(status)
				if breaks.Add(-1) >= 0 {
					w.Write(body[:1000])
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler)
				}
				w.Write(body)
			}))
			defer srv.Close()
			d := &downloader{
				h:           &httpClient{http: httpx.New(httpx.Options{WaitMin: time.Millisecond, WaitMax: time.Millisecond}), userAgent: "test"},
				op:          "test download",
				url:         &signedURL{url: srv.URL},
				segment:     4096,
				concurrency: 2,
			}
			var out bytes.Buffer
			n, total, err := d.run(context.Background(), &out)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(data)) || total != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("got %d bytes (total %d), want %d identical", n, total, len(data))
			}
		})
	}
}

// TestDownloadWriteError stops at the caller's writer failing.
func TestDownloadWriteError(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 100000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	d := testDownloader(srv.URL, 4)
	_, _, err := d.run(context.Background(), &failAfter{n: 10000})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("run: %v, want the writer's error", err)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, fmt.Errorf("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// sizedBuffer records the size a download announces (what a progress
// report shows as the total).
type sizedBuffer struct {
	bytes.Buffer
	total int64
}

func (b *sizedBuffer) SetTotal(n int64) { b.total = n }

// TestDownloadAnnouncesSize: the entry's size reaches a writer that wants
// it as soon as the first answer tells it, with ranges or without.
func TestDownloadAnnouncesSize(t *testing.T) {
	data := bytes.Repeat([]byte("y"), 50000)
	for _, ranges := range []bool{true, false} {
		t.Run(fmt.Sprintf("ranges=%v", ranges), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !ranges {
					r.Header.Del("Range")
				}
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
			}))
			defer srv.Close()
			d := testDownloader(srv.URL, 2)
			out := &sizedBuffer{total: -1}
			if _, _, err := d.run(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			if out.total != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
				t.Errorf("announced %d for %d bytes", out.total, len(data))
			}
		})
	}
}

// testDownloader fetches url in 4 KiB segments, concurrency at a time.
func testDownloader(url string, concurrency int) *downloader {
	return &downloader{
		h:   &httpClient{http: httpx.New(httpx.Options{}), userAgent: "test"},
		op:  "test download",
		url: &signedURL{url: url}, segment: 4096, concurrency: concurrency,
	}
}
