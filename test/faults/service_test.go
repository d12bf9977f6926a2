package faults_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/fakecache"
	jobpkg "github.com/org/rustcache-action/internal/job"
)

// outcome is what a step must leave behind.
type outcome int

const (
	// restored: the cache directory holds exactly the entry (restore), or
	// the service holds exactly one complete entry that restores to the
	// cache directory (save).
	restored outcome = iota + 1
	// untouched: the cache directory is exactly what it was before the
	// step (restore), or the service holds no entry and a later restore is
	// a miss (save).
	untouched
)

func (o outcome) String() string {
	if o == restored {
		return "restored"
	}
	return "untouched"
}

// faultCase is one row of the service-fault table.
type faultCase struct {
	name string
	step string  // "restore" or "save"
	only []proto // protocols the case applies to; nil: both
	// arrange injects the faults.
	arrange func(s *service)
	// want is the outcome, per protocol when they differ.
	want   outcome
	wantV1 outcome
	wantV2 outcome
	// warn matches the single warning a failing case prints (what
	// happened); a case that survives its fault prints none.
	warn string
	// notice matches a notice the step must print instead of a warning.
	notice string
	// timeout replaces stepTimeout (for services that never answer).
	timeout time.Duration
	// check looks at the service's requests afterwards.
	check func(t *testing.T, s *service)
}

func (c faultCase) outcome(p proto) outcome {
	switch {
	case p == v1 && c.wantV1 != 0:
		return c.wantV1
	case p == v2 && c.wantV2 != 0:
		return c.wantV2
	}
	return c.want
}

func (c faultCase) applies(p proto) bool {
	if len(c.only) == 0 {
		return true
	}
	for _, q := range c.only {
		if q == p {
			return true
		}
	}
	return false
}

// hang is a fault for a service that accepts the request and never answers
// (the fake gives up when the client goes away).
var hang = fakecache.Fault{Delay: time.Hour}

// ok2xxFalse is a v2 twirp answer declining the request.
func okFalse(msg string) fakecache.Fault {
	return fakecache.Fault{Status: http.StatusOK, Body: `{"ok":false,"message":"` + msg + `"}`}
}

// gapAtLeast checks that the second request of kind k came at least d after
// the first (a Retry-After was honoured).
func gapAtLeast(k fakecache.Kind, d time.Duration) func(t *testing.T, s *service) {
	return func(t *testing.T, s *service) {
		t.Helper()
		var at []time.Time
		for _, r := range s.Requests() {
			if r.Kind == k {
				at = append(at, r.At)
			}
		}
		if len(at) < 2 {
			t.Fatalf("%d %s requests, want a retry", len(at), k)
		}
		if gap := at[1].Sub(at[0]); gap < d {
			t.Errorf("retried %s after %v, before the Retry-After of %v", k, gap.Round(time.Millisecond), d)
		}
	}
}

// countAtMost checks that a step gave up after a bounded number of tries.
func countAtMost(k fakecache.Kind, n int) func(t *testing.T, s *service) {
	return func(t *testing.T, s *service) {
		t.Helper()
		if c := s.Count(k); c > n {
			t.Errorf("%d %s requests, want at most %d", c, k, n)
		}
	}
}

