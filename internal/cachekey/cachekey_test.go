package cachekey

import (
	"strings"
	"testing"
)

func base() Parts {
	return Parts{OS: "Linux", Arch: "X64", UserKey: "release", RustcVersion: "rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\n",
		Targets: []string{"b", "a"}, SccacheVersion: "v0.10.0", Lockfiles: [][]byte{[]byte("lock")}, RunID: "123", RunAttempt: "2"}
}

func TestShape(t *testing.T) {
	k, err := Compute(base())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Primary, "rustcache-v1-linux-x64-release-") || !strings.HasSuffix(k.Primary, "-123-2") {
		t.Errorf("primary = %q", k.Primary)
	}
	if len(k.RestoreKeys) != 2 || !strings.HasPrefix(k.Primary, k.RestoreKeys[0]) || !strings.HasPrefix(k.RestoreKeys[0], k.RestoreKeys[1]) || k.RestoreKeys[1] != k.Prefix {
		t.Errorf("restore keys %q do not narrow from %q", k.RestoreKeys, k.Prefix)
	}
	if strings.ContainsAny(k.Primary, ", ") || strings.ToLower(k.Primary) != k.Primary {
		t.Errorf("primary %q has commas, spaces or upper case", k.Primary)
	}
}

func TestWhatChangesWhat(t *testing.T) {
	k0, _ := Compute(base())
	tests := []struct {
		name                    string
		mut                     func(*Parts)
		samePrefix, sameRestore bool
	}{
		{"target order", func(p *Parts) { p.Targets = []string{"a", "b"} }, true, true},
		{"run id", func(p *Parts) { p.RunID = "124" }, true, true},
		{"lockfile", func(p *Parts) { p.Lockfiles = [][]byte{[]byte("lock2")} }, true, false},
		{"rustc", func(p *Parts) { p.RustcVersion = "rustc 1.96.0" }, false, false},
		{"sccache", func(p *Parts) { p.SccacheVersion = "v0.11.0" }, false, false},
		{"user key", func(p *Parts) { p.UserKey = "debug" }, false, false},
		{"targets", func(p *Parts) { p.Targets = []string{"a"} }, false, false},
		{"arch", func(p *Parts) { p.Arch = "ARM64" }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.mut(&p)
			k, err := Compute(p)
			if err != nil {
				t.Fatal(err)
			}
			if (k.Prefix == k0.Prefix) != tc.samePrefix {
				t.Errorf("prefix same = %v, want %v", k.Prefix == k0.Prefix, tc.samePrefix)
			}
			if (k.RestoreKeys[0] == k0.RestoreKeys[0]) != tc.sameRestore {
				t.Errorf("first restore key same = %v, want %v", k.RestoreKeys[0] == k0.RestoreKeys[0], tc.sameRestore)
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	p := base()
	p.UserKey = strings.Repeat("x", 600)
	if _, err := Compute(p); err == nil || !strings.Contains(err.Error(), "key input") {
		t.Errorf("err = %v", err)
	}
}

func TestDefaultsWithoutRun(t *testing.T) {
	p := base()
	p.RunID, p.RunAttempt, p.UserKey = "", "", ""
	k, _ := Compute(p)
	if !strings.HasSuffix(k.Primary, "-local-1") || strings.Contains(k.Prefix, "--") {
		t.Errorf("primary = %q prefix = %q", k.Primary, k.Prefix)
	}
}
