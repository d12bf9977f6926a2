// Package httpx builds the one kind of HTTP client rustcache-action uses for every
// request: go-retryablehttp with bounded attempts, exponential backoff that honours
// a capped Retry-After, a bound on the wait for response headers and on a body
// that stops moving (idle.go), and no logging of URLs (signed URLs carry
// credentials).
package httpx

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Options tune a client. The zero value gives the production defaults.
type Options struct {
	// Base is the underlying client (its Transport is used); nil means a fresh
	// transport with sensible timeouts.
	Base *http.Client
	// RetryMax is how many times a request is retried after the first attempt
	// (default 5).
	RetryMax int
	// WaitMin and WaitMax bound the exponential backoff (defaults 500ms and 10s).
	WaitMin, WaitMax time.Duration
	// RetryAfterCap caps a server's Retry-After (default 30s), so a hostile or
	// confused service cannot stall a build for an hour.
	RetryAfterCap time.Duration
	// Timeouts bound the waits of each attempt.
	Timeouts
}

// Timeouts bound how long one attempt of a request may wait for the other
// side. The zero value gives the defaults.
type Timeouts struct {
	// Header bounds the wait for response headers once the request is
	// sent (default DefaultHeaderTimeout). It applies when the client's
	// transport is httpx's own, that is when Options.Base has none.
	Header time.Duration
	// Idle bounds the time a request body or a response body may go
	// without moving a byte (default DefaultIdleTimeout): the attempt then
	// fails with ErrStalled, and is retried like any other transient
	// fault. Time the program itself spends producing a request body or
	// between reads of a response body does not count.
	Idle time.Duration
}

// The default Timeouts.
const (
	DefaultHeaderTimeout = 60 * time.Second
	DefaultIdleTimeout   = 60 * time.Second
)

func (o Options) withDefaults() Options {
	if o.RetryMax == 0 {
		o.RetryMax = 5
	}
	if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	if o.WaitMin == 0 {
		o.WaitMin = 500 * time.Millisecond
	}
	if o.WaitMax == 0 {
		o.WaitMax = 10 * time.Second
	}
	if o.RetryAfterCap == 0 {
		o.RetryAfterCap = 30 * time.Second
	}
	if o.Header <= 0 {
		o.Header = DefaultHeaderTimeout
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdleTimeout
	}
	return o
}

// New returns a retrying client. Requests made through it should carry a context
// with a deadline; the client itself never waits longer than RetryAfterCap between
// two attempts.
func New(o Options) *retryablehttp.Client {
	o = o.withDefaults()
	c := retryablehttp.NewClient()
	hc := http.Client{}
	if o.Base != nil {
		hc = *o.Base
	}
	if hc.Transport == nil {
		// A plain client would use http.DefaultTransport, which waits
		// forever for a server that accepts and never answers.
		hc.Transport = defaultTransport(o.Header)
	}
	hc.Transport = &idleTransport{base: hc.Transport, idle: o.Idle}
	c.HTTPClient = &hc
	c.Logger = nil
	c.RetryMax = o.RetryMax
	c.RetryWaitMin = o.WaitMin
	c.RetryWaitMax = o.WaitMax
	c.Backoff = Backoff(o.RetryAfterCap)
	c.CheckRetry = CheckRetry
	// Give the caller the last response instead of a generic "giving up" error,
	// so status codes (429, 403, 409) stay visible to the protocol code.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c
}

// Backoff is exponential backoff between min and max that honours Retry-After on
// 429 and 503 responses, capped at retryAfterCap.
func Backoff(retryAfterCap time.Duration) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				if d > retryAfterCap {
					d = retryAfterCap
				}
				return d
			}
		}
		mult := math.Pow(2, float64(attempt)) * float64(min)
		d := time.Duration(mult)
		if float64(d) != mult || d > max {
			d = max
		}
		return d
	}
}

// RetryAfter parses a Retry-After header value (delay seconds or an HTTP date).
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// CheckRetry retries connection errors, 429 and 5xx (except 501), and never a
// cancelled context.
func CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// defaultTransport bounds the wait for a response's headers: a service that
// accepts a request and never answers costs header per attempt.
func defaultTransport(header time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = header
	t.MaxIdleConnsPerHost = 16
	return t
}