// faultCases are the service faults, for restore and for save.
var faultCases = []faultCase{
	// Restore: the lookup.
	{name: "lookup 429 Retry-After 1 then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindLookup, fakecache.Fault{Status: 429, RetryAfter: "1"})
		},
		check: gapAtLeast(fakecache.KindLookup, 900*time.Millisecond)},
	{name: "lookup 429 forever", step: "restore", want: untouched, warn: `429|rate limit`,
		arrange: func(s *service) {
			s.Always(fakecache.KindLookup, fakecache.Fault{Status: 429, RetryAfter: "1"})
		},
		check: countAtMost(fakecache.KindLookup, 6)},
	{name: "lookup 429 Retry-After one hour", step: "restore", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) {
			s.Always(fakecache.KindLookup, fakecache.Fault{Status: 429, RetryAfter: "3600"})
		}},
	{name: "lookup 500 then ok", step: "restore", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindLookup, fakecache.Fault{Status: 500}) }},
	{name: "lookup 502 then ok", step: "restore", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindLookup, fakecache.Fault{Status: 502}) }},
	{name: "lookup 503 Retry-After 1 then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindLookup, fakecache.Fault{Status: 503, RetryAfter: "1"})
		},
		check: gapAtLeast(fakecache.KindLookup, 900*time.Millisecond)},
	{name: "lookup reset then ok", step: "restore", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindLookup, fakecache.Fault{Reset: true}) }},
	{name: "lookup never answers", step: "restore", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindLookup, hang) }},
	{name: "lookup 401 expired token", step: "restore", want: untouched, warn: `401|refused`,
		arrange: func(s *service) {
			s.Always(fakecache.KindLookup, fakecache.Fault{Status: 401, Body: `{"message":"token expired"}`})
		}},
	{name: "lookup garbage answer", step: "restore", want: untouched, warn: `decode|answer`,
		arrange: func(s *service) {
			s.Always(fakecache.KindLookup, fakecache.Fault{Status: 200, Body: `{"ok":tru`})
		}},

	// Restore: the download.
	{name: "download 500 then ok", step: "restore", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindDownload, fakecache.Fault{Status: 500}) }},
	{name: "download 503 Retry-After 1 then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindDownload, fakecache.Fault{Status: 503, RetryAfter: "1"})
		}},
	{name: "download reset then ok", step: "restore", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindDownload, fakecache.Fault{Reset: true}) }},
	{name: "download reset in a later segment then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindDownload, fakecache.Fault{}, fakecache.Fault{Reset: true})
		}},
	{name: "download reset forever", step: "restore", want: untouched, warn: `time|deadline|reset`, timeout: 3 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindDownload, fakecache.Fault{Reset: true}) }},
	{name: "download truncated then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindDownload, fakecache.Fault{Truncate: true, TruncateAt: 100_000})
		}},
	{name: "download truncated forever", step: "restore", want: untouched, warn: `EOF|ended|bytes`,
		arrange: func(s *service) {
			s.Always(fakecache.KindDownload, fakecache.Fault{Truncate: true, TruncateAt: 100_000})
		}},
	// v1 has no checksum per range: the zstd frame checksum catches the
	// flip. v2 ranges carry an MD5 and the range is fetched again.
	{name: "download flipped byte once", step: "restore", wantV1: untouched, wantV2: restored, warn: `rejected|corrupt|checksum`,
		arrange: func(s *service) {
			s.Inject(fakecache.KindDownload, fakecache.Fault{Flip: true, FlipAt: 200_000})
		}},
	{name: "download flipped byte forever", step: "restore", want: untouched, warn: `rejected|corrupt|checksum|MD5`,
		arrange: func(s *service) {
			s.Always(fakecache.KindDownload, fakecache.Fault{Flip: true, FlipAt: 200_000})
		}},
	{name: "download flipped zstd header", step: "restore", want: untouched, warn: `rejected|corrupt|magic|MD5`,
		arrange: func(s *service) {
			s.Always(fakecache.KindDownload, fakecache.Fault{Flip: true, FlipAt: 1})
		}},
	{name: "download 403 once (expired URL) then ok", step: "restore", want: restored,
		arrange: func(s *service) {
			if s.v2 != nil {
				s.v2.ExpireURLs(1)
				return
			}
			s.Inject(fakecache.KindDownload, fakecache.Fault{Status: 403})
		},
		check: func(t *testing.T, s *service) {
			// One lookup, one renewal.
			if n := s.Count(fakecache.KindLookup); n != 2 {
				t.Errorf("%d lookups, want 2 (the lookup and one renewal of the URL)", n)
			}
		}},
	{name: "download 403 forever", step: "restore", want: untouched, warn: `403|refused`,
		arrange: func(s *service) { s.Always(fakecache.KindDownload, fakecache.Fault{Status: 403}) },
		check:   countAtMost(fakecache.KindLookup, 2)},
	{name: "download 404 entry gone", step: "restore", want: untouched, warn: `404`,
		arrange: func(s *service) { s.Always(fakecache.KindDownload, fakecache.Fault{Status: 404}) }},
	{name: "download never answers", step: "restore", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindDownload, hang) }},
	{name: "download slow but within the timeout", step: "restore", want: restored,
		arrange: func(s *service) {
			s.Always(fakecache.KindDownload, fakecache.Fault{Delay: 300 * time.Millisecond})
		}},

	// Save: creating the entry.
	{name: "reserve 429 Retry-After 1 then ok", step: "save", want: restored,
		arrange: func(s *service) {
			s.Inject(fakecache.KindReserve, fakecache.Fault{Status: 429, RetryAfter: "1"})
		},
		check: gapAtLeast(fakecache.KindReserve, 900*time.Millisecond)},
	{name: "reserve 429 forever", step: "save", want: untouched, warn: `429|rate limit`,
		arrange: func(s *service) {
			s.Always(fakecache.KindReserve, fakecache.Fault{Status: 429, RetryAfter: "1"})
		},
		check: countAtMost(fakecache.KindReserve, 6)},
	{name: "reserve 500 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindReserve, fakecache.Fault{Status: 500}) }},
	{name: "reserve 502 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindReserve, fakecache.Fault{Status: 502}) }},
	{name: "reserve 503 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindReserve, fakecache.Fault{Status: 503, RetryAfter: "1"}) }},
	{name: "reserve 409 already exists", step: "save", want: untouched, notice: `already exists|another job`,
		arrange: func(s *service) {
			s.Always(fakecache.KindReserve, fakecache.Fault{Status: 409, Body: `{"code":"already_exists","msg":"cache entry with the same key, version, and scope already exists","message":"Cache already exists."}`})
		}},
	{name: "reserve 403 read-only token", step: "save", want: untouched, warn: `403|refused`,
		arrange: func(s *service) {
			s.Always(fakecache.KindReserve, fakecache.Fault{Status: 403, Body: `{"code":"permission_denied","msg":"read-only token","message":"read-only token"}`})
		}},
	{name: "reserve ok false", step: "save", only: []proto{v2}, want: untouched, warn: `declined|quota`,
		arrange: func(s *service) { s.Always(fakecache.KindReserve, okFalse("over the repository quota")) }},
	{name: "reserve never answers", step: "save", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindReserve, hang) }},

	// Save: the bytes.
	{name: "upload reset then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindUpload, fakecache.Fault{Reset: true}) }},
	{name: "upload 500 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindUpload, fakecache.Fault{Status: 500}) }},
	{name: "upload 502 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindUpload, fakecache.Fault{Status: 502}) }},
	{name: "upload 503 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindUpload, fakecache.Fault{Status: 503, RetryAfter: "1"}) }},
	{name: "upload reset forever", step: "save", want: untouched, warn: `time|deadline|reset`, timeout: 3 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindUpload, fakecache.Fault{Reset: true}) }},
	{name: "upload never answers", step: "save", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindUpload, hang) }},
	{name: "upload 403 once (expired URL) then ok", step: "save", only: []proto{v2}, want: restored,
		arrange: func(s *service) { s.v2.ExpireURLs(1) },
		check: func(t *testing.T, s *service) {
			if n := s.Count(fakecache.KindReserve); n != 2 {
				t.Errorf("%d CreateCacheEntry calls, want 2 (one renewal of the URL)", n)
			}
		}},
	{name: "upload 403 forever", step: "save", want: untouched, warn: `403|refused`,
		arrange: func(s *service) { s.Always(fakecache.KindUpload, fakecache.Fault{Status: 403}) },
		check:   countAtMost(fakecache.KindReserve, 2)},

	// Save: committing.
	{name: "commit 500 then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindCommit, fakecache.Fault{Status: 500}) }},
	{name: "commit reset then ok", step: "save", want: restored,
		arrange: func(s *service) { s.Inject(fakecache.KindCommit, fakecache.Fault{Reset: true}) }},
	{name: "commit never answers", step: "save", want: untouched, warn: `time|deadline`, timeout: 2 * time.Second,
		arrange: func(s *service) { s.Always(fakecache.KindCommit, hang) }},
	{name: "commit ok false", step: "save", only: []proto{v2}, want: untouched, warn: `declined|size`,
		arrange: func(s *service) { s.Always(fakecache.KindCommit, okFalse("uploaded blob has the wrong size")) }},
	{name: "commit 400", step: "save", only: []proto{v1}, want: untouched, warn: `400`,
		arrange: func(s *service) {
			s.Always(fakecache.KindCommit, fakecache.Fault{Status: 400, Body: `{"message":"size does not match"}`})
		}},
}

// faultsInjected counts the fault cases run, for the suite's summary.
var faultsInjected atomic.Int64

// TestServiceFaults runs every fault case against both protocols, once with
// the default (warn) and once with fail-on-cache-error: true.
func TestServiceFaults(t *testing.T) {
	for _, c := range faultCases {
		for _, p := range protos {
			if !c.applies(p) {
				continue
			}
			for _, strict := range []bool{false, true} {
				if strict && c.outcome(p) != untouched {
					continue // fail-on-cache-error changes nothing when the step survives
				}
				mode := "warn"
				if strict {
					mode = "strict"
				}
				t.Run(c.step+"/"+string(p)+"/"+c.name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					faultsInjected.Add(1)
					runFaultCase(t, c, p, strict)
				})
			}
		}
	}
}

