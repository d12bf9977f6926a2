#!/usr/bin/env bash
# Puts the rustcache-action program on disk and writes its path to
# $GITHUB_OUTPUT as `path` (prints it when GITHUB_OUTPUT is unset).
#
# Release trees: the release workflow commits two files into every release
# tag, RELEASE (`version=v1.2.3` and `repository=owner/name` lines) and
# SHA256SUMS (the checksums of the release's binaries). In such a tree the
# binary rustcache-action-<goos>-<goarch>[.exe] is downloaded from
#   <base>/<version>/, base ${RUSTCACHE_DOWNLOAD_URL:-$GITHUB_SERVER_URL/<repository>/releases/download}
# checked against the committed SHA256SUMS (or, without one, against the
# release's SHA256SUMS asset) and kept in the tool cache under
#   <tool cache>/rustcache-action/<version without v>/<goarch>/
# where later jobs find it again (checked again, with no request). A checksum
# mismatch is an error: the download is deleted and nothing is run.
#
# Every other tree (a branch, a fork, `uses: ./`), a platform without a
# prebuilt binary, a release that cannot be downloaded, or a runner without
# curl: the program is built from the action's own source with the runner's
# Go and kept under <tool cache>/rustcache-action/src-<hash of the source>/.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool=rustcache-action

log() { echo "$tool: $*" >&2; }
notice() { echo "::notice title=$tool::$*" >&2; }

# sha256 prints the lowercase hex SHA-256 of a file, or of stdin without one.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum ${1:+"$1"}; else shasum -a 256 ${1:+"$1"}; fi |
    cut -d' ' -f1 | tr 'A-F' 'a-f'
}

# platform sets goos, goarch and exe from RUNNER_OS/RUNNER_ARCH (uname when
# unset); it fails for a platform releases do not cover.
platform() {
  case "$runner_os" in
    Linux) goos=linux ;;
    macOS|Darwin) goos=darwin ;;
    Windows|MINGW*|MSYS*|CYGWIN*) goos=windows ;;
    *) return 1 ;;
  esac
  case "$runner_arch" in
    X64|x86_64|amd64) goarch=amd64 ;;
    ARM64|aarch64|arm64) goarch=arm64 ;;
    X86|i386|i686) goarch=386 ;;
    ARM|armv7l|armv7*) goarch=arm ;;
    *) return 1 ;;
  esac
  case "$goos/$goarch" in
    linux/*|darwin/amd64|darwin/arm64|windows/amd64|windows/arm64) ;;
    *) return 1 ;;
  esac
}

# release sets version and repository from the RELEASE file of a release
# tree; it fails for any other tree.
release() {
  [ -f "$src/RELEASE" ] || return 1
  version="$(sed -n 's/^version=//p' "$src/RELEASE" | tr -d '\r')"
  repository="$(sed -n 's/^repository=//p' "$src/RELEASE" | tr -d '\r')"
  if ! [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ && "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
    notice "ignoring $src/RELEASE: expected version=vX.Y.Z and repository=owner/name lines"
    return 1
  fi
}

# want prints the checksum a sums file lists for asset.
want() {
  local sum
  sum="$(awk -v a="$1" '$2 == a || $2 == "*" a { print $1; exit }' "$2" | tr 'A-F' 'a-f')"
  [[ "$sum" =~ ^[0-9a-f]{64}$ ]] && echo "$sum"
}

fetch() {
  curl -fsSL --retry 3 --retry-delay 1 --connect-timeout 10 --max-time 300 -o "$2" "$1"
}

# prebuilt puts the release's binary at $bin. It returns 1 when the binary is
# not available (the caller builds from source) and exits on a mismatch.
prebuilt() {
  local asset="$tool-$goos-$goarch" dir sums="$src/SHA256SUMS" base sum got
  [ "$goos" = windows ] && asset="$asset.exe"
  dir="$cache_base/${version#v}/$goarch"
  bin="$dir/$exe"
  [ -f "$sums" ] || sums="$dir/SHA256SUMS"

  if [ -f "$bin" ] && [ -f "$sums" ] && sum="$(want "$asset" "$sums")"; then
    if [ "$(sha256 "$bin")" = "$sum" ]; then
      log "$version $goos/$goarch from the tool cache (verified)"
      return 0
    fi
    notice "$bin does not match SHA256SUMS: downloading it again"
  fi
  if ! command -v curl >/dev/null 2>&1; then
    notice "curl is not installed: building $version from source instead of downloading it"
    return 1
  fi
  base="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download"
  base="${RUSTCACHE_DOWNLOAD_URL:-$base}"
  base="${base%/}/$version"
  mkdir -p "$dir"
  download="$(mktemp -d "$dir/.download-XXXXXX")"
  if [ ! -f "$src/SHA256SUMS" ]; then
    if ! fetch "$base/SHA256SUMS" "$download/SHA256SUMS"; then
      notice "no SHA256SUMS at $base: building $version from source"
      return 1
    fi
    sums="$download/SHA256SUMS"
  fi
  if ! sum="$(want "$asset" "$sums")"; then
    notice "release $version lists no $asset: building from source"
    return 1
  fi
  if ! fetch "$base/$asset" "$download/$exe"; then
    notice "could not download $base/$asset: building $version from source"
    return 1
  fi
  got="$(sha256 "$download/$exe")"
  if [ "$got" != "$sum" ]; then
    echo >&2 "::error title=$tool::checksum mismatch for $base/$asset: SHA256SUMS lists $sum, the download is $got; refusing to run it (re-run the job; if it persists, report it at https://github.com/$repository/security)"
    exit 1
  fi
  chmod +x "$download/$exe"
  [ "$sums" = "$download/SHA256SUMS" ] && mv -f "$sums" "$dir/SHA256SUMS"
  mv -f "$download/$exe" "$bin"
  log "$version $goos/$goarch downloaded and verified"
}

hash_source() {
  (cd "$src" && {
    cat go.mod go.sum 2>/dev/null || true
    find . -name '*.go' ! -name '*_test.go' ! -path './test/*' -print0 | LC_ALL=C sort -z | xargs -0 cat
  }) | sha256 | cut -c1-16
}

# from_source builds the program from the action's source into $bin.
from_source() {
  local dir
  dir="$cache_base/src-$(hash_source)"
  bin="$dir/$exe"
  if [ -x "$bin" ]; then
    log "built from source earlier: $bin"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "::error title=$tool::Go is not installed on this runner and no prebuilt rustcache-action binary fits; add actions/setup-go before this step" >&2
    exit 1
  fi
  mkdir -p "$dir"
  build="$(mktemp "$dir/.build-XXXXXX")"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$build" .)
  mv -f "$build" "$bin"
  log "built from source with $(go env GOVERSION): $bin"
}

runner_os="${RUNNER_OS:-$(uname -s)}"
runner_arch="${RUNNER_ARCH:-$(uname -m)}"
exe=$tool
case "$runner_os" in Windows|MINGW*|MSYS*|CYGWIN*) exe=$tool.exe ;; esac
download= build=
cleanup() {
  if [ -n "$download" ]; then rm -rf "$download"; fi
  if [ -n "$build" ]; then rm -f "$build"; fi
}
trap cleanup EXIT

cache_base="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/$tool"
if command -v cygpath >/dev/null 2>&1; then cache_base="$(cygpath -u "$cache_base")"; fi

if ! platform; then
  if release; then notice "no prebuilt binary for $runner_os/$runner_arch: building $version from source"; fi
  from_source
elif ! release || ! prebuilt; then
  from_source
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "path=$bin" >> "$GITHUB_OUTPUT"
else
  echo "$bin"
fi
