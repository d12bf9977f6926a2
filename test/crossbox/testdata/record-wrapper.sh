#!/bin/sh
# RUSTC_WRAPPER for the workload test: records what sccache 0.4 hashes for a
# Rust compile besides the files — the working directory, the arguments and
# the CARGO_* variables but CARGO_MAKEFLAGS — one file per compile under
# $RUSTCACHE_RECORD, then runs sccache. Two builds' records show what differed
# when the second misses.
if [ -n "$RUSTCACHE_RECORD" ]; then
	mkdir -p "$RUSTCACHE_RECORD"
	{
		echo "cwd=$(pwd)"
		for a in "$@"; do echo "arg=$a"; done
		env | grep '^CARGO_' | grep -v '^CARGO_MAKEFLAGS=' | sort
	} >"$RUSTCACHE_RECORD/$$"
fi
exec "$(dirname "$0")/sccache" "$@"
