package cacheservice

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// segmentAttempts bounds how often one ranged GET is tried again after its
// body broke off or failed its checksum (the retrying HTTP client already
// handles status codes and connection errors before the headers).
const segmentAttempts = 5

// azureMD5Limit is the largest range for which Azure Storage returns the
// range's MD5 (x-ms-range-get-content-md5).
const azureMD5Limit = 4 << 20

// downloader fetches one entry.
type downloader struct {
	h           *httpClient
	op          string // "v1 download" / "v2 download"
	url         *signedURL
	azure       bool // the URL is an Azure Blob URL: send x-ms-* headers
	segment     int
	concurrency int
}

// run writes the whole entry to w in order and returns the bytes written and
// the entry's total size (-1 when the server never said).
func (d *downloader) run(ctx context.Context, w io.Writer) (int64, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The first ranged GET returns the first segment and, in its
	// Content-Range, the total size.
	var resp *http.Response
	for {
		u, gen := d.url.get()
		var err error
		resp, err = d.h.do(ctx, d.rangeRequest(u, 0, int64(d.segment)))
		if err != nil {
			return 0, -1, err
		}
		if resp.StatusCode == http.StatusForbidden {
			drain(resp)
			if err := d.url.expired(ctx, gen); err != nil {
				return 0, -1, err
			}
			continue
		}
		break
	}
	switch resp.StatusCode {
	case http.StatusOK:
		// The server ignores Range: stream the whole body.
		announceSize(w, resp.ContentLength)
		n, total, err := d.stream(ctx, resp, w)
		return n, total, err
	case http.StatusRequestedRangeNotSatisfiable:
		// An empty entry has no byte 0; fetch it plainly.
		drain(resp)
		u, _ := d.url.get()
		resp, err := d.h.do(ctx, request{op: d.op, method: http.MethodGet, url: u, header: d.baseHeader()})
		if err != nil {
			return 0, -1, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, -1, d.h.statusError(d.op, resp, false)
		}
		return d.stream(ctx, resp, w)
	case http.StatusPartialContent:
	default:
		return 0, -1, d.h.statusError(d.op, resp, false)
	}

	start, end, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil || start != 0 || end >= int64(d.segment) {
		drain(resp)
		if err == nil {
			err = fmt.Errorf("unexpected range %d-%d", start, end)
		}
		return 0, -1, fmt.Errorf("%s: %w", d.op, err)
	}
	if total < 0 {
		// Size unknown: take this segment and stream the rest from a plain
		// open-ended range.
		total = -1
	}
	announceSize(w, total)
	buf := make([]byte, end+1)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		drain(resp)
		// Retry the first segment through the checked path.
		buf, err = d.fetch(ctx, 0, end+1, nil)
		if err != nil {
			return 0, total, err
		}
	} else {
		ok := checkMD5(resp.Header, buf)
		drain(resp)
		if !ok {
			if buf, err = d.fetch(ctx, 0, end+1, nil); err != nil {
				return 0, total, err
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return 0, total, fmt.Errorf("%s: write: %w", d.op, err)
	}
	written := int64(len(buf))
	if total < 0 {
		n, err := d.rest(ctx, written, w)
		return written + n, -1, err
	}
	if written >= total {
		return written, total, nil
	}
	n, err := d.parallel(ctx, written, total, w)
	return written + n, total, err
}

// sizer is a writer that wants to know how much will be written to it (a
// progress report, see progress.Meter.Writer).
type sizer interface{ SetTotal(int64) }

// announceSize tells w the entry's size, when w wants it and it is known.
func announceSize(w io.Writer, size int64) {
	if s, ok := w.(sizer); ok && size >= 0 {
		s.SetTotal(size)
	}
}

// parallel fetches [from, total) in segments, at most d.concurrency at a
// time, and writes them in order. At most d.concurrency segments are held in
// memory.
func (d *downloader) parallel(ctx context.Context, from, total int64, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type result struct {
		data []byte
		err  error
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, d.concurrency)
	order := make(chan chan result, d.concurrency)
	free := make(chan []byte, d.concurrency+1)

	go func() {
		defer close(order)
		for off := from; off < total; off += int64(d.segment) {
			n := min(int64(d.segment), total-off)
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ch := make(chan result, 1)
			var buf []byte
			select {
			case buf = <-free:
			default:
			}
			wg.Add(1)
			go func(off, n int64, buf []byte) {
				defer wg.Done()
				data, err := d.fetch(ctx, off, n, buf)
				ch <- result{data, err}
			}(off, n, buf)
			select {
			case order <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()

	var written int64
	var err error
	for ch := range order {
		res := <-ch
		<-slots
		if err != nil {
			continue // draining after a failure
		}
		if res.err != nil {
			err = res.err
			cancel()
			continue
		}
		if _, werr := w.Write(res.data); werr != nil {
			err = fmt.Errorf("%s: write: %w", d.op, werr)
			cancel()
			continue
		}
		written += int64(len(res.data))
		select {
		case free <- res.data:
		default:
		}
	}
	wg.Wait()
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("%s: %w", d.op, ctx.Err())
	}
	return written, err
}

// fetch gets the n bytes at off with a ranged GET into buf (reused when big
// enough), trying again when the body breaks off or fails its MD5, and
// renewing the URL once on 403.
func (d *downloader) fetch(ctx context.Context, off, n int64, buf []byte) ([]byte, error) {
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	var lastErr error
	for attempt := 0; attempt < segmentAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
				return nil, fmt.Errorf("%s: %w", d.op, err)
			}
		}
		u, gen := d.url.get()
		resp, err := d.h.do(ctx, d.rangeRequest(u, off, n))
		if err != nil {
			return nil, err // the HTTP client has already retried
		}
		if resp.StatusCode == http.StatusForbidden {
			drain(resp)
			if err := d.url.expired(ctx, gen); err != nil {
				return nil, err
			}
			attempt--
			continue
		}
		if resp.StatusCode != http.StatusPartialContent {
			return nil, d.h.statusError(d.op, resp, false)
		}
		start, end, _, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != off || end != off+n-1 {
			drain(resp)
			if err == nil {
				err = fmt.Errorf("asked for bytes %d-%d, got %d-%d", off, off+n-1, start, end)
			}
			return nil, fmt.Errorf("%s: %w", d.op, err)
		}
		_, err = io.ReadFull(resp.Body, buf)
		ok := err == nil && checkMD5(resp.Header, buf)
		drain(resp)
		if err != nil {
			lastErr = transportError(fmt.Sprintf("%s: bytes %d-%d", d.op, off, off+n-1), err)
			continue
		}
		if !ok {
			lastErr = fmt.Errorf("%s: bytes %d-%d: MD5 mismatch", d.op, off, off+n-1)
			continue
		}
		return buf, nil
	}
	return nil, lastErr
}

