package ghcmd

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// oldDelimiter is the fixed delimiter go-githubactions v1.3.1 wrote every
// value with: a value holding it could end its heredoc and start lines of
// its own.
const oldDelimiter = "_GitHubActionsFileCommandDelimeter_"

// hostile are values that broke out of their record with a fixed delimiter
// or a NAME=VALUE line.
var hostile = []string{
	"",
	"plain",
	"a\nLD_PRELOAD=/evil.so",
	"a\r\nLD_PRELOAD=/evil.so\r\n",
	"a\n" + oldDelimiter + "\nLD_PRELOAD=/evil.so\nB<<" + oldDelimiter + "\nx",
	"a\rb\r",
	"::error::forged\n::add-mask::x",
	"X<<EOF\nY=1\nEOF",
	"\n\n\n",
	"ghadelimiter_\nghadelimiter_00000000-0000-4000-8000-000000000000",
	"ünïcode ✓",
}

func TestRecordRoundTrip(t *testing.T) {
	for _, v := range hostile {
		for _, kind := range []Kind{Env, Output} {
			rec, err := Record(kind, "NAME", v, rand.Reader)
			if err != nil {
				t.Fatalf("Record(%q): %v", v, err)
			}
			text := "BEFORE=1\n" + rec + "AFTER<<x\n1\nx\n"
			got, err := Parse(text, false)
			want := []Pair{{"BEFORE", "1"}, {"NAME", v}, {"AFTER", "1"}}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("value %q: the runner reads %q (%v), want %q", v, got, err, want)
			}
			// A Windows runner also ends lines at \r\n: the names stay.
			got, err = Parse(text, true)
			if err != nil || !slices.Equal(names(got), []string{"BEFORE", "NAME", "AFTER"}) {
				t.Errorf("value %q, CRLF runner: reads %q (%v)", v, got, err)
			}
		}
	}
}

func names(ps []Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestRecordDelimiterIsRandom(t *testing.T) {
	a, _ := Record(Env, "A", "v", rand.Reader)
	b, _ := Record(Env, "A", "v", rand.Reader)
	if a == b {
		t.Errorf("two records share a delimiter: %q", a)
	}
	if !strings.HasPrefix(a, "A<<ghadelimiter_") {
		t.Errorf("record %q", a)
	}
}

// TestRecordRefusesTheDelimiter: a value that holds the delimiter drawn for
// it is refused (with a fixed source of randomness, the delimiter is known).
func TestRecordRefusesTheDelimiter(t *testing.T) {
	zero := bytes.NewReader(make([]byte, 16))
	delim := "ghadelimiter_00000000-0000-4000-8000-000000000000"
	if _, err := Record(Env, "A", "x\n"+delim+"\nB=1", zero); !errors.Is(err, ErrFileCommand) {
		t.Errorf("a value holding the delimiter: %v, want ErrFileCommand", err)
	}
}

func TestRecordRefusesBadNames(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		name string
	}{
		{Env, ""}, {Env, "A=B"}, {Env, "A<<B"}, {Env, "A\nB"}, {Env, "1A"}, {Env, "cache-hit"}, {Env, "A B"},
		{Output, ""}, {Output, "a=b"}, {Output, "a<<b"}, {Output, "a\nb"}, {Output, "-a"},
	} {
		if _, err := Record(tc.kind, tc.name, "v", rand.Reader); !errors.Is(err, ErrFileCommand) {
			t.Errorf("Record(%v, %q) = %v, want ErrFileCommand", tc.kind, tc.name, err)
		}
	}
	for _, tc := range []struct {
		kind Kind
		name string
	}{{Env, "SCCACHE_DIR"}, {Env, "_x1"}, {Output, "cache-hit"}, {Output, "saved_key"}} {
		if _, err := Record(tc.kind, tc.name, "v", rand.Reader); err != nil {
			t.Errorf("Record(%v, %q) = %v", tc.kind, tc.name, err)
		}
	}
}

func TestPathRecord(t *testing.T) {
	for _, p := range []string{"", "/a\n/evil", "/a\r/evil", "/a\x00", "/a\u2028b"} {
		if _, err := PathRecord(p); !errors.Is(err, ErrFileCommand) {
			t.Errorf("PathRecord(%q) = %v, want ErrFileCommand", p, err)
		}
	}
	rec, err := PathRecord(`/r/bin with space`)
	if err != nil || !slices.Equal(ParsePath("/x\n"+rec), []string{"/x", "/r/bin with space"}) {
		t.Errorf("PathRecord = %q, %v", rec, err)
	}
}

func TestAppend(t *testing.T) {
	f := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(f, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Append(f, "B=2\n", "C=3\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); string(b) != "A=1\nB=2\nC=3\n" {
		t.Errorf("file holds %q", b)
	}
	if err := Append(filepath.Join(t.TempDir(), "no", "such"), "x"); err == nil {
		t.Error("Append into a missing directory succeeded")
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		crlf bool
		want []Pair
		err  bool
	}{
		{"A=1\n\nB=x=y\n", false, []Pair{{"A", "1"}, {"B", "x=y"}}, false},
		{"A<<E\nl1\nl2\nE\n", false, []Pair{{"A", "l1\nl2"}}, false},
		{"A<<E\nE\n", false, []Pair{{"A", ""}}, false},
		{"A<<E\r\nv\r\nE\r\n", false, []Pair{{"A", "v\r"}}, false}, // on Linux the delimiter is "E\r"
		{"A<<E\r\nv\r\nE\r\n", true, []Pair{{"A", "v"}}, false},
		{"A=1<<x\n", false, []Pair{{"A", "1<<x"}}, false},
		{"A<<E\nv\n", false, nil, true},
		{"<<E\nE\n", false, nil, true},
		{"junk\n", false, nil, true},
	} {
		got, err := Parse(tc.text, tc.crlf)
		if (err != nil) != tc.err || (!tc.err && !slices.Equal(got, tc.want)) {
			t.Errorf("Parse(%q, %v) = %q, %v", tc.text, tc.crlf, got, err)
		}
	}
}

// FuzzRecord: whatever the name and value, a record the writer accepts
// reads back, with the runner's algorithm, as exactly that one name and
// value, and leaves the records around it intact.
func FuzzRecord(f *testing.F) {
	for _, v := range hostile {
		f.Add("NAME", v)
	}
	f.Add("A=B", "v")
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, kind := range []Kind{Env, Output} {
			rec, err := Record(kind, name, value, rand.Reader)
			if err != nil {
				if !errors.Is(err, ErrFileCommand) {
					t.Fatalf("Record: %v", err)
				}
				continue
			}
			text := "BEFORE=1\n" + rec + "AFTER=2\n"
			got, err := Parse(text, false)
			want := []Pair{{"BEFORE", "1"}, {name, value}, {"AFTER", "2"}}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("%q: the runner reads %q (%v), want %q", text, got, err, want)
			}
			got, err = Parse(text, true)
			if err != nil || !slices.Equal(names(got), []string{"BEFORE", name, "AFTER"}) {
				t.Fatalf("%q: a CRLF runner reads %q (%v)", text, got, err)
			}
		}
		if rec, err := PathRecord(value); err == nil {
			if got := ParsePath("/a\n" + rec + "/b\n"); !slices.Equal(got, []string{"/a", value, "/b"}) {
				t.Fatalf("PATH %q reads back as %q", value, got)
			}
		}
	})
}
