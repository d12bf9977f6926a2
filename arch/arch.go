// Package arch maps a GitHub Actions runner platform to the sccache release
// binary that runs on it, and to the binary that must run inside cross (cross-rs)
// containers started from that runner.
//
// The runner describes itself with RUNNER_OS (Linux, macOS, Windows) and
// RUNNER_ARCH (X64, X86, ARM, ARM64); see
// https://docs.github.com/en/actions/learn-github-actions/variables#default-environment-variables.
// When they are absent (a local run) the Go runtime's GOOS/GOARCH stand in.
package arch

import (
	"fmt"
	"sort"
	"strings"
)

// Platform is a runner's operating system and architecture, spelled the way
// RUNNER_OS and RUNNER_ARCH spell them.
type Platform struct {
	OS   string // Linux, macOS or Windows
	Arch string // X64, X86, ARM or ARM64
}

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// targets lists every supported platform and its sccache release target.
var targets = map[Platform]string{
	{"Linux", "X64"}:     "x86_64-unknown-linux-musl",
	{"Linux", "ARM64"}:   "aarch64-unknown-linux-musl",
	{"Linux", "ARM"}:     "armv7-unknown-linux-musleabi",
	{"Linux", "X86"}:     "i686-unknown-linux-musl",
	{"macOS", "X64"}:     "x86_64-apple-darwin",
	{"macOS", "ARM64"}:   "aarch64-apple-darwin",
	{"Windows", "X64"}:   "x86_64-pc-windows-msvc",
	{"Windows", "ARM64"}: "aarch64-pc-windows-msvc",
}

// goOS and goArch translate Go's names into the runner's.
var (
	goOS   = map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}
	goArch = map[string]string{"amd64": "X64", "386": "X86", "arm": "ARM", "arm64": "ARM64"}
)

// Detect reads the runner platform from RUNNER_OS and RUNNER_ARCH, falling back
// to goos/goarch (runtime.GOOS/GOARCH) for whichever is unset.
func Detect(getenv func(string) string, goos, goarch string) Platform {
	p := Platform{OS: getenv("RUNNER_OS"), Arch: getenv("RUNNER_ARCH")}
	if p.OS == "" {
		p.OS = fallback(goOS, goos)
	}
	if p.Arch == "" {
		p.Arch = fallback(goArch, goarch)
	}
	return p
}

func fallback(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// UnsupportedError reports a platform for which no sccache binary exists.
type UnsupportedError struct {
	Platform Platform
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("no sccache release for runner platform %s (RUNNER_OS=%q, RUNNER_ARCH=%q); supported: %s; set the sccache-target input to pick a release target explicitly",
		e.Platform, e.Platform.OS, e.Platform.Arch, strings.Join(Supported(), ", "))
}

// Target returns the sccache release target (a Rust target triple) for p.
func Target(p Platform) (string, error) {
	if t, ok := targets[p]; ok {
		return t, nil
	}
	return "", &UnsupportedError{Platform: p}
}

// Supported lists the supported platforms, sorted, as "OS/Arch".
func Supported() []string {
	out := make([]string, 0, len(targets))
	for p := range targets {
		out = append(out, p.String())
	}
	sort.Strings(out)
	return out
}

// Targets lists every known sccache release target, sorted.
func Targets() []string {
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ValidTarget reports whether t is a known sccache release target.
func ValidTarget(t string) bool {
	for _, k := range targets {
		if k == t {
			return true
		}
	}
	return false
}

// ContainerTarget returns the sccache target that runs inside the Linux
// containers cross starts from a runner of platform p: a static musl binary
// for the runner's own architecture (cross images run natively and emulate
// the compilation target, not the host).
func ContainerTarget(p Platform) (string, error) {
	return Target(Platform{OS: "Linux", Arch: p.Arch})
}

// IsWindows reports whether a target is a Windows target.
func IsWindows(target string) bool { return strings.HasSuffix(target, "-windows-msvc") }

// ExeName is the sccache executable's file name for a target.
func ExeName(target string) string {
	if IsWindows(target) {
		return "sccache.exe"
	}
	return "sccache"
}

// AssetName is the release asset that holds sccache version for target: a
// .zip for Windows targets (whose published digests are for the zips), a
// .tar.gz for the others.
func AssetName(version, target string) string {
	if IsWindows(target) {
		return ArchiveDir(version, target) + ".zip"
	}
	return ArchiveDir(version, target) + ".tar.gz"
}

// ArchiveDir is the directory inside the release archive that holds the binary.
func ArchiveDir(version, target string) string {
	return "sccache-" + version + "-" + target
}
