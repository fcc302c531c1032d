#!/bin/bash
# crash-backlog-daemon-main.sh - crash-backlog.sh with only the supervisor
# of `mail2cups run` killed (SIGKILL to the main PID, as the OOM killer
# does) at random moments of the backlog, and a new daemon started at once
# while the orphaned workers still run: they must exit, the new workers
# wait for the account's lock, and nothing prints twice.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
CRASH_RUNNER=daemon-main exec bash "$top_srcdir/tests/integration/crash-backlog.sh" "$@"
