package arch

import (
	"errors"
	"strings"
	"testing"
)

func TestTargetEveryPlatform(t *testing.T) {
	tests := []struct {
		os, arch   string
		target     string
		asset      string
		exe        string
		containerT string
	}{
		{"Linux", "X64", "x86_64-unknown-linux-musl", "sccache-v0.10.0-x86_64-unknown-linux-musl.tar.gz", "sccache", "x86_64-unknown-linux-musl"},
		{"Linux", "ARM64", "aarch64-unknown-linux-musl", "sccache-v0.10.0-aarch64-unknown-linux-musl.tar.gz", "sccache", "aarch64-unknown-linux-musl"},
		{"Linux", "ARM", "armv7-unknown-linux-musleabi", "sccache-v0.10.0-armv7-unknown-linux-musleabi.tar.gz", "sccache", "armv7-unknown-linux-musleabi"},
		{"Linux", "X86", "i686-unknown-linux-musl", "sccache-v0.10.0-i686-unknown-linux-musl.tar.gz", "sccache", "i686-unknown-linux-musl"},
		{"macOS", "X64", "x86_64-apple-darwin", "sccache-v0.10.0-x86_64-apple-darwin.tar.gz", "sccache", "x86_64-unknown-linux-musl"},
		{"macOS", "ARM64", "aarch64-apple-darwin", "sccache-v0.10.0-aarch64-apple-darwin.tar.gz", "sccache", "aarch64-unknown-linux-musl"},
		{"Windows", "X64", "x86_64-pc-windows-msvc", "sccache-v0.10.0-x86_64-pc-windows-msvc.zip", "sccache.exe", "x86_64-unknown-linux-musl"},
		{"Windows", "ARM64", "aarch64-pc-windows-msvc", "sccache-v0.10.0-aarch64-pc-windows-msvc.zip", "sccache.exe", "aarch64-unknown-linux-musl"},
	}
	for _, tc := range tests {
		t.Run(tc.os+"/"+tc.arch, func(t *testing.T) {
			p := Platform{tc.os, tc.arch}
			got, err := Target(p)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.target {
				t.Errorf("Target = %q, want %q", got, tc.target)
			}
			if a := AssetName("v0.10.0", got); a != tc.asset {
				t.Errorf("AssetName = %q, want %q", a, tc.asset)
			}
			if e := ExeName(got); e != tc.exe {
				t.Errorf("ExeName = %q, want %q", e, tc.exe)
			}
			ct, err := ContainerTarget(p)
			if err != nil || ct != tc.containerT {
				t.Errorf("ContainerTarget = %q, %v; want %q", ct, err, tc.containerT)
			}
			if !ValidTarget(got) {
				t.Errorf("ValidTarget(%q) = false", got)
			}
		})
	}
	if n := len(Targets()); n != len(tests) {
		t.Errorf("Targets() has %d entries, the table %d", n, len(tests))
	}
}

func TestUnsupported(t *testing.T) {
	for _, p := range []Platform{{"Linux", "S390X"}, {"FreeBSD", "X64"}, {"macOS", "ARM"}, {"Windows", "X86"}, {"", ""}} {
		_, err := Target(p)
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Fatalf("Target(%v) error = %v, want UnsupportedError", p, err)
		}
		msg := err.Error()
		for _, want := range []string{"RUNNER_OS=\"" + p.OS + "\"", "RUNNER_ARCH=\"" + p.Arch + "\"", "sccache-target", "Linux/X64"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name         string
		env          map[string]string
		goos, goarch string
		want         Platform
	}{
		{"runner vars win", map[string]string{"RUNNER_OS": "macOS", "RUNNER_ARCH": "ARM64"}, "linux", "amd64", Platform{"macOS", "ARM64"}},
		{"go fallback", nil, "linux", "amd64", Platform{"Linux", "X64"}},
		{"go fallback windows arm64", nil, "windows", "arm64", Platform{"Windows", "ARM64"}},
		{"go fallback 386", nil, "linux", "386", Platform{"Linux", "X86"}},
		{"mixed", map[string]string{"RUNNER_OS": "Linux"}, "darwin", "arm", Platform{"Linux", "ARM"}},
		{"unknown go names pass through", nil, "plan9", "mips", Platform{"plan9", "mips"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect(env(tc.env), tc.goos, tc.goarch); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidTarget(t *testing.T) {
	for _, bad := range []string{"", "x86_64-unknown-linux-gnu", "sccache", "aarch64-apple-darwin "} {
		if ValidTarget(bad) {
			t.Errorf("ValidTarget(%q) = true", bad)
		}
	}
}