func runFaultCase(t *testing.T, c faultCase, p proto, strict bool) {
	svc := newService(t, p)
	j := newJob(t, svc, nil)
	var before map[string]string
	switch c.step {
	case "restore":
		j.seed(sampleArchive(t))
		writeTree(t, j.cacheDir, map[string][]byte{"0/1/previous-entry": []byte("from an earlier step")})
	case "save":
		j.keys()
		j.fill()
	}
	before = tree(t, j.cacheDir)
	if c.timeout > 0 {
		j.r.Env[jobpkg.TimeoutVar] = c.timeout.String()
	}
	c.arrange(svc)
	in := map[string]string{}
	if strict {
		in["fail-on-cache-error"] = "true"
	}
	s := j.run(c.step, in)

	// The annotations: one warning for a fault the step did not survive,
	// or with fail-on-cache-error an error and a failed step.
	warns, errs, notices := s.Annotations("warning"), s.Annotations("error"), s.Annotations("notice")
	faulted := c.warn != "" && c.outcome(p) == untouched
	wantCode := 0
	if faulted && strict {
		wantCode = 1
	}
	if s.Code != wantCode {
		t.Errorf("exit %d, want %d\n%s", s.Code, wantCode, s.Stdout)
	}
	var said []string
	switch {
	case !faulted:
		if len(warns) != 0 || len(errs) != 0 {
			t.Errorf("the step survived the fault but printed warnings %q errors %q", warns, errs)
		}
	case strict:
		if len(warns) != 0 || len(errs) == 0 {
			t.Errorf("with fail-on-cache-error: warnings %q errors %q, want errors only", warns, errs)
		}
		said = errs
	default:
		if len(warns) != 1 || len(errs) != 0 {
			t.Errorf("warnings %q errors %q, want exactly one warning", warns, errs)
		}
		said = warns
	}
	if faulted && len(said) > 0 {
		msg := strings.Join(said, "\n")
		t.Logf("%s", msg)
		if !regexp.MustCompile("(?i)" + c.warn).MatchString(msg) {
			t.Errorf("the annotation does not say what happened (/%s/): %q", c.warn, msg)
		}
		checkHint(t, msg)
		if strict && !strings.Contains(msg, "fail-on-cache-error") {
			t.Errorf("the error does not say fail-on-cache-error made the step fail: %q", msg)
		}
	}
	if c.notice != "" && !regexp.MustCompile("(?i)"+c.notice).MatchString(strings.Join(notices, "\n")) {
		t.Errorf("no notice matching /%s/ in %q", c.notice, notices)
	}

	// What is left behind.
	want := c.outcome(p)
	got := tree(t, j.cacheDir)
	switch {
	case c.step == "restore" && want == restored:
		if d := treeDiff(sampleTree(t), got); d != "" {
			t.Errorf("cache dir is not the restored entry (-want +got):\n%s", d)
		}
		if s.Outputs["cache-matched-key"] == "" {
			t.Errorf("outputs = %v, want a matched key", s.Outputs)
		}
	case c.step == "restore":
		if d := treeDiff(before, got); d != "" {
			t.Errorf("a failed restore changed the cache dir (-before +after):\n%s", d)
		}
		if wantCode == 0 && s.Outputs["cache-matched-key"] != "" {
			t.Errorf("outputs = %v, want no matched key", s.Outputs)
		}
	case c.step == "save":
		if d := treeDiff(before, got); d != "" {
			t.Errorf("save changed the cache dir (-before +after):\n%s", d)
		}
		checkSaved(t, j, want, s.Outputs)
	}
	j.checkNoLeftovers()
	if c.check != nil {
		c.check(t, svc)
	}
}

