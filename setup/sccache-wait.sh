#!/bin/sh
# rustcache-action: RUSTC_WRAPPER for sccache releases before 0.9, and for every
# release when a remote backend is configured. Releases before 0.9 answer a
# compile before the cache entry is written, and inside a cross container the
# server is killed the moment cargo exits: this runs the compile through the
# sccache beside this script, then waits (at most 30 s) until the server has no
# cache write pending. It then leaves the server's statistics in
# <root>/stats/<port>-<container id>.json when that directory exists, so the
# save step can count the hits and misses of servers that died with their
# containers.
#@environment@
SCCACHE="$(dirname "$0")/sccache"
"$SCCACHE" "$@"
rc=$?
i=0
j=
while [ "$i" -lt 600 ]; do
  j=$("$SCCACHE" --show-stats --stats-format=json 2>/dev/null) || { j=; break; }
  misses=$(printf '%s' "$j" | sed -n 's/.*"cache_misses":{"counts":{\([^}]*\)}.*/\1/p' | tr ',' '\n' | sed 's/.*://' | awk '{s+=$1} END {print s+0}')
  uncacheable=$(printf '%s' "$j" | sed -n 's/.*"non_cacheable_compilations":\([0-9]*\).*/\1/p')
  writes=$(printf '%s' "$j" | sed -n 's/.*"cache_writes":\([0-9]*\).*/\1/p')
  errors=$(printf '%s' "$j" | sed -n 's/.*"cache_write_errors":\([0-9]*\).*/\1/p')
  [ $((misses - ${uncacheable:-0} - ${writes:-0} - ${errors:-0})) -le 0 ] && break
  sleep 0.05
  i=$((i + 1))
done
stats="$(dirname "$0")/../stats"
if [ -n "$j" ] && [ -d "$stats" ]; then
  # One id per container (its /tmp lives as long as it does; namespace
  # numbers are reused), made once: the link appears complete or not at all.
  port=${SCCACHE_SERVER_PORT:-4226}
  idf="${TMPDIR:-/tmp}/.rustcache-sccache-$port"
  if [ ! -s "$idf" ]; then
    { cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$-$(date +%s)"; } > "$idf.$$" 2>/dev/null &&
      ln "$idf.$$" "$idf" 2>/dev/null
    rm -f "$idf.$$"
  fi
  id=$(tr -cd '0-9a-f-' < "$idf" 2>/dev/null)
  f="$stats/$port-${id:-0}.json"
  new=$(printf '%s' "$j" | sed -n 's/.*"compile_requests":\([0-9]*\).*/\1/p')
  old=$(sed -n 's/.*"compile_requests":\([0-9]*\).*/\1/p' "$f" 2>/dev/null)
  # Compiles finish out of order: keep the statistics that count the most.
  if [ "${new:-0}" -ge "${old:-0}" ]; then
    printf '%s\n' "$j" > "$f.$$" && mv -f "$f.$$" "$f"
  fi
fi
exit $rc
