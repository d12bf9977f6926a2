#!/bin/sh
# rustcache-action: RUSTC_WRAPPER for sccache releases before 0.9. Their server
# answers a compile before the cache entry is on disk, and inside a cross
# container the server is killed the moment cargo exits: this runs the compile
# through the sccache beside this script, then waits (at most 30 s) until the
# server has no cache write pending. sccache 0.9 and later answer only after
# the write; setup points RUSTC_WRAPPER at sccache itself for them.
SCCACHE="$(dirname "$0")/sccache"
"$SCCACHE" "$@"
rc=$?
i=0
while [ "$i" -lt 600 ]; do
  j=$("$SCCACHE" --show-stats --stats-format=json 2>/dev/null) || break
  misses=$(printf '%s' "$j" | sed -n 's/.*"cache_misses":{"counts":{\([^}]*\)}.*/\1/p' | tr ',' '\n' | sed 's/.*://' | awk '{s+=$1} END {print s+0}')
  uncacheable=$(printf '%s' "$j" | sed -n 's/.*"non_cacheable_compilations":\([0-9]*\).*/\1/p')
  writes=$(printf '%s' "$j" | sed -n 's/.*"cache_writes":\([0-9]*\).*/\1/p')
  errors=$(printf '%s' "$j" | sed -n 's/.*"cache_write_errors":\([0-9]*\).*/\1/p')
  [ $((misses - ${uncacheable:-0} - ${writes:-0} - ${errors:-0})) -le 0 ] && break
  sleep 0.05
  i=$((i + 1))
done
exit $rc
