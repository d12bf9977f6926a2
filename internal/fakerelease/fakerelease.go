// Package fakerelease is a fake GitHub for tests that install sccache: an
// httptest server on 127.0.0.1 serving mozilla/sccache release assets built
// at test time from a real binary, their .sha256 files, and the REST API's
// "latest release" endpoint, with request counters and fault injection.
//
// Point GITHUB_SERVER_URL at ServerURL() and GITHUB_API_URL at APIURL().
// Assets are laid out like the real ones: sccache-<tag>-<target>.tar.gz (and
// a .zip for Windows targets) holding sccache-<tag>-<target>/sccache[.exe],
// README.md and LICENSE.
package fakerelease

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/testkit"
)

// DefaultVersion is the release served when Options.Versions is empty. It is
// deliberately not the version release.DefaultVersion pins, whose real
// archives the fake cannot reproduce.
const DefaultVersion = "v0.4.0-fake.1"

const (
	downloadPrefix = "/mozilla/sccache/releases/download/"
	apiPrefix      = "/api/v3"
	latestPath     = apiPrefix + "/repos/mozilla/sccache/releases/latest"
)

// Options configure a Server. The zero value serves DefaultVersion for every
// target from the sccache found on PATH.
type Options struct {
	// Binary is packaged as sccache (sccache.exe for Windows targets). Empty
	// means the sccache on PATH, via testkit.NeedTool: the test is skipped
	// (or fails under CI) when there is none.
	Binary string
	// Versions are the release tags served (default {DefaultVersion}).
	Versions []string
	// Latest is the tag the latest-release endpoint names (default the last
	// of Versions). NoLatest makes that endpoint answer 404.
	Latest   string
	NoLatest bool
	// Targets are the release targets served (default all of arch.Targets).
	Targets []string
}

// Fault is a way a request can go wrong.
type Fault int

const (
	// NotFound answers 404.
	NotFound Fault = iota + 1
	// ServerError answers 500.
	ServerError
	// Truncated promises the whole body in Content-Length, sends half of
	// it, then drops the connection.
	Truncated
	// WrongChecksum serves, for a .sha256 file, the digest of other bytes.
	WrongChecksum
	// Corrupt serves the file with one byte changed (and the .sha256 file
	// still describing the original).
	Corrupt
	// RateLimited answers 403 with X-RateLimit-Remaining: 0, as the REST
	// API does when the rate limit is exhausted.
	RateLimited
	// Hang accepts the request and never answers (until the client goes
	// away or the test ends).
	Hang
	// Stall sends the headers and half of the body, then nothing more,
	// keeping the connection open (a half-open connection, a hung proxy).
	Stall
)

// Request is one request the server received.
type Request struct {
	Method, Path  string
	Authorization string // the Authorization header, if any
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	t       testing.TB
	srv     *httptest.Server
	binary  []byte
	binSum  [sha256.Size]byte
	targets []string

	stop chan struct{} // closed when the test ends: hanging handlers return

	mu        sync.Mutex
	versions  map[string]bool
	latest    string
	noLatest  bool
	overrides map[string][]byte // "<tag>/<asset>" → archive bytes
	faults    map[string]*fault // file name (or LatestName) → fault
	requests  []Request
	counts    map[string]int // file name (or LatestName) → requests
	allowed   []string       // path prefixes of unknown requests the test declared
}

type fault struct {
	kind  Fault
	times int // remaining; < 0 means every time
	fired int
}

// LatestName is the name Fail and Count use for the latest-release endpoint.
const LatestName = "releases/latest"

