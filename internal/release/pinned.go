package release

// pinnedVersion is the sccache release installed when the sccache-version
// input is empty. Its archives are verified against the digests below, which
// are built into the binary, instead of the .sha256 files published next to
// them: a release whose assets were replaced after the fact is rejected.
const pinnedVersion = "v0.18.0"

// pinned maps each release target to the SHA-256 of its pinnedVersion
// archive (AssetName: .tar.gz, .zip for Windows). Each digest was read from
// public files that pin the same asset, independently of one another:
//
//   - x86_64-unknown-linux-musl, aarch64-unknown-linux-musl,
//     armv7-unknown-linux-musleabi, i686-unknown-linux-musl: the Armbian build
//     framework's sccache extension (armbian/build extensions/sccache.sh,
//     table __ext_sccache_sha256 for v0.18.0), and a Rust managed-tool table
//     that installs sccache-v0.18.0 per host (fn sccache()). The x86_64 and
//     aarch64 digests also appear in many Dockerfiles and CI scripts that pin
//     v0.18.0.
//   - aarch64-apple-darwin, x86_64-apple-darwin: a Node tool installer pinning
//     sccache 0.18.0 for darwin-arm64/darwin-x64, and a Python build helper
//     with the same two digests (aarch64 also in the Rust table above).
//   - x86_64-pc-windows-msvc, aarch64-pc-windows-msvc (.zip): the Rust table
//     above, and a Node installer whose comment says the values are the
//     published <asset>.sha256 files of v0.18.0; the x86_64 digest also
//     appears in several PowerShell and Python Windows setup scripts.
//
// Targets missing from this table would fall back to the published .sha256
// file; today every supported target is pinned.
var pinned = map[string]string{
	"x86_64-unknown-linux-musl":    "45f1447fbe231e3037bde351ef70677dd212216c8d62ae7ca409fecc4d6acc89",
	"aarch64-unknown-linux-musl":   "2b3284d5da3b46a47dc4229e75bb7b88ac4aa99c8d754fb7d2f84997e5a4354a",
	"i686-unknown-linux-musl":      "e23e961b549c3c40ac0d504e0d4a63a5da2ef1b44ac253c55bef55e755fdf340",
	"armv7-unknown-linux-musleabi": "5e1b69e95cee1b19f0d0669eb1b1597f51770fc602e4321adfea99143cac6ce9",
	"x86_64-apple-darwin":          "1dade83cc49eeb42337565eccd534b05982820a8e44b851bd7937467a18c7aef",
	"aarch64-apple-darwin":         "308184519b646f5125289e8515b36f6ca65a13a041923994aebe702348674e8e",
	"x86_64-pc-windows-msvc":       "8965c74d5e8a225244f741e18ad2f3f504f48228dc1bac948fc22761a348363d",
	"aarch64-pc-windows-msvc":      "205d613fa74a9a0525e41a5ace77b1c71907d5bd4a5e668bad79111776829290",
}

// DefaultVersion is the sccache release installed when no version is asked
// for. Its archives are checked against digests built into this program.
func DefaultVersion() string { return pinnedVersion }

// PinnedDigest returns the built-in SHA-256 of the release archive of version
// for target, if this program carries one.
func PinnedDigest(version, target string) (string, bool) {
	if version != pinnedVersion {
		return "", false
	}
	d, ok := pinned[target]
	return d, ok
}
