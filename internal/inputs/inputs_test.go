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
	long := strings.Repeat("k", 201)
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"", false},
		{"linux-release", false},
		{"a,b", true},
		{long, true},
		{"a\nb", false}, // TrimSpace keeps the inner newline: rejected below
	}
	for _, tc := range tests {
		r := reader(map[string]string{"key": tc.in})
		r.Key("key", 200)
		wantErr := tc.wantErr || strings.Contains(tc.in, "\n")
		if (r.Err() != nil) != wantErr {
			t.Errorf("Key(%q) err = %v, want error %v", tc.in, r.Err(), wantErr)
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