// New starts a fake server, closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = testkit.NeedTool(t, "sccache")
	}
	data, err := readBinary(bin)
	if err != nil {
		t.Fatalf("fakerelease: %v", err)
	}
	versions := opts.Versions
	if len(versions) == 0 {
		versions = []string{DefaultVersion}
	}
	s := &Server{
		t:         t,
		binary:    data,
		binSum:    sha256.Sum256(data),
		targets:   opts.Targets,
		versions:  map[string]bool{},
		latest:    opts.Latest,
		noLatest:  opts.NoLatest,
		overrides: map[string][]byte{},
		faults:    map[string]*fault{},
		counts:    map[string]int{},
		stop:      make(chan struct{}),
	}
	if len(s.targets) == 0 {
		s.targets = arch.Targets()
	}
	for _, v := range versions {
		s.versions[v] = true
	}
	if s.latest == "" {
		s.latest = versions[len(versions)-1]
	}
	// Registered before the server's Close, so it runs after it: no request
	// is in flight any more.
	t.Cleanup(s.verify)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.stop) }) // before Close, which waits for handlers
	return s
}

// Allow declares requests the server does not know (a release, asset or path
// it does not serve) that the test sends on purpose: they are answered 404
// instead of failing the test.
func (s *Server) Allow(pathPrefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed = append(s.allowed, pathPrefix)
}

// unknown answers a request the server does not know with 404 and fails the
// test unless Allow declared it, as cli/cli's httpmock does.
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := slices.ContainsFunc(s.allowed, func(p string) bool { return strings.HasPrefix(r.URL.Path, p) })
	s.mu.Unlock()
	if !ok {
		s.t.Errorf("fakerelease: unexpected request %s %s (declare it with Allow if the test sends it on purpose)", r.Method, r.URL.RequestURI())
	}
	notFound(w)
}

// verify fails the test for every fault set with Fail that did not fire as
// often as it was told to (or, for every request, not once).
func (s *Server) verify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.faults))
	for n := range s.faults {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		switch f := s.faults[n]; {
		case f.times > 0:
			s.t.Errorf("fakerelease: fault %d for %s fired %d times, %d more never did", f.kind, n, f.fired, f.times)
		case f.times < 0 && f.fired == 0:
			s.t.Errorf("fakerelease: fault %d for every request of %s never fired", f.kind, n)
		}
	}
}

// ServerURL is the value for GITHUB_SERVER_URL.
func (s *Server) ServerURL() string { return s.srv.URL }

// APIURL is the value for GITHUB_API_URL (GHES-style, with /api/v3).
func (s *Server) APIURL() string { return s.srv.URL + apiPrefix }

// DownloadBase is the URL prefix assets are served under; with a tag and an
// asset name appended it is an asset's URL.
func (s *Server) DownloadBase() string { return s.srv.URL + strings.TrimSuffix(downloadPrefix, "/") }

// Binary returns the bytes packaged as the sccache binary.
func (s *Server) Binary() []byte { return s.binary }

// Archive returns the bytes served for an asset of a release, built on first
// use; ok is false when the server does not have it.
func (s *Server) Archive(tag, asset string) ([]byte, bool) {
	s.mu.Lock()
	data, ok := s.overrides[tag+"/"+asset]
	known := s.versions[tag]
	s.mu.Unlock()
	if ok {
		return data, true
	}
	if !known {
		return nil, false
	}
	target, format, ok := s.parseAsset(tag, asset)
	if !ok {
		return nil, false
	}
	return buildArchive(s.binary, s.binSum, tag, target, format), true
}

