package inputs

import (
	"errors"
	"strings"
	"testing"
)

func reader(m map[string]string) *Reader {
	return NewReader(func(k string) string { return m[k] })
}

func TestBool(t *testing.T) {
	tests := []struct {
		in      string
		def     bool
		want    bool
		wantErr bool
	}{
		{"", true, true, false},
		{"true", false, true, false},
		{"True", false, true, false},
		{"FALSE", true, false, false},
		{"yes", false, false, true},
		{"1", true, true, true},
		{"tru", false, false, true},
	}
	for _, tc := range tests {
		r := reader(map[string]string{"b": tc.in})
		got := r.Bool("b", tc.def)
		if got != tc.want || (r.Err() != nil) != tc.wantErr {
			t.Errorf("Bool(%q) = %v, err %v; want %v, err %v", tc.in, got, r.Err(), tc.want, tc.wantErr)
		}
		if tc.wantErr && !strings.Contains(r.Err().Error(), "input b") {
			t.Errorf("error %q does not name the input", r.Err())
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in        string
		wantText  string
		wantBytes int64
		wantErr   bool
	}{
		{"", "2G", 2 << 30, false},
		{"500M", "500M", 500 << 20, false},
		{"10g", "10G", 10 << 30, false},
		{"1024", "1024", 1024, false},
		{"2GB", "2G", 2 << 30, false},
		{"2GiB", "2G", 2 << 30, false},
		{"1T", "1T", 1 << 40, false},
		{"2X", "2G", 2 << 30, true},
		{"-1G", "2G", 2 << 30, true},
		{"0", "2G", 2 << 30, true},
		{"1.5G", "2G", 2 << 30, true},
		{"G", "2G", 2 << 30, true},
		{"99999999999999999999T", "2G", 2 << 30, true},
	}
	for _, tc := range tests {
		r := reader(map[string]string{"cache-size": tc.in})
		text, n := r.Size("cache-size", "2G")
		if text != tc.wantText || n != tc.wantBytes || (r.Err() != nil) != tc.wantErr {
			t.Errorf("Size(%q) = %q, %d, err %v; want %q, %d, err %v", tc.in, text, n, r.Err(), tc.wantText, tc.wantBytes, tc.wantErr)
		}
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "v0.10.0", false},
		{"latest", "latest", false},
		{"LATEST", "latest", false},
		{"v0.14.0", "v0.14.0", false},
		{"0.14.0", "v0.14.0", false},
		{"v0.4.0-pre.6", "v0.4.0-pre.6", false},
		{"v1", "v0.10.0", true},
		{"0.14", "v0.10.0", true},
		{"v0.14.0; rm -rf /", "v0.10.0", true},
		{"../v0.1.0", "v0.10.0", true},
		{"v0.010.0", "v0.10.0", true}, // once refused only after setup had written
		{"v01.2.3", "v0.10.0", true},
		{"v0.18.0-pre..1", "v0.10.0", true},
		{"V0.18.0", "v0.10.0", true},
		{"v0.18.0\n", "v0.18.0", false},
		{"v0.18.0\nv0.1.0", "v0.10.0", true},
	}
	for _, tc := range tests {
		r := reader(map[string]string{"sccache-version": tc.in})
		got := r.Version("sccache-version", "v0.10.0")
		if got != tc.want || (r.Err() != nil) != tc.wantErr {
			t.Errorf("Version(%q) = %q, err %v; want %q, err %v", tc.in, got, r.Err(), tc.want, tc.wantErr)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		in   string
		want string // the error, "" for none
	}{
		{"", ""},
		{"linux-release", ""},
		{strings.Repeat("ж", 200), ""}, // 400 bytes, 200 characters
		{"a,b", `input key: invalid value "a,b": a cache key may not contain commas`},
		{strings.Repeat("k", 201), `input key: invalid value "` + strings.Repeat("k", 32) + `…": a cache key component may be at most 200 characters (got 201)`},
		{strings.Repeat("ж", 201), `input key: invalid value "` + strings.Repeat("ж", 32) + `…": a cache key component may be at most 200 characters (got 201)`},
		{"a\nb", `input key: invalid value "a\nb": a cache key may not span lines or hold control characters`},
		{"a\rb", `input key: invalid value "a\rb": a cache key may not span lines or hold control characters`},
		{"a\x00b", `input key: invalid value "a\x00b": a cache key may not span lines or hold control characters`},
	}
	for _, tc := range tests {
		r := reader(map[string]string{"key": tc.in})
		got := r.Key("key", 200)
		err := ""
		if r.Err() != nil {
			err = r.Err().Error()
		}
		if err != tc.want || (tc.want == "" && got != tc.in) || (tc.want != "" && got != "") {
			t.Errorf("Key(%q) = %q, err %q; want err %q", tc.in, got, err, tc.want)
		}
	}
}

// TestControlCharacters: every input that names something refuses control
// characters; booleans, numbers and choices refuse them by their own rule;
// a secret is returned as given and never appears in an error.
func TestControlCharacters(t *testing.T) {
	for _, bad := range []string{"a\nb", "a\rb", "a\x00b", "a\x1bb", "a\u2028b", "a\x7fb", "a\xffb", "/r\n_GitHubActionsFileCommandDelimeter_\nLD_PRELOAD=/evil.so"} {
		r := reader(map[string]string{"s": bad, "p": "/" + bad, "l": "ok\n" + bad + ",x"})
		if got := r.String("s", "def"); got != "def" {
			t.Errorf("String(%q) = %q", bad, got)
		}
		if got := r.AbsPath("p", "/def"); got != "/def" && got != "" {
			t.Errorf("AbsPath(%q) = %q", "/"+bad, got)
		}
		want := 2
		if !strings.Contains(bad, "\n") { // a line break separates lines
			want = 3
			if got := r.Lines("l", nil, true); strings.Join(got, "|") != "ok|x" {
				t.Errorf("Lines(%q) = %q", bad, got)
			}
		}
		var ie *Error
		if err := r.Err(); !errors.As(err, &ie) || strings.Count(err.Error(), NoControl) != want {
			t.Errorf("inputs with %q: errors %q", bad, err)
		}
	}
	r := reader(map[string]string{"github-token": " line1\nline2 "})
	if got := r.Secret("github-token"); got != "line1\nline2" || r.Err() != nil {
		t.Errorf("Secret = %q, %v", got, r.Err())
	}
}

func TestAbsPath(t *testing.T) {
	r := reader(map[string]string{"rel": "a/b", "abs": " /a/b "})
	if got := r.AbsPath("abs", "/d"); got != "/a/b" {
		t.Errorf("AbsPath = %q", got)
	}
	if got := r.AbsPath("missing", "/d"); got != "/d" {
		t.Errorf("AbsPath default = %q", got)
	}
	if got := r.AbsPath("missing", ""); got != "" || r.Err() != nil {
		t.Errorf("AbsPath empty default = %q, %v", got, r.Err())
	}
	r.AbsPath("rel", "/d")
	if err := r.Err(); err == nil || err.Error() != `input rel: invalid value "a/b": expected an absolute path` {
		t.Errorf("relative path: %v", err)
	}
}

func TestParseVersion(t *testing.T) {
	v, err := ParseVersion(" 0.4.0-pre.7 ")
	if err != nil || v != (Version{0, 4, 0, "pre.7"}) || v.String() != "v0.4.0-pre.7" {
		t.Errorf("ParseVersion = %+v, %v", v, err)
	}
	for _, bad := range []string{"", "latest", "v0.010.0", "0.18", "v0.18.0-" + strings.Repeat("a", 60)} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestNormalizeSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		text string
		n    int64
	}{{"2G", "2G", 2 << 30}, {" 500mib", "500M", 500 << 20}, {"10gb", "10G", 10 << 30}, {"7", "7", 7}} {
		text, n, err := NormalizeSize(tc.in)
		if err != nil || text != tc.text || n != tc.n {
			t.Errorf("NormalizeSize(%q) = %q, %d, %v", tc.in, text, n, err)
		}
	}
	for _, bad := range []string{"", "0", "0G", "1.5G", "-1", "G", "99999999999T"} {
		if _, _, err := NormalizeSize(bad); err == nil {
			t.Errorf("NormalizeSize(%q) accepted", bad)
		}
	}
}

func TestOneOfIntLines(t *testing.T) {
	r := reader(map[string]string{"cross": "Auto", "keep": "3", "bad": "x", "wd": " a \n\n b,c \n"})
	if got := r.OneOf("cross", "auto", "auto", "true", "false"); got != "auto" {
		t.Errorf("OneOf = %q", got)
	}
	if got := r.Int("keep", 1, 0, 100); got != 3 {
		t.Errorf("Int = %d", got)
	}
	if got := r.Lines("wd", []string{"."}, false); strings.Join(got, "|") != "a|b,c" {
		t.Errorf("Lines = %q", got)
	}
	if got := r.Lines("wd", nil, true); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("Lines comma = %q", got)
	}
	if got := r.Lines("missing", []string{"."}, false); strings.Join(got, "|") != "." {
		t.Errorf("Lines default = %q", got)
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	r.Int("bad", 1, 0, 10)
	r.OneOf("bad", "auto", "auto", "true")
	var ie *Error
	if !errors.As(r.Err(), &ie) || strings.Count(r.Err().Error(), "input bad") != 2 {
		t.Errorf("want two errors naming the input, got %v", r.Err())
	}
}