// hintRE matches the advice a fault annotation must give the user: what
// the fault means for later runs, or what to change.
var hintRE = regexp.MustCompile(`a later run tries again|raise timeout-minutes|lower cache-size|Actions › Caches`)

// checkHint fails when a fault annotation says what happened but not what
// the user can do.
func checkHint(t *testing.T, msg string) {
	t.Helper()
	if !hintRE.MatchString(msg) {
		t.Errorf("the annotation gives the user no advice: %q", msg)
	}
}

// checkSaved checks the service after a save: one complete entry that
// restores to exactly the cache directory, or none at all.
func checkSaved(t *testing.T, j *job, want outcome, outputs map[string]string) {
	t.Helper()
	entries := j.svc.complete()
	switch want {
	case restored:
		if len(entries) != 1 || outputs["saved"] != "true" {
			t.Fatalf("service holds %d complete entries, outputs %v; want one saved entry", len(entries), outputs)
		}
	case untouched:
		if len(entries) != 0 || outputs["saved"] == "true" {
			t.Fatalf("service holds %d complete entries, outputs %v; want none", len(entries), outputs)
		}
	}
	// Whatever the service holds must restore whole: restore into the same
	// root after emptying the cache dir.
	j.svc.ClearFaults()
	keep := tree(t, j.cacheDir)
	if err := removeContents(j.cacheDir); err != nil {
		t.Fatal(err)
	}
	s := j.run("restore", nil)
	if s.Code != 0 || len(s.Annotations("warning")) != 0 {
		t.Fatalf("restore after save: exit %d\n%s", s.Code, s.Stdout)
	}
	got := tree(t, j.cacheDir)
	if want == restored {
		if d := treeDiff(keep, got); d != "" {
			t.Errorf("the saved entry does not restore to the saved directory (-saved +restored):\n%s", d)
		}
	} else if len(got) != 0 {
		t.Errorf("nothing was saved, yet a restore brought back %v", names(got))
	}
}

