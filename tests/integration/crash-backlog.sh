#!/bin/bash
# crash-backlog.sh - a backlog of 100 one-PDF mails (each PDF different),
# "mail2cups once" killed with SIGKILL at random moments and restarted, K
# times, then run to completion; then a second backlog stopped by the test
# hook at random steps and counts (deterministic).  Every document must
# reach the printer exactly once (content hashes against the originals),
# CUPS must hold exactly 100 completed jobs per backlog, every message
# must end \Seen (or \Seen in the printed folder with after = "move"), the
# state database must say done, and scratch must be empty.
#
#   CRASH_SEED=N     replay a run (the seed is printed as a TAP comment)
#   CRASH_KILLS=K    SIGKILLs (default 10)
#   CRASH_AFTER=move the post-action (default seen; crash-backlog-move.sh)
#   CRASH_RUNNER=daemon  kill `mail2cups run` (supervisor and workers at once)
#                    instead of once (crash-backlog-daemon.sh)
#   CRASH_RUNNER=daemon-main  kill only its supervisor, as the OOM killer does,
#                    and restart it while the orphaned workers still finish
#                    (crash-backlog-daemon-main.sh)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require sha256sum
seed=${CRASH_SEED:-$(date +%s)}
kills=${CRASH_KILLS:-10}
after=${CRASH_AFTER:-seen}
runner=${CRASH_RUNNER:-once}
N=100
RANDOM=$seed
rig_setup
rig_add_fast_queue fast
diag "seed $seed (replay with CRASH_SEED=$seed), after = $after, runner $runner"
d=$RIG_DIR

# use_mailbox MB: the config for backlog MB (its own folders).
use_mailbox() {
	rig_write_conf "$RIG_CONF" mailbox="\"$1\"" printed_folder="\"$1-printed\"" \
		failed_folder="\"$1-failed\"" printer='"fast"' after="\"$after\""
	rig_conf_global "$RIG_CONF" max_attempts 1000
}

# finish NAME: runs once to completion (twice: the second must do nothing).
finish() {
	rig_run once
	expect_rc 0 "$1: the last restart runs to completion"
	rig_run once
	expect_rc 0 "$1: one more pass exits 0"
	expect_summary 'test: nothing new' "$1: and finds nothing left to do"
}

# check_backlog NAME MB BASE: the outcome of backlog MB (jobs above BASE).
check_backlog() {
	rig_expect_backlog "$1" "$2" "$3" "$N" "$after"
	diag "$1: printed twice: $RIG_TWICE, lost: $RIG_LOST"
}

parts_above() {
	[ "$(rig_db "SELECT count(*) FROM parts WHERE mailbox = 'kill'")" -gt "$1" ]
}

# Backlog 1: SIGKILL at random moments.  A full pass takes about 1.3 s
# here, a start-up (login, select, search) about 0.2 s: the kills land
# between 0.1 and 0.5 s into each run.
rig_make_backlog "$d/kill" "$N"
rig_deliver_backlog "$d/kill" "$N" kill
use_mailbox kill
base=$(rig_job_max_id fast)
orphans=()
for ((k = 1; k <= kills; k++)); do
	if [ "$runner" != once ]; then
		# The daemon in its own process group: SIGKILL takes the
		# supervisor and every worker at the same instant (daemon), or
		# the supervisor alone (daemon-main), as the OOM killer does;
		# then its workers must go at once, and the next daemon's
		# worker waits for them (the account's lock).
		ms=$((100 + RANDOM % 200))
		rig_start_daemon
		RIG_ONCE_PID=$RIG_DAEMON_PID
	else
		ms=$((100 + RANDOM % 400))
		rig_start_once
	fi
	# Not an ordering sleep: the kill lands at a random moment on purpose
	# (the seed replays it); every outcome must be right whatever it hits.
	if [ "$runner" = daemon-main ]; then
		# Kill while it prints, spread over the backlog whatever the
		# machine's speed: once the parts pass the k-th of kills+1
		# marks (this daemon's worker may first wait for the orphans
		# of the last one).
		rig_wait_for 120 parts_above $((k * N / (kills + 1)))
	fi
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if [ "$runner" = daemon ]; then
		kill -KILL -- "-$RIG_ONCE_PID" 2>/dev/null
	elif [ "$runner" = daemon-main ]; then
		mapfile -t workers < <(pgrep -P "$RIG_ONCE_PID")
		kill -KILL "$RIG_ONCE_PID" 2>/dev/null
		orphans+=("${workers[@]}")
	else
		kill -KILL "$RIG_ONCE_PID" 2>/dev/null
	fi
	wait "$RIG_ONCE_PID" 2>/dev/null
	rc=$?
	diag "kill $k after $ms ms: exit $rc, $(rig_db "SELECT count(*) FROM parts WHERE mailbox = 'kill'") parts in the database"
	# 137: SIGKILL; 0: a run that finished the backlog before the kill
	# came (only `once` ends by itself).
	if [ $rc = 137 ] || { [ $rc = 0 ] && [ "$runner" = once ]; }; then
		ok "kill $k: exit $rc (killed, or done before the kill)"
	else
		not_ok "kill $k: exit 137 (killed) or 0 (done before the kill)" "exit $rc" \
			"$(tail -3 "$RIG_DIR/run$RIG_RUN_N.err")"
	fi
done
if [ "$runner" = daemon-main ]; then
	# Each killed supervisor's workers noticed at once and stopped after
	# the message in hand; none serves the account beside another.
	if rig_wait_for 60 rig_pids_gone "${orphans[@]}"; then
		ok "kill: the ${#orphans[@]} workers of the killed supervisors all exited"
	else
		not_ok "kill: the workers of the killed supervisors all exited" \
			"still running: $(for p in "${orphans[@]}"; do rig_pid_alive "$p" && echo "$p"; done | paste -sd ' ')"
	fi
	is "$(cat "$RIG_DIR"/run*.err | grep -c 'already submitted\|another process meanwhile\|usage error')" 0 \
		"kill: no process met another's print (no race on a part)"
fi
finish kill
check_backlog kill kill "$base"

# Backlog 2: the test hook at random steps and counts.
rig_wait_jobs_done 60 || bail "backlog 1 never finished printing"
rm -f "$RIG_SPOOL"/*
rig_make_backlog "$d/hook" "$N"
rig_deliver_backlog "$d/hook" "$N" hook
use_mailbox hook
base=$(rig_job_max_id fast)
steps=(after-fetch after-intent after-submit after-record after-postaction)
for ((k = 1; k <= 8; k++)); do
	step=${steps[RANDOM % 5]}
	count=$((1 + RANDOM % 25))
	MAIL2CUPS_TEST_STOP_AT=$step MAIL2CUPS_TEST_STOP_COUNT=$count rig_run once
	if [ "$RIG_RC" = 98 ] || [ "$RIG_RC" = 0 ]; then
		ok "hook $k: $step #$count: exit $RIG_RC (98: stopped by the hook; 0: the backlog ended first)"
	else
		not_ok "hook $k: $step #$count: exit 98 (or 0 when the backlog ended first)" \
			"exit $RIG_RC" "$RIG_ERR"
	fi
done
finish hook
check_backlog hook hook "$base"
diag "done in $SECONDS s"
tap_done
