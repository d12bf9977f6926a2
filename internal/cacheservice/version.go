package cacheservice

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Compression names as they enter the version hash. The official client
// uses CompressionZstd whenever a zstd binary is present.
const (
	CompressionZstd = "zstd-without-long"
	CompressionGzip = "gzip"
)

// versionSalt is the last component of every version; the official client
// bumps it for incompatible archive changes.
const versionSalt = "1.0"

// Version computes the cache version an entry is filed under, the same way
// the official client does: the path patterns exactly as given, then the
// compression name (when not empty), then "windows-only" when windows is true
// (a Windows runner that did not opt into cross-OS archives), then the salt,
// joined with "|" and hashed with SHA-256 (lowercase hex). Entries are only
// found under the version they were saved with, so the patterns must match
// the ones used to save.
func Version(paths []string, compression string, windows bool) string {
	parts := append([]string(nil), paths...)
	if compression != "" {
		parts = append(parts, compression)
	}
	if windows {
		parts = append(parts, "windows-only")
	}
	parts = append(parts, versionSalt)
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}
