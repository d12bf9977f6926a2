#!/bin/sh
# A RUSTC_WRAPPER for sccache releases before 0.9, whose server answers a
# compile before the cache entry is on disk: run the compile through the
# sccache next to this script, then wait (at most 30 s) until the server has
# finished every cache write it owes, so that nothing is lost when the
# container and its server are killed as cargo exits. Later sccache releases
# answer only after the write and do not need it.
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