// stream copies a 200 response to w. When the body breaks off it resumes
// with an open-ended range from where it stopped.
func (d *downloader) stream(ctx context.Context, resp *http.Response, w io.Writer) (int64, int64, error) {
	total := resp.ContentLength
	n, err := io.Copy(&writerOnly{w}, resp.Body)
	drain(resp)
	var werr *writeError
	if err == nil && (total < 0 || n == total) {
		return n, n, nil
	}
	if errors.As(err, &werr) {
		return n, total, fmt.Errorf("%s: %w", d.op, err)
	}
	// The body broke off: resume from where it stopped.
	if ctx.Err() != nil {
		return n, total, fmt.Errorf("%s: %w", d.op, ctx.Err())
	}
	more, rerr := d.rest(ctx, n, w)
	n += more
	if rerr != nil {
		return n, total, rerr
	}
	if total >= 0 && n != total {
		return n, total, fmt.Errorf("%s: got %d of %d bytes", d.op, n, total)
	}
	return n, n, nil
}

// rest fetches everything from offset on with open-ended ranges, resuming
// after bodies that break off.
func (d *downloader) rest(ctx context.Context, offset int64, w io.Writer) (int64, error) {
	var written int64
	var lastErr error
	for attempt := 0; attempt < segmentAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
				return written, fmt.Errorf("%s: %w", d.op, err)
			}
		}
		pos := offset + written
		u, gen := d.url.get()
		h := d.baseHeader()
		h.Set("Range", fmt.Sprintf("bytes=%d-", pos))
		resp, err := d.h.do(ctx, request{op: d.op, method: http.MethodGet, url: u, header: h})
		if err != nil {
			return written, err // the HTTP client has already retried
		}
		var body io.Reader = resp.Body
		switch resp.StatusCode {
		case http.StatusPartialContent:
			start, _, _, err := parseContentRange(resp.Header.Get("Content-Range"))
			if err != nil || start != pos {
				drain(resp)
				return written, fmt.Errorf("%s: resume at %d: unexpected Content-Range", d.op, pos)
			}
		case http.StatusOK:
			// Range ignored: skip what we already have.
			if _, err := io.CopyN(io.Discard, resp.Body, pos); err != nil {
				drain(resp)
				lastErr = transportError(d.op, err)
				continue
			}
		case http.StatusRequestedRangeNotSatisfiable:
			drain(resp)
			return written, nil // nothing after pos
		case http.StatusForbidden:
			drain(resp)
			if err := d.url.expired(ctx, gen); err != nil {
				return written, err
			}
			attempt--
			continue
		default:
			return written, d.h.statusError(d.op, resp, false)
		}
		want := resp.ContentLength
		if want >= 0 && resp.StatusCode == http.StatusOK {
			want -= pos // the skipped prefix
		}
		n, err := io.Copy(&writerOnly{w}, body)
		drain(resp)
		written += n
		var werr *writeError
		if errors.As(err, &werr) {
			return written, fmt.Errorf("%s: %w", d.op, err)
		}
		if err == nil && (want < 0 || n == want) {
			return written, nil
		}
		if err == nil {
			err = fmt.Errorf("body ended after %d of %d bytes", n, want)
		}
		lastErr = transportError(d.op, err)
	}
	return written, lastErr
}

