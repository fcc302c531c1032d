#!/bin/bash
# crash-batch.sh - the program dies (test hook, exit 98, as a crash would)
# inside the batched post-action and with a pipelined FETCH in flight, over
# a backlog of 6 one-PDF mails: after the \Seen of the whole batch but
# before its UID MOVE (postaction-batch-flagged, after = "move"), after the UID MOVE but
# before the state database hears of it (after-postaction), with the next
# message's BODY.PEEK[] in flight (fetch-in-flight, the 1st and the 4th
# time: printed messages then wait in the batch), and after the 3rd job is
# recorded (after-record #3: two printed messages owe their post-action).
# after = "move" and "seen".  Two restarts must leave every PDF printed
# exactly once (content hashes), CUPS with one completed job per PDF,
# every message moved once (or \Seen in place), the state database done,
# scratch empty.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require sha256sum
N=6
rig_setup
rig_add_fast_queue fast
d=$RIG_DIR
n=0

# one_case AFTER STEP [COUNT]
one_case() {
	local after=$1 step=$2 count=${3:-1} mb name base
	n=$((n + 1))
	mb=b$n
	name="$after/$step #$count"
	rig_make_backlog "$d/$mb" "$N"
	rig_deliver_backlog "$d/$mb" "$N" "$mb"
	rig_write_conf "$RIG_CONF" mailbox="\"$mb\"" printed_folder="\"$mb-printed\"" \
		failed_folder="\"$mb-failed\"" printer='"fast"' after="\"$after\""
	rig_wait_jobs_done
	rm -f "$RIG_SPOOL"/*
	base=$(rig_job_max_id fast)

	MAIL2CUPS_TEST_STOP_AT=$step MAIL2CUPS_TEST_STOP_COUNT=$count rig_run once
	expect_rc 98 "$name: the crash hook stops the run with 98"
	case $step in
	postaction-batch-flagged)
		is "$(rig_unseen_count "$RIG_USER" "$mb")/$(rig_folder_count "$RIG_USER" "$mb-printed")" \
			"0/0" "$name: the crash came between the batch's \\Seen and its move (unseen/moved)" ;;
	after-postaction)
		is "$(rig_db "SELECT count(*) FROM messages WHERE mailbox = '$mb' AND status = 'printed'")" \
			"$N" "$name: the crash came after the batch's post-action, before the database heard" ;;
	fetch-in-flight)
		is "$(rig_db "SELECT count(*) FROM messages WHERE mailbox = '$mb' AND status = 'printed'")" \
			"$((count - 1))" "$name: the crash came with printed messages waiting in the batch" ;;
	esac
	rig_run once
	expect_rc 0 "$name: the restart exits 0"
	rig_run once
	expect_rc 0 "$name: a third pass exits 0"
	expect_summary 'test: nothing new' "$name: and finds nothing left to do"
	rig_expect_backlog "$name" "$mb" "$base" "$N" "$after"
}

for after in move seen; do
	# between the \Seen and the move: only a move has two commands
	[ "$after" = move ] && one_case "$after" postaction-batch-flagged
	one_case "$after" after-postaction
	one_case "$after" fetch-in-flight 1
	one_case "$after" fetch-in-flight 4
	one_case "$after" after-record 3
done
diag "$n cases in $SECONDS s"
tap_done
