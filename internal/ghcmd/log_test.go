package ghcmd

import (
	"bytes"
	"strings"
	"testing"
)

func TestAnnotate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level Level
		a     Annotation
		msg   string
		want  string
	}{
		{"plain", Warning, Annotation{}, "cache lookup failed", "::warning title=rustcache-action::cache lookup failed\n"},
		{"message escaped", Error, Annotation{}, "100% a\r\nb", "::error title=rustcache-action::100%25 a%0D%0Ab\n"},
		{"forged command in message", Notice, Annotation{}, "key\n::error::forged", "::notice title=rustcache-action::key%0A::error::forged\n"},
		{"properties escaped", Error, Annotation{Title: "rustcache-action setup", File: "/w/a,b:c%d\n", Line: 3, Col: 7}, "bad",
			"::error file=/w/a%2Cb%3Ac%25d%0A,line=3,col=7,title=rustcache-action setup::bad\n"},
		{"title escaped", Notice, Annotation{Title: "a,b::c"}, "m", "::notice title=a%2Cb%3A%3Ac::m\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			New(&b).Annotate(tc.level, tc.a, tc.msg)
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

// TestMaskMultiLine: the runner masks its log line by line, so a secret of
// several lines is registered one line at a time — and each line is
// escaped, so none of them can be a command of its own.
func TestMaskMultiLine(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.Mask("  first-line-secret\r\nsecond-line-secret\n::error::third\n")
	want := "::add-mask::first-line-secret\n::add-mask::second-line-secret\n::add-mask::::error::third\n"
	if b.String() != want {
		t.Errorf("masks:\n got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	l.Mask("first-line-secret\r\nsecond-line-secret\n::error::third") // the same, again
	l.Mask("")
	if b.Len() != 0 {
		t.Errorf("registering again printed %q", b.String())
	}
	l.Warningf("got second-line-secret and first-line-secret")
	l.Printf("log first-line-secret")
	out := b.String()
	for _, s := range []string{"first-line-secret", "second-line-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("output shows %q:\n%s", s, out)
		}
	}
	if got := l.Redact("a first-line-secret\r\nsecond-line-secret\n::error::third b"); got != "a *** b" {
		t.Errorf("Redact of the whole secret = %q, want it as one ***", got)
	}
}

func TestMaskOneLine(t *testing.T) {
	var b bytes.Buffer
	New(&b).Mask("tok%en")
	if b.String() != "::add-mask::tok%25en\n" {
		t.Errorf("got %q", b.String())
	}
}

// TestRedactBeforeCut: a secret that straddles the cut never leaves a
// prefix behind, wherever it sits in a long message.
func TestRedactBeforeCut(t *testing.T) {
	const secret = "ghs_SECRETTOKEN0123456789"
	for off := 0; off < MaxMessage+10; off++ {
		var b bytes.Buffer
		l := New(&b)
		l.Mask(secret)
		b.Reset()
		l.Warningf("%s%s%s", strings.Repeat("x", off), secret, strings.Repeat("y", 100))
		if leaks(b.String(), secret) {
			t.Fatalf("offset %d: a prefix of the secret leaks: %q", off, b.String()[max(0, len(b.String())-80):])
		}
	}
}

// leaks reports whether s holds the first 4 or more bytes of secret.
func leaks(s, secret string) bool {
	return strings.Contains(s, secret[:4])
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ааа", 3, "а…"}, // 2-byte letters: never half of one
		{"€€", 4, "€…"},
		{"€", 1, "…"},
	} {
		if got := Cut(tc.s, tc.n); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"restored key: 3 files", "restored key: 3 files"},
		{"restored a\n::error::forged", `restored a\n::error::forged`},
		{"::error::forged", ": :error::forged"},
		{"  ::warning::x", "  : :warning::x"},
		{"x ##[set-output name=a]b", "x ## [set-output name=a]b"},
		{"nul\x00 esc\x1b del\x7f ls\u2028 bad\xff", `nul\x00 esc\x1b del\x7f ls\u2028 bad\xff`},
		{"tab\tcr\r", `tab\tcr\r`},
		{`C:\path ünïcode`, `C:\path ünïcode`},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGroup(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.Mask("s3cret")
	b.Reset()
	l.Group("restore s3cret\nx")
	l.EndGroup()
	if want := "::group::restore ***%0Ax\n::endgroup::\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
