#!/bin/bash
# crash-every-step.sh - the program dies (test hook, exit 98, as a crash
# would) at every step of the pipeline: after-fetch, after-intent,
# mid-upload (half the document sent in its Print-Job: cupsd must make no
# job of it), after-submit, after-record, after-postaction; for the steps
# reached once per attachment also between the two attachments
# (STOP_COUNT=2).  A mail
# with a PDF and a PNG; after = "seen" and "move".  The next two passes
# must leave every attachment printed exactly once (byte-identical, one job
# each), the message \Seen (or \Seen in the printed folder), and the state
# database saying done.  One rig; each case has its own mailbox and folders.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
n=0

# one_case MODE STEP [COUNT]
one_case() {
	local mode=$1 step=$2 count=${3:-} mb pf ff base name jobs want_parts
	n=$((n + 1))
	mb=c$n pf=p$n ff=f$n
	name="$mode/$step${count:+ #$count}"
	rig_doveadm mailbox create -u alice "$mb" || bail "cannot create mailbox $mb"
	rig_mkmail pdf "$d/letter$n.pdf" "crash case $n" &&
		rig_mkmail png "$d/photo$n.png" "$n" &&
		rig_mkmail mail "$d/m$n.eml" --attach "$d/letter$n.pdf:letter.pdf" \
			--attach "$d/photo$n.png:photo.png" ||
		bail "mkmail.py failed"
	rig_deliver alice "$d/m$n.eml" "$mb"
	rig_write_conf "$RIG_CONF" mailbox="\"$mb\"" printed_folder="\"$pf\"" \
		failed_folder="\"$ff\"" after="\"$mode\""
	rig_wait_jobs_done
	rm -f "$RIG_SPOOL"/*
	base=$(rig_job_max_id)

	if [ -n "$count" ]; then
		MAIL2CUPS_TEST_STOP_AT=$step MAIL2CUPS_TEST_STOP_COUNT=$count rig_run once
	else
		MAIL2CUPS_TEST_STOP_AT=$step rig_run once
	fi
	expect_rc 98 "$name: the crash hook stops the run with 98"
	if [ "$step" = mid-upload ]; then
		# The cut-off upload made no job: only the attachments before it.
		is "$(rig_jobs_since "$base" | wc -l)" "$(( ${count:-1} - 1 ))" \
			"$name: cupsd made no job of the cut-off upload"
	fi
	rig_run once
	expect_rc 0 "$name: the restart exits 0"
	rig_run once
	expect_rc 0 "$name: a third pass exits 0"

	expect_printed "$name: both attachments printed, byte-identical" \
		"$d/letter$n.pdf" "$d/photo$n.png"
	is "$(rig_printed_files | grep -c -- '-letter_pdf\.')/$(rig_printed_files | grep -c -- '-photo_png\.')" \
		"1/1" "$name: one document per title at the printer (letter.pdf/photo.png)"
	jobs=$(rig_jobs_since "$base")
	is "$(printf '%s\n' "$jobs" | cut -f2,4 | sort | paste -sd ';')" \
		"completed	letter.pdf;completed	photo.png" "$name: exactly two CUPS jobs, completed"
	if [ "$mode" = move ]; then
		is "$(rig_folder_count alice "$mb")/$(rig_folder_count alice "$pf")/$(rig_folder_count alice "$ff")" \
			"0/1/0" "$name: the message moved to $pf (mailbox/printed/failed)"
		expect_flags alice "$pf" '1 \Seen' "$name: \\Seen in $pf"
	else
		expect_flags alice "$mb" '1 \Seen' "$name: the message is \\Seen"
	fi
	is "$(rig_db "SELECT status FROM messages WHERE mailbox = '$mb'")" "done" \
		"$name: the message row says done"
	want_parts=$(printf '%s\n' "$jobs" | awk -F'\t' '{ print "submitted " $1 }' | sort | paste -sd ';')
	is "$(rig_db "SELECT status, job_id FROM parts WHERE mailbox = '$mb'" | sort | paste -sd ';')" \
		"$want_parts" "$name: the part rows say submitted, with the CUPS job ids"
	is "$(rig_scratch_files | paste -sd ' ')" "" "$name: nothing left in scratch"
}

for mode in seen move; do
	for step in after-fetch after-intent mid-upload after-submit after-record after-postaction; do
		one_case "$mode" "$step"
		case $step in
		after-intent|mid-upload|after-submit|after-record)
			one_case "$mode" "$step" 2 ;;
		esac
	done
done
diag "$n cases in $SECONDS s"
tap_done
