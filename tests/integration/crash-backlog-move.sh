#!/bin/bash
# crash-backlog-move.sh - crash-backlog.sh with after = "move": every
# message must end \Seen in the printed folder, none left behind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
CRASH_AFTER=move exec bash "$top_srcdir/tests/integration/crash-backlog.sh" "$@"