// TestNoCacheService: no cache-service variables reach the steps (macOS and
// Windows runners without the credentials step, a local runner without a
// cache server). restore and save each say so once, pointing at the README,
// and exit 0 (1 with fail-on-cache-error); sccache is still set up.
func TestNoCacheService(t *testing.T) {
	for _, strict := range []string{"false", "true"} {
		t.Run("fail-on-cache-error="+strict, func(t *testing.T) {
			t.Parallel()
			faultsInjected.Add(1)
			j := newJob(t, nil, nil)
			j.fill()
			before := tree(t, j.cacheDir)
			for _, step := range []string{"restore", "save"} {
				s := j.run(step, map[string]string{"fail-on-cache-error": strict})
				said := s.Annotations("warning")
				wantCode := 0
				if strict == "true" {
					said, wantCode = s.Annotations("error"), 1
				}
				if s.Code != wantCode || len(said) != 1 {
					t.Errorf("%s: exit %d, annotations %q; want exit %d and one\n%s", step, s.Code, said, wantCode, s.Stdout)
					continue
				}
				if !strings.Contains(said[0], "cache persistence is off") || !strings.Contains(said[0], "Runtime credentials") {
					t.Errorf("%s: %q does not say persistence is off and where to read how to turn it on", step, said[0])
				}
			}
			if d := treeDiff(before, tree(t, j.cacheDir)); d != "" {
				t.Errorf("the cache dir changed (-before +after):\n%s", d)
			}
			j.checkNoLeftovers()
		})
	}
}
