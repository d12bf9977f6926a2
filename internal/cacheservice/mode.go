package cacheservice

import "strings"

// Mode is the runner's ACTIONS_CACHE_MODE, which says whether this job may
// read and/or write the cache. The official client (@actions/cache 6.3)
// restores only when the mode is readable and saves only when it is
// writable; an unset or unknown mode allows both, as before the variable
// existed.
type Mode string

// The modes the runner exports.
const (
	ModeNone      Mode = "none"       // neither restore nor save
	ModeRead      Mode = "read"       // restore only
	ModeWrite     Mode = "write"      // restore and save
	ModeWriteOnly Mode = "write-only" // save only
)

// ModeFromEnv reads ACTIONS_CACHE_MODE, trimmed and lowercased as the
// official client does.
func ModeFromEnv(getenv func(string) string) Mode {
	return Mode(strings.ToLower(strings.TrimSpace(getenv("ACTIONS_CACHE_MODE"))))
}

// Known reports whether m is one of the four modes the runner defines.
func (m Mode) Known() bool {
	switch m {
	case ModeNone, ModeRead, ModeWrite, ModeWriteOnly:
		return true
	}
	return false
}

// CanRead reports whether a restore is allowed.
func (m Mode) CanRead() bool {
	if !m.Known() {
		return true
	}
	return m == ModeRead || m == ModeWrite
}

// CanWrite reports whether a save is allowed.
func (m Mode) CanWrite() bool {
	if !m.Known() {
		return true
	}
	return m == ModeWrite || m == ModeWriteOnly
}
