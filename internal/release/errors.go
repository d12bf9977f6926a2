package release

import (
	"errors"
	"fmt"
	"net/url"
)

// Sentinel errors, for errors.Is. The concrete errors carry the details and
// a message meant to be shown to users as it is.
var (
	// ErrChecksum: the downloaded archive does not have the expected
	// SHA-256. Nothing was installed.
	ErrChecksum = errors.New("sccache release checksum mismatch")
	// ErrNotFound: the release asset (or its checksum file) does not exist.
	ErrNotFound = errors.New("sccache release asset not found")
	// ErrInvalidVersion: the version is neither "latest" nor a release tag.
	ErrInvalidVersion = errors.New("invalid sccache-version")
	// ErrUnsupportedTarget: no sccache release exists for the target.
	ErrUnsupportedTarget = errors.New("unsupported sccache-target")
	// ErrArchive: the archive does not have the layout of an sccache release.
	ErrArchive = errors.New("unexpected sccache release archive")
	// ErrUnavailable: the release server (or the REST API naming the
	// latest release) could not be reached or did not answer — a
	// connection error, a timeout, a body that broke off or stalled on
	// every try, 5xx or 429 after the retries, a rate limit. A fault of the
	// network or the server, not of the configuration; nothing was
	// installed.
	ErrUnavailable = errors.New("the sccache release server is unavailable")
)

// unavailableError marks err with ErrUnavailable, keeping its message.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

func unavailable(err error) error { return &unavailableError{err} }

// ChecksumError reports an archive whose SHA-256 differs from the expected
// one. Nothing was installed.
type ChecksumError struct {
	Asset  string // file name of the release asset
	URL    string // where it was downloaded from (credentials removed)
	Want   string // expected digest, lowercase hex
	Got    string // digest of the downloaded bytes
	Source string // where Want came from
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch for sccache release asset %s downloaded from %s: sha256 is %s, expected %s (%s); nothing was installed",
		e.Asset, e.URL, e.Got, e.Want, e.Source)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// NotFoundError reports a release asset the server does not have, which
// almost always means a mistyped version or target.
type NotFoundError struct {
	Asset  string // file name of the missing asset
	URL    string // URL that answered 404 (credentials removed)
	Status int
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("sccache release asset %s was not found at %s (HTTP %d); check the sccache-version and sccache-target inputs (or sccache-url)",
		e.Asset, e.URL, e.Status)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ArchiveError reports an archive entry that an sccache release does not
// contain: a path outside the release directory, a link, a device, a
// duplicate or missing binary.
type ArchiveError struct {
	Asset  string
	Entry  string // offending entry name, if any
	Reason string
}

func (e *ArchiveError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("sccache release asset %s: %s; nothing was installed", e.Asset, e.Reason)
	}
	return fmt.Sprintf("sccache release asset %s: entry %q: %s; nothing was installed", e.Asset, e.Entry, e.Reason)
}

// Is makes errors.Is(err, ErrArchive) true.
func (e *ArchiveError) Is(target error) bool { return target == ErrArchive }

// displayURL drops what may carry credentials (user info, query, fragment)
// so a URL can be printed in a log or an annotation.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}
