#!/usr/bin/env bash
# Builds the release binaries into OUTDIR: one static, trimmed program per
# supported runner platform, named rustcache-action-<goos>-<goarch> (.exe on
# Windows), and OUTDIR/SHA256SUMS listing them. The release workflow, CI and
# internal/bootstrap's tests all build through this script.
#
# usage: .github/scripts/build-release.sh <version> <outdir>
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 <version> <outdir>" >&2
  exit 2
fi
version=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
cd "$(dirname "$0")/../.."

targets="linux/amd64 linux/arm64 linux/arm linux/386 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
ldflags="-s -w -buildid= -X $(go list -m)/internal/cli.Version=$version"
for target in $targets; do
  goos=${target%/*} goarch=${target#*/}
  name=rustcache-action-$goos-$goarch
  if [ "$goos" = windows ]; then name=$name.exe; fi
  # GOARM=7: the runner itself needs ARMv7 on 32-bit ARM.
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch GOARM=7 \
    go build -trimpath -ldflags "$ldflags" -o "$out/$name" .
  echo "built $name"
done

cd "$out"
if command -v sha256sum >/dev/null 2>&1; then
  sha256sum rustcache-action-* > SHA256SUMS
else
  shasum -a 256 rustcache-action-* > SHA256SUMS
fi
