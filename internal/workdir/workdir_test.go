package workdir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/inputs"
)

func TestResolve(t *testing.T) {
	top := t.TempDir()
	ws := filepath.Join(top, "ws")
	outside := filepath.Join(top, "etc")
	for _, d := range []string{filepath.Join(ws, "sub", "deep"), outside} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(ws, "file"), nil, 0o644)
	os.Symlink(outside, filepath.Join(ws, "out-link"))
	os.Symlink(filepath.Join(ws, "sub"), filepath.Join(ws, "in-link"))
	tests := []struct {
		dir, want, err string
	}{
		{dir: ".", want: ws},
		{dir: "sub", want: filepath.Join(ws, "sub")},
		{dir: "sub/deep/../", want: filepath.Join(ws, "sub")},
		{dir: "./sub/deep", want: filepath.Join(ws, "sub", "deep")},
		{dir: "in-link", want: filepath.Join(ws, "in-link")},
		{dir: outside, want: outside}, // absolute: the user's choice
		{dir: ws + "/../etc", want: outside},
		{dir: "../etc", err: "climbs out"},
		{dir: "../../etc", err: "climbs out"},
		{dir: "sub/../../etc", err: "climbs out"},
		{dir: "out-link", err: "climbs out"},
		{dir: "missing", err: "expected an existing directory"},
		{dir: "file", err: "expected an existing directory"},
	}
	for _, tc := range tests {
		got, err := Resolve(ws, tc.dir)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Resolve(%q) = %q, %v; want an error containing %q", tc.dir, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.dir, got, err, tc.want)
		}
	}
}

func TestWithin(t *testing.T) {
	top := t.TempDir()
	ws := filepath.Join(top, "ws")
	os.MkdirAll(filepath.Join(ws, "a"), 0o755)
	victim := filepath.Join(top, "victim.toml")
	os.WriteFile(victim, nil, 0o644)
	os.WriteFile(filepath.Join(ws, "a", "real.toml"), nil, 0o644)
	os.Symlink(victim, filepath.Join(ws, "Cross.toml"))
	os.Symlink("a/real.toml", filepath.Join(ws, "inside.toml"))
	os.Symlink(filepath.Join(top, "nowhere"), filepath.Join(ws, "dangling.toml"))
	os.Symlink(top, filepath.Join(ws, "up"))
	for path, want := range map[string]string{
		filepath.Join(ws, "Cross.toml"):         "outside",
		filepath.Join(ws, "inside.toml"):        "",
		filepath.Join(ws, "new.toml"):           "",
		filepath.Join(ws, "up", "new.toml"):     "outside",
		filepath.Join(ws, "dangling.toml"):      "does not exist",
		filepath.Join(ws, "a", "..", "..", "x"): "outside",
		ws:                                      "",
	} {
		_, err := Within(ws, path)
		switch {
		case want == "" && err != nil:
			t.Errorf("Within(%q) = %v", path, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("Within(%q) = %v, want %q", path, err, want)
		case want == "outside" && !errors.Is(err, ErrOutside):
			t.Errorf("Within(%q) = %v, not ErrOutside", path, err)
		}
	}
	if got := Scope(ws, filepath.Join(ws, "a")); got != ws {
		t.Errorf("Scope inside = %q", got)
	}
	if got := Scope(ws, top); got != top {
		t.Errorf("Scope outside = %q", got)
	}
}

func TestRead(t *testing.T) {
	ws := t.TempDir()
	os.Mkdir(filepath.Join(ws, "a"), 0o755)
	in := map[string]string{Input: "a\n../../etc\n."}
	r := inputs.NewReader(func(n string) string { return in[n] })
	dirs := Read(r, ws)
	err := r.Err()
	if err == nil || !strings.Contains(err.Error(), `input working-directory: invalid value "../../etc"`) || strings.Contains(err.Error(), `"a"`) {
		t.Errorf("Read error = %v", err)
	}
	if dirs[0] != filepath.Join(ws, "a") || dirs[2] != ws {
		t.Errorf("dirs = %q", dirs)
	}
}
