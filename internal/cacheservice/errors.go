package cacheservice

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
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

// cleanMessage keeps a service message printable and short.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	const limit = 300
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
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
