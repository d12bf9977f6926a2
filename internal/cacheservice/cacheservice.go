// Package cacheservice is a client for the GitHub Actions cache service, in
// both of its wire protocols:
//
//   - v2 (github.com and GHE.com): JSON twirp RPCs under the origin of
//     ACTIONS_RESULTS_URL that hand out signed Azure Blob Storage URLs, and the
//     bytes themselves go to and from those URLs.
//   - v1 (GitHub Enterprise Server, act and other local runners): a REST API
//     under ACTIONS_CACHE_URL + "_apis/artifactcache/" that receives the bytes
//     in PATCHed chunks and answers lookups with a download location.
//
// The protocol is the one @actions/cache (actions/toolkit packages/cache)
// speaks, so entries saved by either client can be found by the other when
// keys and versions agree; see Version. Uploads take a stream of unknown
// length (the archive is compressed while it is uploaded) and send it in
// chunks, several at a time; downloads use parallel ranged GETs written in
// order to the caller's writer.
//
// Every request goes through the retrying client the caller injects (see
// internal/httpx), carries the bearer token only when ACTIONS_RUNTIME_TOKEN
// is set, and honours the caller's context. Errors never contain the token or
// a signed URL.
//
// Reference: https://docs.github.com/en/actions/using-workflows/caching-dependencies-to-speed-up-workflows
package cacheservice

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// Protocol names.
const (
	ProtocolV1 = "v1"
	ProtocolV2 = "v2"
)

// Defaults for the tuning fields of Config.
const (
	DefaultUploadChunkSize     = 32 << 20 // one v1 PATCH or one v2 block
	DefaultUploadConcurrency   = 4
	DefaultDownloadSegmentSize = 4 << 20
	DefaultDownloadConcurrency = 8
)

// Config is what New needs. Only Getenv and HTTP are required.
type Config struct {
	// Getenv reads the environment: ACTIONS_RESULTS_URL, ACTIONS_CACHE_URL,
	// ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2 and GITHUB_SERVER_URL.
	Getenv func(string) string
	// HTTP is the retrying client every request goes through (httpx.New).
	HTTP *retryablehttp.Client
	// UserAgent is sent with every request (default "rustcache-action").
	UserAgent string
	// Redact, when set, removes credentials from a service's message before
	// it is shortened and kept (the step's ghcmd.Log.Redact). The runtime
	// token is always removed.
	Redact func(string) string

	// UploadChunkSize is the size of one v1 PATCH chunk or one v2 block; a
	// v2 save whose whole stream fits in one chunk is sent with a single Put
	// Blob. At most (UploadConcurrency+1) chunks are held in memory.
	UploadChunkSize int
	// UploadConcurrency bounds the chunks in flight.
	UploadConcurrency int
	// DownloadSegmentSize is the size of one ranged GET.
	DownloadSegmentSize int
	// DownloadConcurrency bounds the ranged GETs in flight (and the segments
	// held in memory).
	DownloadConcurrency int
}

func (c Config) withDefaults() Config {
	if c.UserAgent == "" {
		c.UserAgent = "rustcache-action"
	}
	if c.UploadChunkSize <= 0 {
		c.UploadChunkSize = DefaultUploadChunkSize
	}
	if c.UploadConcurrency <= 0 {
		c.UploadConcurrency = DefaultUploadConcurrency
	}
	if c.DownloadSegmentSize <= 0 {
		c.DownloadSegmentSize = DefaultDownloadSegmentSize
	}
	if c.DownloadConcurrency <= 0 {
		c.DownloadConcurrency = DefaultDownloadConcurrency
	}
	return c
}

// Client talks to one cache service.
type Client interface {
	// Protocol returns ProtocolV1 or ProtocolV2.
	Protocol() string
	// Lookup finds the newest entry whose key equals key or, failing that,
	// starts with key, then the same for each restore key in order. A miss is
	// (nil, nil).
	Lookup(ctx context.Context, key string, restoreKeys []string, version string) (*Entry, error)
	// Download writes the entry's bytes to w in order and returns how many
	// were written. Large entries are fetched with parallel ranged GETs; an
	// expired download URL is renewed once. On error, w may have received a
	// prefix of the entry.
	Download(ctx context.Context, e *Entry, w io.Writer) (int64, error)
	// Save creates the entry key/version, uploads everything read from r
	// until EOF, and commits it, returning the number of bytes stored. The
	// entry is committed only when r reached EOF without error. ErrAlreadyExists
	// means another job saved this key first. Save stops reading r when it
	// fails, so a producer writing into a pipe must watch for the pipe being
	// abandoned (close the reader when Save returns).
	Save(ctx context.Context, key, version string, r io.Reader) (int64, error)
}

