package cacheservice

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	runtimeToken = "rtok_RUNTIMETOKEN0123456789abcdef"
	otherSecret  = "ghs_GITHUBTOKEN0123456789abcdef"
)

// noPrefix fails when s holds the first 5 or more bytes of secret.
func noPrefix(t *testing.T, what, s, secret string) {
	t.Helper()
	if strings.Contains(s, secret[:5]) {
		t.Fatalf("%s: a prefix of %s is left in %q", what, secret[:5], s)
	}
}

// TestCleanRedactsBeforeCut: a credential the service repeats, at any offset
// of a long message, is removed whole before the message is cut, so no
// prefix of it survives the cut at MaxMessage.
func TestCleanRedactsBeforeCut(t *testing.T) {
	h := &httpClient{token: runtimeToken, redact: func(s string) string { return strings.ReplaceAll(s, otherSecret, "***") }}
	for off := 0; off <= MaxMessage+10; off++ {
		for _, secret := range []string{runtimeToken, otherSecret} {
			msg := strings.Repeat("é", off/2) + strings.Repeat("x", off%2) + "Bearer " + secret + " " + strings.Repeat("y", 400)
			got := h.clean(msg)
			noPrefix(t, "offset "+string(rune('0'+off%10)), got, secret)
			if len(got) > MaxMessage+len("…") || !utf8.ValidString(got) {
				t.Fatalf("offset %d: cleaned message of %d bytes, valid UTF-8 %v", off, len(got), utf8.ValidString(got))
			}
		}
	}
}

func TestCleanControlAndSignatures(t *testing.T) {
	h := &httpClient{}
	got := h.clean("refused\n::error::forged\r\x00 https://blob/x?sv=1&sig=abc%2Fdef&se=2 SIG=zzz\u2028end")
	if want := "refused ::error::forged   https://blob/x?sv=1&sig=***&se=2 sig=*** end"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
}

func TestCheckMatch(t *testing.T) {
	restore := []string{"rustcache-v1-linux-x64-abc-", "rustcache-v1-linux-x64-"}
	for _, tc := range []struct {
		matched string
		ok      bool
	}{
		{"rustcache-v1-linux-x64-abc-1-1", true},
		{"RUSTCACHE-V1-LINUX-X64-ABC-1-1", true}, // act lowercases, others may not
		{"rustcache-v1-linux-x64-other", true},
		{"rustcache-v1-linux-x64-abc-9-1\n::error::forged", false},
		{"rustcache-v1-linux-x64-abc-9-1\r", false},
		{"someone-elses-entry", false},
		{"rustcache-v1-linux-", false},
		{"", false},
	} {
		err := checkMatch("test", tc.matched, "rustcache-v1-linux-x64-abc-1-1", restore)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrUntrustedEntry)) {
			t.Errorf("checkMatch(%q) = %v, want ok %v", tc.matched, err, tc.ok)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("checkMatch(%q) error spans lines: %q", tc.matched, err)
		}
	}
}
