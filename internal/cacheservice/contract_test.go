package cacheservice_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/httpx"
	"github.com/org/rustcache-action/internal/testkit"
)

// Small sizes so every threshold is crossed quickly.
const (
	testChunk   = 64 << 10
	testSegment = 16 << 10
)

// target is one fake service a client can be pointed at.
type target struct {
	proto   string
	ctl     *fakecache.Controls
	env     map[string]string
	entries func() []fakecache.Entry
	expire  func(n int) // next n signed URLs expired; nil when not supported
	v1      *fakecache.V1
	v2      *fakecache.V2
}

type targetMaker struct {
	name string
	make func(t *testing.T) *target
}

// azuriteOnce shares one azurite process among the tests of this package;
// TestMain stops it.
var (
	azuriteOnce sync.Once
	azurite     *fakecache.Azurite
	azuriteErr  error
)

func sharedAzurite(t *testing.T) *fakecache.Azurite {
	t.Helper()
	azuriteOnce.Do(func() { azurite, azuriteErr = fakecache.LaunchAzurite() })
	switch {
	case errors.Is(azuriteErr, fakecache.ErrNoAzurite):
		testkit.Missing(t, azuriteErr.Error())
	case azuriteErr != nil:
		t.Fatalf("start azurite: %v", azuriteErr)
	}
	return azurite
}

func makers() []targetMaker {
	v1 := func(t *testing.T) *target {
		f := fakecache.NewV1(t)
		return &target{proto: "v1", ctl: f.Controls, env: f.Env(), entries: f.Entries, v1: f}
	}
	v2 := func(store func(t *testing.T) fakecache.BlobStore) func(t *testing.T) *target {
		return func(t *testing.T) *target {
			f := fakecache.NewV2(t, store(t))
			return &target{proto: "v2", ctl: f.Controls, env: f.Env(), entries: f.Entries, expire: f.ExpireURLs, v2: f}
		}
	}
	return []targetMaker{
		{"v1", v1},
		{"v2-memblobs", v2(func(t *testing.T) fakecache.BlobStore { return fakecache.NewMemBlobs(t) })},
		{"v2-azurite", v2(func(t *testing.T) fakecache.BlobStore { return sharedAzurite(t) })},
	}
}

func testHTTP() httpxOptions {
	return httpxOptions{RetryMax: 3, WaitMin: 5 * time.Millisecond, WaitMax: 20 * time.Millisecond, RetryAfterCap: 2 * time.Second}
}

type httpxOptions = httpx.Options

func newClient(t *testing.T, env map[string]string, opts ...func(*cacheservice.Config)) cacheservice.Client {
	t.Helper()
	cfg := cacheservice.Config{
		Getenv:              func(k string) string { return env[k] },
		HTTP:                httpx.New(testHTTP()),
		UploadChunkSize:     testChunk,
		UploadConcurrency:   3,
		DownloadSegmentSize: testSegment,
		DownloadConcurrency: 4,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := cacheservice.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

const version = "3b6c2f2d0b8a5b8e1d5e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"

func save(t *testing.T, c cacheservice.Client, key string, data []byte) {
	t.Helper()
	n, err := c.Save(context.Background(), key, version, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Save(%q): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Save(%q) = %d bytes, want %d", key, n, len(data))
	}
}

func restore(t *testing.T, c cacheservice.Client, key string, restoreKeys ...string) (*cacheservice.Entry, []byte) {
	t.Helper()
	e, err := c.Lookup(context.Background(), key, restoreKeys, version)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", key, err)
	}
	if e == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	n, err := c.Download(context.Background(), e, &buf)
	if err != nil {
		t.Fatalf("Download(%q): %v", e.Key, err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Download reported %d bytes, wrote %d", n, buf.Len())
	}
	return e, buf.Bytes()
}

// TestContract runs the same behaviour checks against every protocol and
// blob store.
func TestContract(t *testing.T) {
	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel() // mostly waiting on Retry-After and delays
			for _, tc := range contractCases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, m.make(t))
				})
			}
		})
	}
}

