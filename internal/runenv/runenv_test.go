package runenv

import (
	"io"
	"slices"
	"testing"
)

func TestChildEnvironDropsCredentials(t *testing.T) {
	e := FromMap(map[string]string{"ACTIONS_RUNTIME_TOKEN": "tok", "INPUT_GITHUB-TOKEN": "gh", "GITHUB_TOKEN": "gh",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc", "ACTIONS_CACHE_URL": "http://x/", "PATH": "/bin"}, io.Discard, nil)
	got := e.ChildEnviron()
	slices.Sort(got)
	want := []string{"ACTIONS_CACHE_URL=http://x/", "PATH=/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("ChildEnviron = %q, want %q", got, want)
	}
}

func TestDefaultRoot(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"RUNNER_TEMP": "/r", "TMPDIR": "/t"}, "/r/rustcache"},
		{map[string]string{"TMPDIR": "/t"}, "/t/rustcache"},
	} {
		if got := FromMap(tc.env, io.Discard, nil).DefaultRoot(); got != tc.want {
			t.Errorf("DefaultRoot(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestInput(t *testing.T) {
	e := FromMap(map[string]string{"INPUT_CACHE-ROOT": " /r \n", "INPUT_WITH_SPACE": "x"}, io.Discard, nil)
	for name, want := range map[string]string{"cache-root": "/r", "with space": "x", "missing": ""} {
		if got := e.Input(name); got != want {
			t.Errorf("Input(%q) = %q, want %q", name, got, want)
		}
	}
}