// Digest is the lowercase hex SHA-256 of an asset, as its .sha256 file says.
func (s *Server) Digest(tag, asset string) string {
	data, ok := s.Archive(tag, asset)
	if !ok {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SetArchive replaces the bytes served for an asset (adding the release if
// needed); its .sha256 file follows. For archives with unusual content.
func (s *Server) SetArchive(tag, asset string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[tag] = true
	s.overrides[tag+"/"+asset] = append([]byte(nil), data...)
}

// Fail makes the next times requests for the file called name (an asset, a
// .sha256 file, or LatestName) go wrong the way f says; times < 0 means
// every request. A later call for the same name replaces the earlier one.
func (s *Server) Fail(name string, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[name] = &fault{kind: f, times: times}
}

// Count returns how many requests asked for the file called name (an asset,
// a .sha256 file, or LatestName), whatever the answer was.
func (s *Server) Count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[name]
}

// Downloads returns how many requests asked for release assets or their
// .sha256 files.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.HasPrefix(r.Path, downloadPrefix) {
			n++
		}
	}
	return n
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	if r.URL.Path == latestPath {
		name = LatestName
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization")})
	s.counts[name]++
	var kind Fault
	if f := s.faults[name]; f != nil && f.times != 0 {
		kind = f.kind
		f.fired++
		if f.times > 0 {
			f.times--
		}
	}
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.t.Errorf("fakerelease: unexpected request %s %s", r.Method, r.URL.RequestURI())
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch kind {
	case NotFound:
		notFound(w)
		return
	case ServerError:
		http.Error(w, "injected server error", http.StatusInternalServerError)
		return
	case Hang:
		s.hang(r)
		return
	case RateLimited:
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "4102444800")
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded for 127.0.0.1."})
		return
	}

	switch {
	case name == LatestName:
		s.serveLatest(w)
	case strings.HasPrefix(r.URL.Path, downloadPrefix):
		s.serveDownload(w, r, strings.TrimPrefix(r.URL.Path, downloadPrefix), kind)
	default:
		s.unknown(w, r)
	}
}

func (s *Server) serveLatest(w http.ResponseWriter) {
	s.mu.Lock()
	tag, none := s.latest, s.noLatest
	s.mu.Unlock()
	if none {
		notFound(w)
		return
	}
	type asset struct {
		Name string `json:"name"`
		URL  string `json:"browser_download_url"`
	}
	var assets []asset
	for _, t := range s.targets {
		for _, a := range assetNames(tag, t) {
			u := s.DownloadBase() + "/" + tag + "/" + a
			assets = append(assets, asset{a, u}, asset{a + ".sha256", u + ".sha256"})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":         1,
		"tag_name":   tag,
		"name":       tag,
		"draft":      false,
		"prerelease": false,
		"html_url":   s.ServerURL() + "/mozilla/sccache/releases/tag/" + tag,
		"assets":     assets,
	})
}

// hang waits until the client goes away or the test ends.
func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.stop:
	}
}

func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, rest string, kind Fault) {
	tag, file, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(file, "/") {
		s.unknown(w, r)
		return
	}
	asset, isSum := strings.CutSuffix(file, ".sha256")
	data, ok := s.Archive(tag, asset)
	if !ok {
		s.unknown(w, r)
		return
	}
	if isSum {
		sum := sha256.Sum256(data)
		if kind == WrongChecksum || kind == Corrupt {
			sum = sha256.Sum256(append([]byte("not "), data...))
		}
		// Like the real files: the bare digest, no newline.
		data = []byte(hex.EncodeToString(sum[:]))
	} else if kind == Corrupt {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if kind == Truncated || kind == Stall {
		w.Write(data[:len(data)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if kind == Stall {
			s.hang(r)
		}
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	w.Write(data)
}

// parseAsset splits an asset name of tag into target and format
// ("tar.gz" or "zip"), for targets this server serves.
func (s *Server) parseAsset(tag, asset string) (target, format string, ok bool) {
	for _, t := range s.targets {
		for _, a := range assetNames(tag, t) {
			if a == asset {
				return t, strings.TrimPrefix(path.Ext(a), "."), true
			}
		}
	}
	return "", "", false
}

// assetNames lists the archives a release has for a target: always a
// .tar.gz, and also a .zip for Windows targets.
func assetNames(tag, target string) []string {
	base := arch.ArchiveDir(tag, target)
	if arch.IsWindows(target) {
		return []string{base + ".tar.gz", base + ".zip"}
	}
	return []string{base + ".tar.gz"}
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}

var binaries sync.Map // path → []byte

func readBinary(p string) ([]byte, error) {
	if v, ok := binaries.Load(p); ok {
		return v.([]byte), nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read the binary to package: %w", err)
	}
	binaries.Store(p, data)
	return data, nil
}
