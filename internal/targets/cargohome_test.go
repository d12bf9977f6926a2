package targets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelectCargoHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), ".cargo")
	for _, f := range []string{
		"registry/index/index.crates.io-1949cf8c6b5b557f/.cache/se/rd/serde",
		"registry/index/index.crates.io-1949cf8c6b5b557f/.cache/3/o/old",
		"registry/index/index.crates.io-1949cf8c6b5b557f/config.json",
		"registry/cache/index.crates.io-1949cf8c6b5b557f/serde-1.0.200.crate",
		"registry/cache/index.crates.io-1949cf8c6b5b557f/serde-1.0.100.crate",
		"registry/cache/index.crates.io-1949cf8c6b5b557f/old-0.1.0.crate",
		"registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200/src/lib.rs",
		"git/db/tool-5f2a9c1b8d7e6f40/HEAD",
		"git/db/tool-5f2a9c1b8d7e6f40/objects/pack/p.pack",
		"git/db/gone-0123456789abcdef/HEAD",
		"git/checkouts/tool-5f2a9c1b8d7e6f40/abc1234/src/lib.rs",
		"credentials.toml",
		"bin/cargo-foo",
	} {
		write(t, filepath.Join(home, filepath.FromSlash(f)), "x")
	}
	if err := os.Symlink("/etc", filepath.Join(home, "registry", "cache", "planted")); err != nil {
		t.Fatal(err)
	}
	lock := &Lock{Packages: []Package{
		{Name: "app", Version: "0.1.0"},
		{Name: "serde", Version: "1.0.200", Source: "registry+https://github.com/rust-lang/crates.io-index"},
		{Name: "tool", Version: "0.3.0", Source: "git+https://github.com/o/tool.git?branch=main#abc1234"},
	}}
	s, err := SelectCargoHome(home, []*Lock{lock})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"git/db/tool-5f2a9c1b8d7e6f40/HEAD",
		"git/db/tool-5f2a9c1b8d7e6f40/objects/pack/p.pack",
		"registry/cache/index.crates.io-1949cf8c6b5b557f/serde-1.0.200.crate",
		"registry/index/index.crates.io-1949cf8c6b5b557f/.cache/se/rd/serde",
	}
	if diff := cmp.Diff(want, s.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(s.Skipped) != 1 || s.Bytes != 4 {
		t.Errorf("skipped %v, bytes %d; want the planted link and 4 bytes", s.Skipped, s.Bytes)
	}
	// Staged, then restored into the home of a fresh runner.
	ws := t.TempDir()
	stage := filepath.Join(t.TempDir(), "cargo-home")
	if err := Stage(stage, ws, []*Selection{s}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	res, err := Restore(stage, ws, []string{home}, false)
	if err != nil || len(res) != 1 || res[0].Files != len(want) || res[0].Problem != "" {
		t.Fatalf("Restore = %+v, %v", res, err)
	}
	var got []string
	for f := range tree(t, home) {
		got = append(got, f)
	}
	if diff := cmp.Diff(want, sortedCopy(got)); diff != "" {
		t.Errorf("restored home (-want +got):\n%s", diff)
	}
}

func TestGitRepoName(t *testing.T) {
	for src, want := range map[string]string{
		"git+https://github.com/o/tool.git?branch=main#abc": "tool",
		"git+https://github.com/o/tool#abc":                 "tool",
		"git+ssh://git@host/o/sub/tool/?rev=1#2":            "tool",
	} {
		if got := gitRepoName(src); got != want {
			t.Errorf("gitRepoName(%q) = %q, want %q", src, got, want)
		}
	}
}
