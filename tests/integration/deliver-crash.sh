#!/bin/bash
# deliver-crash.sh - `mail2cups deliver` dies in the middle of a message
# and the MTA tries again: printed exactly once.  (1) SIGKILL while the
# message is still coming in on stdin; (2) the test hook stops it at each
# step of the pipeline (after-fetch: the message read; after-intent: the
# intent row written, no job yet; after-submit: the CUPS job created, not
# recorded; after-record: recorded, no verdict), as a crash would; each
# time the MTA's retry (a new "From " line, as Postfix writes it) exits 0
# and the document is at the printer once; a third try prints nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup_deliver
d=$RIG_DIR
deliver_retry() {	# EML: the MTA's retry
	rig_postfix_in "$1" >"$1.in"
	rig_run deliver -a test -f bob@example.com -r print@example.org <"$1.in"
}
printed=()

# 1. SIGKILL while the message comes in: a message of about 300 KB (a PDF
# and a file that does not print), deliver stops after storing part of it.
head -c 200000 /dev/urandom >"$d/k.bin"
rig_mkmail pdf "$d/k.pdf" k.pdf && rig_mkmail mail "$d/k.eml" --attach "$d/k.pdf" --attach "$d/k.bin" ||
	bail "mkmail failed"
rig_postfix_in "$d/k.eml" >"$d/k.in"
half=$(( $(stat -c %s "$d/k.in") / 2 ))
mkfifo "$d/k.fifo"
"$MAIL2CUPS" -c "$RIG_CONF" deliver -a test -f bob@example.com -r print@example.org \
	<"$d/k.fifo" >"$d/k.out" 2>"$d/k.err" &
kpid=$!
RIG_PIDS+=("$kpid")
exec 7>"$d/k.fifo"
head -c "$half" "$d/k.in" >&7
has_half() {	# deliver has stored part of what it was given
	local f
	f=$(ls "$RIG_STATE/scratch/deliver-test/"msg.* 2>/dev/null | head -1)
	[ -n "$f" ] && [ "$(stat -c %s "$f")" -gt 0 ]
}
rig_wait_for 20 has_half || diag "deliver stored nothing"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
is "$?" 137 "SIGKILL in the middle of a message: deliver is killed"
exec 7>&-
is "$(rig_job_count)" 0 "... nothing reached CUPS"
deliver_retry "$d/k.eml"
expect_rc 0 "... the MTA's retry exits 0"
printed+=("$d/k.pdf")
expect_printed "... and it printed once" "${printed[@]}"
is "$(find "$RIG_STATE/scratch" -name 'msg.*' | wc -l)" 0 "... the killed run's scratch file is gone"

# 2. The test hook at every step of the pipeline.
for step in after-fetch after-intent after-submit after-record; do
	rig_mkmail pdf "$d/$step.pdf" "$step.pdf" &&
		rig_mkmail mail "$d/$step.eml" --attach "$d/$step.pdf" || bail "mkmail failed"
	rig_postfix_in "$d/$step.eml" >"$d/$step.in"
	MAIL2CUPS_TEST_STOP_AT=$step rig_run deliver -a test -f bob@example.com -r print@example.org <"$d/$step.in"
	expect_rc 98 "$step: the crash hook stops deliver (98: not 0, so the MTA keeps the message)"
	deliver_retry "$d/$step.eml"
	expect_rc 0 "$step: the MTA's retry exits 0"
	expect_stderr 'printed \(1 document' "$step: ... and says it printed"
	printed+=("$d/$step.pdf")
	expect_printed "$step: printed exactly once" "${printed[@]}"
	deliver_retry "$d/$step.eml"
	expect_rc 0 "$step: a third try exits 0"
	is "$(rig_job_count)" "${#printed[@]}" "$step: ... and prints nothing more"
done
tap_done