// rangeRequest builds the GET for n bytes at off.
func (d *downloader) rangeRequest(u string, off, n int64) request {
	h := d.baseHeader()
	h.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if d.azure && n <= azureMD5Limit {
		h.Set("x-ms-range-get-content-md5", "true")
	}
	return request{op: d.op, method: http.MethodGet, url: u, header: h}
}

func (d *downloader) baseHeader() http.Header {
	h := http.Header{}
	if d.azure {
		h.Set("x-ms-version", azureAPIVersion)
	}
	return h
}

// checkMD5 verifies data against a Content-MD5 header when there is one.
func checkMD5(h http.Header, data []byte) bool {
	v := h.Get("Content-MD5")
	if v == "" {
		return true
	}
	want, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return true // not something we can check
	}
	got := md5.Sum(data)
	return bytes.Equal(want, got[:])
}

// parseContentRange parses "bytes a-b/total" (total may be "*", returned
// as -1). An empty range at the end ("bytes 16-15/16") is accepted.
func parseContentRange(s string) (start, end, total int64, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	span, size, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start-1 {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	total = -1
	if size != "*" {
		if total, err = strconv.ParseInt(size, 10, 64); err != nil || total <= end {
			return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
		}
	}
	// Azurite answers a range at the very end with an empty "a-(a-1)/a".
	if end == start-1 && total != start {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	return start, end, total, nil
}

// writeError marks a failure of the caller's writer, which must not be
// retried like a network failure.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// writerOnly hides ReaderFrom so io.Copy reports write errors distinctly.
type writerOnly struct{ w io.Writer }

func (o *writerOnly) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil {
		return n, &writeError{err}
	}
	return n, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
