package cacheservice

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/org/rustcache-action/internal/ghcmd"
)

// Errors a caller tells apart with errors.Is. None of them should fail a build:
// the caller turns them into a warning (or, for ErrAlreadyExists, a note).
var (
	// ErrUnavailable means the environment names no cache service (neither
	// ACTIONS_RESULTS_URL nor ACTIONS_CACHE_URL for the chosen protocol).
	ErrUnavailable = errors.New("cache service not available")
	// ErrAlreadyExists means an entry with this key and version was saved (or
	// is being saved) by another job. It is not a failure.
	ErrAlreadyExists = errors.New("cache entry already exists")
	// ErrThrottled means the service kept answering 429 after the retries.
	ErrThrottled = errors.New("cache service rate limit reached")
	// ErrForbidden means the service or the storage refused the credentials
	// (401/403: a read-only or expired token, or a signed URL that could not be
	// renewed).
	ErrForbidden = errors.New("cache service refused access")
	// ErrRefused means the service answered a request with ok=false (v2) or a
	// 400 on reserve (v1, e.g. over a size cap), with a message saying why.
	ErrRefused = errors.New("cache service declined the request")
	// ErrInvalidKey means a key the service would reject: longer than 512
	// characters, containing a comma, or more than 10 keys in one lookup.
	// Unlike the others it is a bug or a configuration error.
	ErrInvalidKey = errors.New("invalid cache key")
	// ErrUntrustedEntry means a lookup's answer named an entry whose key no
	// key of the lookup asks for, or a key with control characters: a
	// hostile or broken service. The entry is not restored.
	ErrUntrustedEntry = errors.New("cache service named an entry this lookup did not ask for")
)

// Limits on keys, as the official client enforces them.
const (
	MaxKeyLength = 512
	MaxKeys      = 10
)

// checkKeys validates the keys of one request.
func checkKeys(keys []string) error {
	if len(keys) > MaxKeys {
		return fmt.Errorf("%d keys in one lookup, at most %d allowed: %w", len(keys), MaxKeys, ErrInvalidKey)
	}
	for _, k := range keys {
		switch {
		case k == "":
			return fmt.Errorf("empty key: %w", ErrInvalidKey)
		case len(k) > MaxKeyLength:
			return fmt.Errorf("key of %d characters, at most %d allowed: %w", len(k), MaxKeyLength, ErrInvalidKey)
		case strings.Contains(k, ","):
			return fmt.Errorf("key %q contains a comma: %w", k, ErrInvalidKey)
		}
	}
	return nil
}

// checkMatch vets the key a lookup's answer names (what the service says,
// and what a crafted entry may have been saved under): it must hold no
// control character and start with one of the lookup's keys — the services
// match each as a prefix — (compared case-insensitively: v1 servers fold
// case), or it is refused
// before it reaches an output, a log line or the summary.
func checkMatch(op, matched, key string, restoreKeys []string) error {
	if ghcmd.HasControl(matched) {
		return fmt.Errorf("%s: %w: its key %s holds control characters", op, ErrUntrustedEntry, strconv.Quote(ghcmd.Cut(matched, MaxMessage)))
	}
	for _, rk := range append([]string{key}, restoreKeys...) {
		if len(matched) >= len(rk) && strings.EqualFold(matched[:len(rk)], rk) {
			return nil
		}
	}
	return fmt.Errorf("%s: %w: key %q", op, ErrUntrustedEntry, ghcmd.Cut(matched, MaxMessage))
}

// StatusError describes one failed cache-service or storage operation. It
// never holds a URL, a header or the runtime token: only the operation name,
// the HTTP status and what the service said. Unwrap yields one of the sentinel
// errors above when the failure is of a kind callers tell apart.
type StatusError struct {
	// Op names the operation, e.g. "v2 CreateCacheEntry" or "v1 upload chunk".
	Op string
	// StatusCode is the HTTP status (200 for an ok=false answer).
	StatusCode int
	// Code is the twirp error code when the service sent one.
	Code string
	// Message is the service's explanation, shortened and stripped of control
	// characters.
	Message string

	kind error
}

func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case errors.Is(e.kind, ErrRefused):
		b.WriteString("declined by the service")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.kind != nil && !errors.Is(e.kind, ErrRefused) {
		b.WriteString(" (")
		b.WriteString(e.kind.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel error for this kind of failure, or nil.
func (e *StatusError) Unwrap() error { return e.kind }

// statusKind maps an HTTP status to the sentinel a caller checks for. A 409
// means "already exists" only for the operations that create entries, so the
// caller passes reserving=true for those.
func statusKind(status int, code string, reserving bool) error {
	switch {
	case status == 429 || code == "resource_exhausted":
		return ErrThrottled
	case status == 401 || status == 403 || code == "permission_denied" || code == "unauthenticated":
		return ErrForbidden
	case reserving && (status == 409 || code == "already_exists"):
		return ErrAlreadyExists
	}
	return nil
}

// MaxMessage bounds what is kept of a service's message, in bytes.
const MaxMessage = 300

// signatureRE finds the signature of a signed storage URL a service may
// repeat in its message.
var signatureRE = regexp.MustCompile(`(?i)\bsig=[^&\s"'<>]+`)

// clean makes a service's message safe to keep and show: the credentials
// this client sent (the runtime token, anything Config.Redact knows, a
// signed URL's signature) are replaced by "***" and control characters
// become spaces first, and only then is it cut to MaxMessage bytes
// (never inside a character) — so a credential straddling the cut leaves
// no prefix behind.
func (h *httpClient) clean(s string) string {
	if h.token != "" {
		s = strings.ReplaceAll(s, h.token, "***")
	}
	if h.redact != nil {
		s = h.redact(s)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = signatureRE.ReplaceAllString(s, "sig=***")
	return ghcmd.Cut(strings.TrimSpace(s), MaxMessage)
}

// transportError wraps a failure to reach the service. Go's *url.Error
// prints the whole request URL, and signed storage URLs carry credentials in
// their query, so only the operation and the underlying cause are kept.
func transportError(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", op, err)
}