// Entry is a cache entry found by Lookup.
type Entry struct {
	// Key is the entry's key as the service reports it (act's v1 server
	// lowercases keys).
	Key string
	// Version is the version it was looked up with.
	Version string
	// Exact reports whether Key is the primary key of the lookup (compared
	// case-insensitively for v1, whose servers fold case), rather than a
	// restore-key or prefix match.
	Exact bool
	// Size is the entry's size in bytes, or -1 while unknown: the services
	// do not report it on lookup, and Download fills it in.
	Size int64

	location string                                    // download URL
	refresh  func(ctx context.Context) (string, error) // asks the service for a fresh download URL
}

// New returns a client for the protocol the environment selects:
//
//   - GITHUB_SERVER_URL naming a GitHub Enterprise Server host (anything but
//     github.com, *.ghe.com and *.localhost; unset means github.com): v1, as
//     the official client does, at ACTIONS_CACHE_URL (or ACTIONS_RESULTS_URL).
//   - ACTIONS_CACHE_SERVICE_V2 set to a true value: v2 at ACTIONS_RESULTS_URL;
//     set to a false value ("false", "0", "no", "off"): v1 at ACTIONS_CACHE_URL.
//   - ACTIONS_CACHE_SERVICE_V2 unset: v2 when ACTIONS_RESULTS_URL is present
//     (container actions get it without the flag), else v1 when
//     ACTIONS_CACHE_URL is present.
//
// A URL is enough: ACTIONS_RUNTIME_TOKEN is sent as a bearer token only when
// set (act gives composite steps a token-less ACTIONS_CACHE_URL). When no
// usable URL is present New returns an error wrapping ErrUnavailable.
func New(cfg Config) (Client, error) {
	if cfg.Getenv == nil || cfg.HTTP == nil {
		return nil, fmt.Errorf("cacheservice: Config needs Getenv and HTTP")
	}
	cfg = cfg.withDefaults()
	proto, base, err := selectService(cfg.Getenv)
	if err != nil {
		return nil, err
	}
	h := &httpClient{
		http:      cfg.HTTP,
		token:     strings.TrimSpace(cfg.Getenv("ACTIONS_RUNTIME_TOKEN")),
		userAgent: cfg.UserAgent,
		redact:    cfg.Redact,
	}
	switch proto {
	case ProtocolV2:
		return newV2(cfg, h, base), nil
	default:
		return newV1(cfg, h, base), nil
	}
}

// selectService applies the rules documented on New and returns the protocol
// and its parsed base URL.
func selectService(getenv func(string) string) (string, *url.URL, error) {
	results := strings.TrimSpace(getenv("ACTIONS_RESULTS_URL"))
	cache := strings.TrimSpace(getenv("ACTIONS_CACHE_URL"))
	flag := strings.ToLower(strings.TrimSpace(getenv("ACTIONS_CACHE_SERVICE_V2")))

	var proto, raw, name string
	switch {
	case isGHES(getenv("GITHUB_SERVER_URL")):
		proto, raw, name = ProtocolV1, cache, "ACTIONS_CACHE_URL"
		if raw == "" {
			raw, name = results, "ACTIONS_RESULTS_URL"
		}
	case flag == "false" || flag == "0" || flag == "no" || flag == "off":
		proto, raw, name = ProtocolV1, cache, "ACTIONS_CACHE_URL"
	case flag != "":
		proto, raw, name = ProtocolV2, results, "ACTIONS_RESULTS_URL"
	case results != "":
		proto, raw, name = ProtocolV2, results, "ACTIONS_RESULTS_URL"
	default:
		proto, raw, name = ProtocolV1, cache, "ACTIONS_CACHE_URL"
	}
	if raw == "" {
		return "", nil, fmt.Errorf("cache %s: %s is not set: %w", proto, name, ErrUnavailable)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("cache %s: %s is not an http(s) URL: %w", proto, name, ErrUnavailable)
	}
	u.RawQuery, u.Fragment = "", ""
	return proto, u, nil
}

// isGHES reports whether GITHUB_SERVER_URL names a GitHub Enterprise Server
// host, with the official client's rule.
func isGHES(serverURL string) bool {
	if strings.TrimSpace(serverURL) == "" {
		return false
	}
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host != "github.com" && !strings.HasSuffix(host, ".ghe.com") && !strings.HasSuffix(host, ".localhost")
}
