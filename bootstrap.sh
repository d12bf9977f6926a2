#!/usr/bin/env bash
# Puts the rustcache-action program on disk and prints its path to
# $GITHUB_OUTPUT as `path`. The program is built from the action's own source
# with the runner's Go, and kept in the tool cache under a hash of that source,
# so a job pays for the build once per runner and action version.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exe=rustcache-action
case "${RUNNER_OS:-$(uname -s)}" in
  Windows|MINGW*|MSYS*|CYGWIN*) exe=rustcache-action.exe ;;
esac

hash_source() {
  (cd "$src" && find . -name '*.go' ! -name '*_test.go' ! -path './test/*' -print0 \
      | LC_ALL=C sort -z | xargs -0 cat go.mod go.sum) \
    | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-16
}

cache_base="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/rustcache-action"
dir="$cache_base/src-$(hash_source)"
bin="$dir/$exe"

if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "::error title=rustcache-action::Go is not installed on this runner and no prebuilt rustcache-action binary fits; add actions/setup-go before this step" >&2
    exit 1
  fi
  mkdir -p "$dir"
  tmp="$(mktemp "$dir/.build-XXXXXX")"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$tmp" .)
  mv -f "$tmp" "$bin"
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "path=$bin" >> "$GITHUB_OUTPUT"
else
  echo "$bin"
fi
