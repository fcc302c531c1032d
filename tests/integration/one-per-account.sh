#!/bin/bash
# one-per-account.sh - one process per account: `once` started while
# `mail2cups run` serves the account says so and exits 75 (the daemon goes
# on); a second `run` refuses at start with the first one's PID; `status`
# says "daemon not running" once the daemon's supervisor is killed (its
# workers exit at once, PR_SET_PDEATHSIG), and not after `once` takes over.
# Every attachment of a 30-mail backlog printed exactly once, each message
# in exactly one folder.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require sha256sum
N=30
rig_setup
rig_add_fast_queue fast
d=$RIG_DIR
rig_write_conf "$RIG_CONF" mailbox='"busy"' printer='"fast"' poll_interval=600
printf 'idle_interval = 60;\nbackoff_max = 1;\nshutdown_timeout = 10;\n' >>"$RIG_CONF"
rig_make_backlog "$d/busy" "$N"
base=$(rig_job_max_id fast)

parts_at_least() {
	[ "$(rig_db "SELECT count(*) FROM parts WHERE mailbox = 'busy'")" -ge "$1" ]
}

rig_start_daemon
dpid=$RIG_DAEMON_PID
rig_wait_for 60 rig_daemon_says 'test: serving busy' || bail "the daemon does not serve: $(cat "$RIG_DAEMON_ERR")"
rig_deliver_backlog "$d/busy" "$N" busy
rig_wait_for 60 parts_at_least 1

# once while the daemon prints the backlog: refused, nothing touched.
rig_run once
expect_rc 75 "once while run serves the account: exit 75 (try again later)"
expect_stderr_line "... it names the daemon and its PID" "being served by mail2cups run \(PID $dpid"
expect_stderr_line "... and the fix" "stop the daemon first \(systemctl stop mail2cups\)"
expect_no_stderr_line "... it did not fetch anything" "fetched"

# A second daemon: refused at start, with the first one's PID.
rig_run run
expect_rc 75 "a second run: refused"
expect_stderr_line "... naming the first one's PID and the fix" \
	"already running as PID $dpid" "stop it first"

rig_wait_for 120 parts_at_least "$N"
rig_expect_backlog "with once and a second run beside the daemon" busy "$base" "$N" seen
diag "printed twice: $RIG_TWICE, lost: $RIG_LOST"
rig_run status
expect_rc 0 "status while the daemon runs: exit 0"
like "$RIG_OUT" "test: ok" "... ok"

# The supervisor killed alone (the OOM killer): its worker goes at once.
mapfile -t workers < <(pgrep -P "$dpid")
is "${#workers[@]}" 1 "the daemon has one worker"
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null
if rig_wait_for 30 rig_pids_gone "${workers[@]}"; then
	ok "the worker of the killed supervisor exited"
else
	not_ok "the worker of the killed supervisor exited" "still running: ${workers[*]}"
fi
rig_run status
expect_rc 2 "status with the daemon dead: exit 2"
like "$RIG_OUT" "test: error: daemon not running: mail2cups run \(PID $dpid\) stopped or was killed" \
	"... says the daemon is not running, naming it"
like "$RIG_OUT" "fix: start it: systemctl start mail2cups" "... with the fix"
if [[ $RIG_OUT != *"no pass since"* ]]; then ok "... not as stale data"
else not_ok "... not as stale data" "$RIG_OUT"; fi
rig_run status --json
like "$RIG_OUT" '"daemon": "not-running"' "status --json: daemon not-running"

# once takes over (no daemon any more): status is ok again.
rig_run once
expect_rc 0 "once with no daemon: exit 0"
expect_summary 'test: nothing new' "... nothing left to do"
rig_run status
expect_rc 0 "status after once: exit 0 (no daemon expected)"
if [[ $RIG_OUT != *"daemon not running"* ]]; then ok "... no daemon error"
else not_ok "... no daemon error" "$RIG_OUT"; fi
tap_done
