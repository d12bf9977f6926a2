#!/bin/sh
# A container entrypoint (CROSS_CONTAINER_OPTS=--entrypoint=<this>) that runs
# cross's command and then stops the container's sccache server, which waits
# for its pending cache writes before it exits. It lives next to sccache.
"$@"
rc=$?
"$(dirname "$0")/sccache" --stop-server >/dev/null 2>&1
exit $rc
