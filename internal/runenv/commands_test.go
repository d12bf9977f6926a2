package runenv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/ghcmd"
)

// commandFiles points GITHUB_ENV, GITHUB_OUTPUT and GITHUB_PATH at empty
// files and returns the environment and the file of each.
func commandFiles(t *testing.T) (map[string]string, map[string]string) {
	dir := t.TempDir()
	env, files := map[string]string{}, map[string]string{}
	for _, k := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH"} {
		p := filepath.Join(dir, strings.ToLower(k))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		env[k], files[k] = p, p
	}
	return env, files
}

func readPairs(t *testing.T, file string) []ghcmd.Pair {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := ghcmd.Parse(string(b), false)
	if err != nil {
		t.Fatalf("the runner cannot read %s: %v\n%s", file, err, b)
	}
	return ps
}

// TestCommitHostileValues: values with line breaks, the fixed delimiter of
// go-githubactions and workflow commands reach a later step as exactly the
// names written, with exactly their values.
func TestCommitHostileValues(t *testing.T) {
	const oldDelim = "_GitHubActionsFileCommandDelimeter_"
	values := map[string]string{
		"A": "/r\n" + oldDelim + "\nLD_PRELOAD=/evil.so\nX<<" + oldDelim,
		"B": "k\r\nforged=1",
		"C": "::error::forged\n::add-mask::x",
	}
	env, files := commandFiles(t)
	var c Commands
	for k, v := range values {
		c.SetEnv(k, v)
		c.SetOutput(strings.ToLower(k), v)
	}
	c.AddPath("/r/bin")
	if err := c.Commit(FromMap(env, &bytes.Buffer{}, nil)); err != nil {
		t.Fatal(err)
	}
	for file, lower := range map[string]bool{"GITHUB_ENV": false, "GITHUB_OUTPUT": true} {
		var want []ghcmd.Pair
		for _, k := range []string{"A", "B", "C"} {
			n := k
			if lower {
				n = strings.ToLower(k)
			}
			want = append(want, ghcmd.Pair{Name: n, Value: values[k]})
		}
		if got := readPairs(t, files[file]); !slices.Equal(got, want) {
			t.Errorf("%s reads as %q, want %q", file, got, want)
		}
	}
	b, _ := os.ReadFile(files["GITHUB_PATH"])
	if got := ghcmd.ParsePath(string(b)); !slices.Equal(got, []string{"/r/bin"}) {
		t.Errorf("GITHUB_PATH reads as %q", got)
	}
}

// TestCommitRefusesAndWritesNothing: one record the runner could misread
// (a PATH entry with a newline, a name with "=") fails the commit before any
// file is written.
func TestCommitRefusesAndWritesNothing(t *testing.T) {
	for name, c := range map[string]*Commands{
		"path with newline": func() *Commands {
			var c Commands
			c.SetEnv("A", "1")
			c.AddPath("/r/bin\n/evil")
			return &c
		}(),
		"env name with =": func() *Commands {
			var c Commands
			c.SetOutput("ok", "1")
			c.SetEnv("A=B", "1")
			return &c
		}(),
	} {
		env, files := commandFiles(t)
		err := c.Commit(FromMap(env, &bytes.Buffer{}, nil))
		if !errors.Is(err, ghcmd.ErrFileCommand) {
			t.Errorf("%s: Commit = %v, want ErrFileCommand", name, err)
		}
		for k, f := range files {
			if b, _ := os.ReadFile(f); len(b) != 0 {
				t.Errorf("%s: %s written: %q", name, k, b)
			}
		}
	}
}

// TestCommitWithoutFiles: outside a runner the records are log lines, which
// cannot be read as workflow commands.
func TestCommitWithoutFiles(t *testing.T) {
	var out bytes.Buffer
	var c Commands
	c.SetOutput("k", "a\n::error::forged")
	if err := c.Commit(FromMap(nil, &out, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "output k=a\\n::error::forged\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

func TestAppendSummary(t *testing.T) {
	f := filepath.Join(t.TempDir(), "summary")
	e := FromMap(map[string]string{"GITHUB_STEP_SUMMARY": f}, &bytes.Buffer{}, nil)
	for range 2 {
		if ok, err := e.AppendSummary("# x\n"); !ok || err != nil {
			t.Fatalf("AppendSummary = %v, %v", ok, err)
		}
	}
	if b, _ := os.ReadFile(f); string(b) != "# x\n# x\n" {
		t.Errorf("summary %q", b)
	}
	if ok, _ := FromMap(nil, &bytes.Buffer{}, nil).AppendSummary("x"); ok {
		t.Error("AppendSummary without GITHUB_STEP_SUMMARY reported a write")
	}
}