var contractCases = []struct {
	name string
	run  func(t *testing.T, tg *target)
}{
	{"Protocol", func(t *testing.T, tg *target) {
		if got := newClient(t, tg.env).Protocol(); got != tg.proto {
			t.Errorf("Protocol() = %q, want %q", got, tg.proto)
		}
	}},
	{"Miss", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		save(t, c, "other-key", []byte("x"))
		e, err := c.Lookup(context.Background(), "rustcache-v1-linux", []string{"rustcache-v1-"}, version)
		if err != nil || e != nil {
			t.Fatalf("Lookup = %+v, %v; want a miss", e, err)
		}
		// Same key, other version: also a miss.
		e, err = c.Lookup(context.Background(), "other-key", nil, strings.Repeat("0", 64))
		if err != nil || e != nil {
			t.Fatalf("Lookup with another version = %+v, %v; want a miss", e, err)
		}
	}},
	{"ExactHit", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		data := payload(1000, 1)
		save(t, c, "rustcache-v1-linux-x64-abc-17-1", data)
		e, got := restore(t, c, "rustcache-v1-linux-x64-abc-17-1", "rustcache-v1-linux-x64-abc-")
		if e == nil || !e.Exact || e.Key != "rustcache-v1-linux-x64-abc-17-1" {
			t.Fatalf("entry = %+v, want an exact hit", e)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("restored bytes differ")
		}
		if e.Size != int64(len(data)) {
			t.Errorf("Size after download = %d, want %d", e.Size, len(data))
		}
	}},
	{"PrefixNewestFirst", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		save(t, c, "rustcache-v1-linux-abc-1-1", []byte("old"))
		save(t, c, "rustcache-v1-linux-abc-2-1", []byte("new"))
		save(t, c, "rustcache-v1-linux-zzz-3-1", []byte("other prefix, newest"))
		e, got := restore(t, c, "rustcache-v1-linux-abc-4-1", "rustcache-v1-linux-abc-", "rustcache-v1-linux-")
		if e == nil || e.Exact || e.Key != "rustcache-v1-linux-abc-2-1" || string(got) != "new" {
			t.Fatalf("entry = %+v (%q), want the newest entry of the first matching restore key", e, got)
		}
		// The primary key itself matches by prefix too.
		e, _ = restore(t, c, "rustcache-v1-linux-")
		if e == nil || e.Key != "rustcache-v1-linux-zzz-3-1" {
			t.Fatalf("prefix lookup of the primary key = %+v, want the newest entry", e)
		}
	}},
	{"RoundTripSizes", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		sizes := []int{0, 1, testSegment - 1, testSegment, testSegment + 1, testChunk - 1, testChunk, testChunk + 1, 3*testChunk + 5, 4 * testChunk}
		for i, n := range sizes {
			key := fmt.Sprintf("size-%d", n)
			data := payload(n, uint64(i))
			tg.ctl.ResetCounts()
			save(t, c, key, data)
			uploads, lists := tg.ctl.Count(fakecache.KindUpload), tg.ctl.Count(fakecache.KindBlockList)
			wantUploads := (n + testChunk - 1) / testChunk
			wantLists := 0
			if tg.proto == "v2" {
				if n < testChunk {
					wantUploads = 1 // one Put Blob, even for 0 bytes
				} else {
					wantLists = 1
				}
			}
			if uploads != wantUploads || lists != wantLists {
				t.Errorf("size %d: %d uploads and %d block lists, want %d and %d", n, uploads, lists, wantUploads, wantLists)
			}
			tg.ctl.ResetCounts()
			e, got := restore(t, c, key)
			if e == nil {
				t.Fatalf("size %d: miss after save", n)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d: restored %d bytes that differ from the %d saved", n, len(got), len(data))
			}
			if e.Size != int64(n) {
				t.Errorf("size %d: entry Size = %d", n, e.Size)
			}
			want := max(1, (n+testSegment-1)/testSegment)
			if n == 0 && tg.proto == "v2" {
				want = 2 // Azure answers 416 to a range of an empty blob
			}
			if downloads := tg.ctl.Count(fakecache.KindDownload); downloads != want {
				t.Errorf("size %d: %d download requests, want %d", n, downloads, want)
			}
		}
	}},
	{"AlreadyExists", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		save(t, c, "dup", []byte("first"))
		_, err := c.Save(context.Background(), "dup", version, strings.NewReader("second"))
		if !errors.Is(err, cacheservice.ErrAlreadyExists) {
			t.Fatalf("second Save: %v, want ErrAlreadyExists", err)
		}
		_, got := restore(t, c, "dup")
		if string(got) != "first" {
			t.Fatalf("restored %q, want the first save", got)
		}
	}},
	{"ThrottledThenOK", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		save(t, c, "k", []byte("v"))
		tg.ctl.ResetCounts()
		tg.ctl.Inject(fakecache.KindLookup,
			fakecache.Fault{Status: 429, RetryAfter: "1"},
			fakecache.Fault{Status: 429, RetryAfter: "1"})
		e, got := restore(t, c, "k")
		if e == nil || string(got) != "v" {
			t.Fatalf("restore after 429s = %+v %q", e, got)
		}
		reqs := lookups(tg.ctl)
		if len(reqs) != 3 {
			t.Fatalf("%d lookup requests, want 3", len(reqs))
		}
		// Retry-After: 1 was honoured (a lower bound, not a speed check).
		for i := 1; i < len(reqs); i++ {
			if gap := reqs[i].At.Sub(reqs[i-1].At); gap < 900*time.Millisecond {
				t.Errorf("retry %d came %v after the 429, before Retry-After", i, gap)
			}
		}
	}},
	{"ThrottledForever", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		tg.ctl.Always(fakecache.KindReserve, fakecache.Fault{Status: 429, RetryAfter: "1"})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := c.Save(ctx, "k", version, strings.NewReader("v"))
		if !errors.Is(err, cacheservice.ErrThrottled) {
			t.Fatalf("Save: %v, want ErrThrottled", err)
		}
		if n := tg.ctl.Count(fakecache.KindReserve); n != 4 {
			t.Errorf("%d reserve attempts, want 1 + RetryMax(3)", n)
		}
	}},
	{"ServerErrorsThenOK", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		data := payload(2*testChunk+3, 7)
		tg.ctl.Inject(fakecache.KindReserve, fakecache.Fault{Status: 503})
		tg.ctl.Inject(fakecache.KindUpload, fakecache.Fault{Status: 500}, fakecache.Fault{Status: 502}, fakecache.Fault{Status: 503})
		tg.ctl.Inject(fakecache.KindCommit, fakecache.Fault{Status: 502})
		save(t, c, "flaky", data)
		tg.ctl.Inject(fakecache.KindLookup, fakecache.Fault{Status: 500})
		tg.ctl.Inject(fakecache.KindDownload, fakecache.Fault{Status: 503}, fakecache.Fault{Reset: true}, fakecache.Fault{Status: 502})
		_, got := restore(t, c, "flaky")
		if !bytes.Equal(got, data) {
			t.Fatal("restored bytes differ")
		}
	}},
	{"StallsAreRetried", func(t *testing.T, tg *target) {
		// A service that accepts a request and never answers, and bodies
		// that stop in the middle, cost the idle timeout each and are
		// retried: a test deadline far above it is never reached.
		stallClient := func(cfg *cacheservice.Config) {
			o := testHTTP()
			o.Idle = 200 * time.Millisecond
			cfg.HTTP = httpx.New(o)
		}
		c := newClient(t, tg.env, stallClient)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		data := payload(3*testSegment+100, 11)
		tg.ctl.Inject(fakecache.KindUpload, fakecache.Fault{Delay: time.Hour})
		tg.ctl.Inject(fakecache.KindCommit, fakecache.Fault{Delay: time.Hour})
		if _, err := c.Save(ctx, "stalled", version, bytes.NewReader(data)); err != nil {
			t.Fatalf("Save: %v", err)
		}
		tg.ctl.ResetCounts()
		tg.ctl.Inject(fakecache.KindLookup, fakecache.Fault{Delay: time.Hour})
		tg.ctl.Inject(fakecache.KindDownload,
			fakecache.Fault{Stall: true, StallAt: 100},
			fakecache.Fault{Stall: true, StallAt: 0},
			fakecache.Fault{Stall: true, StallAt: testSegment / 2})
		e, err := c.Lookup(ctx, "stalled", nil, version)
		if err != nil || e == nil {
			t.Fatalf("Lookup = %+v, %v", e, err)
		}
		var buf bytes.Buffer
		if _, err := c.Download(ctx, e, &buf); err != nil {
			t.Fatalf("Download: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Fatal("restored bytes differ after stalled bodies")
		}
		if n, want := tg.ctl.Count(fakecache.KindDownload), 4+3; n < want {
			t.Errorf("%d download requests, want at least %d (three stalled and tried again)", n, want)
		}
		if ctx.Err() != nil {
			t.Errorf("only the test's deadline ended a stall")
		}
	}},
	{"BrokenBodies", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		data := payload(3*testSegment+100, 9)
		save(t, c, "broken", data)
		tg.ctl.Inject(fakecache.KindDownload,
			fakecache.Fault{Truncate: true, TruncateAt: 100},
			fakecache.Fault{Truncate: true, TruncateAt: 0},
			fakecache.Fault{Reset: true})
		_, got := restore(t, c, "broken")
		if !bytes.Equal(got, data) {
			t.Fatal("restored bytes differ after truncated bodies")
		}
	}},
	{"FlippedByte", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		data := payload(2*testSegment, 11)
		save(t, c, "flip", data)
		tg.ctl.Inject(fakecache.KindDownload, fakecache.Fault{Flip: true, FlipAt: 5})
		_, got := restore(t, c, "flip")
		if tg.proto == "v2" {
			// Azure returns the MD5 of each range: the corruption is caught
			// and the range fetched again.
			if !bytes.Equal(got, data) {
				t.Fatal("v2: a flipped byte got through the range MD5 check")
			}
		} else if bytes.Equal(got, data) || len(got) != len(data) {
			// v1 storage gives no checksum: the archive layer must notice.
			t.Fatal("v1: expected the flipped byte to pass through unnoticed")
		}
	}},
	{"ExpiredDownloadURL", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		data := payload(3*testSegment, 13)
		save(t, c, "exp", data)
		if tg.expire != nil {
			tg.expire(1) // the URL the next lookup hands out
		} else {
			tg.ctl.Inject(fakecache.KindDownload, fakecache.Fault{Status: 403})
		}
		tg.ctl.ResetCounts()
		_, got := restore(t, c, "exp")
		if !bytes.Equal(got, data) {
			t.Fatal("restored bytes differ")
		}
		if n := tg.ctl.Count(fakecache.KindLookup); n != 2 {
			t.Errorf("%d lookups, want 2 (one to renew the URL)", n)
		}
		// A URL that stays refused ends in ErrForbidden.
		tg.ctl.Always(fakecache.KindDownload, fakecache.Fault{Status: 403})
		e, err := c.Lookup(context.Background(), "exp", nil, version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Download(context.Background(), e, io.Discard); !errors.Is(err, cacheservice.ErrForbidden) {
			t.Fatalf("Download with a refused URL: %v, want ErrForbidden", err)
		}
	}},
	{"ExpiredUploadURL", func(t *testing.T, tg *target) {
		if tg.expire == nil {
			t.Skip("v1 uploads go to the service, not to signed URLs")
		}
		c := newClient(t, tg.env)
		for i, n := range []int{10, 2*testChunk + 1} {
			key := fmt.Sprintf("exp-up-%d", i)
			data := payload(n, 15)
			tg.expire(1)
			tg.ctl.ResetCounts()
			save(t, c, key, data)
			if r := tg.ctl.Count(fakecache.KindReserve); r != 2 {
				t.Errorf("size %d: %d CreateCacheEntry calls, want 2 (one to renew the URL)", n, r)
			}
			_, got := restore(t, c, key)
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d: restored bytes differ", n)
			}
		}
	}},
	{"ContextCancel", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		save(t, c, "slow", payload(3*testSegment, 17))
		tg.ctl.Always(fakecache.KindDownload, fakecache.Fault{Delay: time.Minute})
		e, err := c.Lookup(context.Background(), "slow", nil, version)
		if err != nil || e == nil {
			t.Fatalf("Lookup: %+v %v", e, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = c.Download(ctx, e, io.Discard)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Download: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Download returned %v after its deadline", d)
		}
		tg.ctl.ClearFaults()
		tg.ctl.Always(fakecache.KindUpload, fakecache.Fault{Delay: time.Minute})
		ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel2()
		if _, err := c.Save(ctx2, "slow-save", version, bytes.NewReader(payload(2*testChunk, 1))); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Save: %v, want DeadlineExceeded", err)
		}
		ctx3, cancel3 := context.WithCancel(context.Background())
		cancel3()
		if _, err := c.Lookup(ctx3, "slow", nil, version); !errors.Is(err, context.Canceled) {
			t.Fatalf("Lookup with a cancelled context: %v", err)
		}
	}},
	{"ReaderFailsNoCommit", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		boom := errors.New("compressor failed")
		r := io.MultiReader(bytes.NewReader(payload(2*testChunk+10, 3)), &failingReader{boom})
		_, err := c.Save(context.Background(), "half", version, r)
		if !errors.Is(err, boom) {
			t.Fatalf("Save: %v, want the reader's error", err)
		}
		for _, e := range tg.entries() {
			if e.Complete {
				t.Fatalf("entry %q was committed after the stream failed", e.Key)
			}
		}
		if n := tg.ctl.Count(fakecache.KindCommit); n != 0 {
			t.Errorf("%d commit requests after a failed stream", n)
		}
	}},
	{"CreateRefused", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		body := `{"ok":false,"message":"cache storage quota reached"}`
		status := 200
		if tg.proto == "v1" {
			body, status = `{"message":"Cache size of ~11000 MB is over the 10GB limit"}`, 400
		}
		tg.ctl.Inject(fakecache.KindReserve, fakecache.Fault{Status: status, Body: body})
		_, err := c.Save(context.Background(), "refused", version, strings.NewReader("x"))
		if !errors.Is(err, cacheservice.ErrRefused) || errors.Is(err, cacheservice.ErrAlreadyExists) {
			t.Fatalf("Save: %v, want ErrRefused", err)
		}
		if n := tg.ctl.Count(fakecache.KindUpload); n != 0 {
			t.Errorf("%d uploads after a refused reservation", n)
		}
	}},
	{"Forbidden", func(t *testing.T, tg *target) {
		c := newClient(t, tg.env)
		tg.ctl.Inject(fakecache.KindReserve, fakecache.Fault{Status: 403, Body: `{"code":"permission_denied","msg":"read-only token"}`})
		_, err := c.Save(context.Background(), "ro", version, strings.NewReader("x"))
		if !errors.Is(err, cacheservice.ErrForbidden) {
			t.Fatalf("Save: %v, want ErrForbidden", err)
		}
	}},
	{"TokenOnlyWhenPresent", func(t *testing.T, tg *target) {
		check := func(env map[string]string, want string) {
			t.Helper()
			tg.ctl.ResetCounts()
			c := newClient(t, env)
			key := fmt.Sprintf("tok-%q", want)
			if tg.v2 != nil {
				tg.v2.Token = strings.TrimPrefix(want, "Bearer ")
			}
			save(t, c, key, []byte("data"))
			restore(t, c, key)
			for _, r := range tg.ctl.Requests() {
				storage := r.Kind == fakecache.KindDownload || (tg.proto == "v2" && (r.Kind == fakecache.KindUpload || r.Kind == fakecache.KindBlockList))
				switch {
				case storage && r.Authorization != "":
					t.Errorf("%s %s carried Authorization to storage", r.Method, r.Kind)
				case !storage && r.Authorization != want:
					t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.Kind, r.Authorization, want)
				}
			}
		}
		env := copyEnv(tg.env)
		delete(env, "ACTIONS_RUNTIME_TOKEN")
		check(env, "")
		env["ACTIONS_RUNTIME_TOKEN"] = "some-token"
		check(env, "Bearer some-token")
	}},
	{"NoSecretsInErrors", func(t *testing.T, tg *target) {
		const secret = "s3cr3t-runtime-token"
		env := copyEnv(tg.env)
		env["ACTIONS_RUNTIME_TOKEN"] = secret
		if tg.v2 != nil {
			tg.v2.Token = secret
		}
		c := newClient(t, env)
		save(t, c, "sec", payload(3*testSegment, 2))
		var errs []error
		tg.ctl.Always(fakecache.KindLookup, fakecache.Fault{Status: 500, Body: `{"msg":"internal"}`})
		_, err := c.Lookup(context.Background(), "sec", nil, version)
		errs = append(errs, err)
		tg.ctl.ClearFaults()
		e, err := c.Lookup(context.Background(), "sec", nil, version)
		if err != nil {
			t.Fatal(err)
		}
		tg.ctl.Always(fakecache.KindDownload, fakecache.Fault{Reset: true})
		_, err = c.Download(context.Background(), e, io.Discard)
		errs = append(errs, err)
		tg.ctl.Always(fakecache.KindDownload, fakecache.Fault{Status: 400})
		_, err = c.Download(context.Background(), e, io.Discard)
		errs = append(errs, err)
		tg.ctl.Always(fakecache.KindUpload, fakecache.Fault{Reset: true})
		_, err = c.Save(context.Background(), "sec2", version, strings.NewReader("x"))
		errs = append(errs, err)
		for i, err := range errs {
			if err == nil {
				t.Fatalf("case %d: no error", i)
			}
			msg := err.Error()
			for _, bad := range []string{secret, "sig=", "Bearer", "se="} {
				if strings.Contains(msg, bad) {
					t.Errorf("case %d: error %q contains %q", i, msg, bad)
				}
			}
		}
	}},
}

func lookups(ctl *fakecache.Controls) []fakecache.Request {
	var out []fakecache.Request
	for _, r := range ctl.Requests() {
		if r.Kind == fakecache.KindLookup {
			out = append(out, r)
		}
	}
	return out
}

func copyEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }
