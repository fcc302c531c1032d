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
	expect_summary 'test: 0 fetched, 0 jobs, 0 skipped, 0 failed' "$1: and finds nothing left to do"
}

# check_backlog NAME MB BASE: the outcome of backlog MB (jobs above BASE).
check_backlog() {
	local name=$1 mb=$2 base=$3 got want jobs
	rig_wait_jobs_done 60 || diag "CUPS or the printer still has unfinished jobs"
	want=$(rig_sha256_list "$d/$mb"/doc*.pdf)
	mapfile -t files < <(rig_printed_files)
	got=$(rig_sha256_list "${files[@]}")
	is "$(printf '%s\n' "$got" | grep -c .)" "$N" "$name: the printer received $N documents"
	if [ "$got" = "$want" ]; then
		ok "$name: each of the $N PDFs exactly once (content hashes)"
	else
		not_ok "$name: each of the $N PDFs exactly once (content hashes)" \
			"received twice: $(printf '%s\n' "$got" | uniq -d | grep -c .)" \
			"missing: $(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got" | uniq) | grep -c .)"
	fi
	jobs=$(rig_jobs_since "$base" fast)
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 == "completed"' | grep -c .)" "$N" \
		"$name: CUPS has $N completed jobs"
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 != "completed" && $2 != "canceled"' | paste -sd ';')" \
		"" "$name: no other job is left (only half-sent ones, canceled)"
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 == "completed" { print $4 }' | sort | uniq -d | paste -sd ' ')" \
		"" "$name: no document name printed twice"
	if [ "$after" = move ]; then
		is "$(rig_folder_count alice "$mb")/$(rig_folder_count alice "$mb-printed")/$(rig_folder_count alice "$mb-failed")" \
			"0/$N/0" "$name: every message moved to $mb-printed (mailbox/printed/failed)"
		is "$(rig_unseen_count alice "$mb-printed")" 0 "$name: all \\Seen in $mb-printed"
	else
		is "$(rig_folder_count alice "$mb")/$(rig_unseen_count alice "$mb")/$(rig_folder_count alice "$mb-failed")" \
			"$N/0/0" "$name: every message \\Seen in place (messages/unseen/failed)"
	fi
	is "$(rig_db "SELECT status, count(*) FROM messages WHERE mailbox = '$mb' GROUP BY status" | paste -sd ';')" \
		"done $N" "$name: every message row says done"
	is "$(rig_db "SELECT status, count(*), count(DISTINCT job_id) FROM parts WHERE mailbox = '$mb' GROUP BY status" | paste -sd ';')" \
		"submitted $N $N" "$name: every part row submitted, with its own job id"
	is "$(rig_scratch_files | paste -sd ' ')" "" "$name: nothing left in scratch"
}

# Backlog 1: SIGKILL at random moments.  A full pass takes about 1.3 s
# here, a start-up (login, select, search) about 0.2 s: the kills land
# between 0.1 and 0.5 s into each run.
rig_make_backlog "$d/kill" "$N"
rig_deliver_backlog "$d/kill" "$N" kill
use_mailbox kill
base=$(rig_job_max_id fast)
for ((k = 1; k <= kills; k++)); do
	if [ "$runner" = daemon ]; then
		# The daemon in its own process group: SIGKILL takes the
		# supervisor and every worker at the same instant.
		ms=$((100 + RANDOM % 200))
		RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
		setsid "$MAIL2CUPS" -c "$RIG_CONF" run >"$RIG_DIR/run$RIG_RUN_N.out" \
			2>"$RIG_DIR/run$RIG_RUN_N.err" &
		RIG_ONCE_PID=$!
		RIG_PIDS+=("$RIG_ONCE_PID")
	else
		ms=$((100 + RANDOM % 400))
		rig_start_once
	fi
	# Not an ordering sleep: the kill lands at a random moment on purpose
	# (the seed replays it); every outcome must be right whatever it hits.
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if [ "$runner" = daemon ]; then
		kill -KILL -- "-$RIG_ONCE_PID" 2>/dev/null
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
