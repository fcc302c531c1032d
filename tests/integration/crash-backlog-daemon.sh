#!/bin/bash
# crash-backlog-daemon.sh - crash-backlog.sh with `mail2cups run` killed
# (supervisor and workers at once) at random moments of the backlog.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
CRASH_RUNNER=daemon exec bash "$top_srcdir/tests/integration/crash-backlog.sh" "$@"
