// Package bootstrap describes how the composite action gets its program onto
// a runner, and its tests hold the shell glue to that description.
//
// The glue is shell, not Go, because it runs before the program exists:
//   - bootstrap.sh (at the repository root) downloads the release binary named
//     by AssetName for the runner's Target, verifies it against SHA256SUMS
//     and keeps it in the tool cache, or builds the program from source when
//     the action's tree is not a release (a branch, a fork, `uses: ./`);
//   - the steps of the action files (EntryPoints) that hand the cache keys and
//     paths to the nested actions/cache steps, and, in the fast entry points
//     only, the cache-service credentials from a container step to the Go
//     step (see docs/runtime-credentials.md).
//
// The release workflow (.github/workflows/release.yml) builds one binary per
// entry of Targets; the tests check that it, bootstrap.sh and this package
// agree.
package bootstrap

// EntryPoint is one action file users reference (`uses: org/rustcache-action`
// plus its directory).
type EntryPoint struct {
	Path string // action file, relative to the repository root
	// Container is true for the fast entry points, which hold the credential
	// container step: the runner pulls its image at job set-up, so they need
	// Docker on Linux runners. The others must never make a runner pull one.
	Container bool
}

// EntryPoints are every action file of the repository.
var EntryPoints = []EntryPoint{
	{"action.yml", false}, {"restore/action.yml", false}, {"save/action.yml", false},
	{"fast/action.yml", true}, {"fast/save/action.yml", true},
}

// ActionsCache is the repository of the JavaScript actions the entry points
// nest (restore and save), and ActionsCacheCommit the commit they are pinned
// to: actions/cache v6.1.0.
const (
	ActionsCache       = "actions/cache"
	ActionsCacheCommit = "55cc8345863c7cc4c66a329aec7e433d2d1c52a9"
)

// Program is the base name of the program and of its release assets.
const Program = "rustcache-action"

// ReleaseFile is the file the release workflow commits into every release
// tag: `version=vX.Y.Z` and `repository=owner/name` lines. bootstrap.sh
// downloads a prebuilt binary only in a tree that has it.
const ReleaseFile = "RELEASE"

// SumsFile lists the SHA-256 of every release binary, in sha256sum's format.
// The release workflow publishes it with the binaries and commits it into the
// release tag, so that a tag (or the commit a user pins) fixes the binary too.
const SumsFile = "SHA256SUMS"

// Target is a platform a release publishes a binary for.
type Target struct {
	GOOS, GOARCH string
}

// Targets are the platforms of GitHub-hosted and self-hosted runners that
// releases cover.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"}, {"linux", "arm"}, {"linux", "386"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// String returns "goos/goarch".
func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// Exe is the file name of the installed program on t (with .exe on Windows).
func (t Target) Exe() string {
	if t.GOOS == "windows" {
		return Program + ".exe"
	}
	return Program
}

// AssetName is the name of t's binary on a release:
// rustcache-action-<goos>-<goarch>, with .exe on Windows.
func AssetName(t Target) string {
	name := Program + "-" + t.GOOS + "-" + t.GOARCH
	if t.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

// RunnerTarget maps the runner's RUNNER_OS and RUNNER_ARCH (see
// https://docs.github.com/en/actions/reference/variables-reference) to the
// release target that runs there, as bootstrap.sh does. ok is false for a
// platform releases do not cover; bootstrap.sh then builds from source.
func RunnerTarget(runnerOS, runnerArch string) (t Target, ok bool) {
	switch runnerOS {
	case "Linux":
		t.GOOS = "linux"
	case "macOS":
		t.GOOS = "darwin"
	case "Windows":
		t.GOOS = "windows"
	default:
		return Target{}, false
	}
	switch runnerArch {
	case "X64":
		t.GOARCH = "amd64"
	case "ARM64":
		t.GOARCH = "arm64"
	case "ARM":
		t.GOARCH = "arm"
	case "X86":
		t.GOARCH = "386"
	default:
		return Target{}, false
	}
	for _, c := range Targets {
		if c == t {
			return t, true
		}
	}
	return Target{}, false
}
