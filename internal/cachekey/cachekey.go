// Package cachekey builds the cache keys under which the sccache directory is
// saved and looked up.
//
//	primary:  rustcache-v1-<os>-<arch>-<config hash>-<lockfile hash>-<run id>-<run attempt>
//	restore:  rustcache-v1-<os>-<arch>-<config hash>-<lockfile hash>-
//	          rustcache-v1-<os>-<arch>-<config hash>-
//
// The config hash covers what makes compiled objects incompatible: the user's
// key, `rustc -vV`, the target list and the sccache version. The lockfile hash
// narrows the first restore key to the same dependency set; the second lets a
// lockfile change still start from the previous cache (most objects are
// reused). Every save gets a new, unique key, because the cache service never
// overwrites an entry; lookups return the newest entry matching a prefix.
package cachekey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Scheme is the version of this key layout; changing the layout changes it.
const Scheme = "rustcache-v1"

// MaxKeyLength is the cache service's limit on a key.
const MaxKeyLength = 512

// Parts are the inputs of the keys.
type Parts struct {
	OS, Arch       string   // RUNNER_OS, RUNNER_ARCH
	UserKey        string   // input key
	RustcVersion   string   // output of rustc -vV
	Targets        []string // compilation targets
	SccacheVersion string
	Lockfiles      [][]byte // contents of each workspace's Cargo.lock
	RunID          string   // GITHUB_RUN_ID
	RunAttempt     string   // GITHUB_RUN_ATTEMPT
}

// Keys are the computed keys.
type Keys struct {
	Primary     string
	RestoreKeys []string
	// Prefix selects every entry of this configuration (for pruning).
	Prefix string
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func clean(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// Compute returns the keys. Keys are lower case (some cache servers lower-case
// them) and contain no commas.
func Compute(p Parts) (Keys, error) {
	targets := append([]string(nil), p.Targets...)
	sort.Strings(targets)
	config := digest(p.UserKey, p.RustcVersion, strings.Join(targets, "\n"), p.SccacheVersion)
	locks := make([]string, len(p.Lockfiles))
	for i, l := range p.Lockfiles {
		locks[i] = string(l)
	}
	lock := digest(locks...)
	run := clean(p.RunID)
	if run == "" {
		run = "local"
	}
	attempt := clean(p.RunAttempt)
	if attempt == "" {
		attempt = "1"
	}
	prefix := fmt.Sprintf("%s-%s-%s-", Scheme, clean(p.OS), clean(p.Arch))
	if u := clean(p.UserKey); u != "" {
		prefix += u + "-"
	}
	prefix += config + "-"
	k := Keys{
		Prefix:      prefix,
		RestoreKeys: []string{prefix + lock + "-", prefix},
		Primary:     prefix + lock + "-" + run + "-" + attempt,
	}
	if len(k.Primary) > MaxKeyLength {
		return Keys{}, fmt.Errorf("cache key is %d characters, the limit is %d: shorten the key input", len(k.Primary), MaxKeyLength)
	}
	return k, nil
}
