#!/bin/bash
# daemon-replies.sh - replies from the daemon (mail2cups run): the accepted
# reply goes at once; the printed reply follows when CUPS completes the job,
# with no new mail to wake the daemon (while printed replies wait, IDLE is
# cut to poll_interval); a held job's printed reply waits for its release;
# a message with nothing printable gets a failed reply saying why.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
rig_start_smtp
rig_write_conf "$RIG_CONF" authserv_id='"mx.rig.test"' poll_interval=1 \
	reply='[ "accepted", "failed", "printed" ]'
rig_conf_smtp "$RIG_CONF"
rig_conf_global "$RIG_CONF" replies '{ from = "print@example.com"; }'
# log_level debug: each pass that leaves printed replies waiting says so.
printf 'log_level = "debug";\nidle_interval = 600;\nkeepalive_interval = 60;\nbackoff_max = 1;\nshutdown_timeout = 10;\n' \
	>>"$RIG_CONF"
d=$RIG_DIR

"$MAIL2CUPS" -c "$RIG_CONF" run >"$d/daemon.out" 2>"$d/daemon.err" &
dpid=$!
RIG_PIDS+=("$dpid")
replies_to() {
	[ "$(rig_smtp_to "$1" | grep -c .)" -ge "$2" ]
}
# waiting_passes: the passes so far that ended with printed replies waiting.
waiting_passes() {
	grep -c 'test: [0-9]* printed replies wait for their jobs to complete' "$d/daemon.err"
}
waiting_passes_gt() {
	[ "$(waiting_passes)" -gt "$1" ]
}
# subjects_to ADDR: the subjects of the replies to ADDR, in order, one line.
subjects_to() {
	local f
	for f in $(rig_smtp_to "$1"); do rig_smtp_header "$f" Subject; done | paste -sd '|'
}

rig_wait_for 30 grep -q 'serving' "$d/daemon.err" || bail "the daemon did not start: $(cat "$d/daemon.err")"
rig_deliver_pdf "$d/bob.pdf" --from bob@example.com --auth pass --subject 'Report'
if rig_wait_for 60 replies_to bob@example.com 2; then
	ok "bob's accepted and printed replies arrive with no other mail (idle_interval is 600 s)"
else
	not_ok "bob's accepted and printed replies arrive" "$(subjects_to bob@example.com)" "$(tail -5 "$d/daemon.err")"
fi
like "$(subjects_to bob@example.com)" '^Printing: Report\|Printed: Report$' "... accepted first, then printed"
id=$(rig_job_id bob.pdf)
is "$(rig_job_state "$id")" completed "... after the job completed in CUPS"

rig_deliver_pdf "$d/carol.pdf" --from carol@example.com --auth pass --subject 'Payslips #hold'
if rig_wait_for 60 replies_to carol@example.com 1; then ok "carol's accepted reply arrives"
else not_ok "carol's accepted reply arrives" "$(tail -5 "$d/daemon.err")"; fi
id=$(rig_job_id carol.pdf)
is "$(rig_job_state "$id")" pending-held "carol's job is held in CUPS"
# Two whole passes after the job was held: each looked at the job, sent
# what was due, and logged that a printed reply still waits.  Had the
# printed reply been due, it would have gone in the first of them.
waiting=$(waiting_passes)
if rig_wait_for 60 waiting_passes_gt $((waiting + 1)); then ok "two more passes ran with the job held"
else not_ok "two more passes ran with the job held" "$(tail -5 "$d/daemon.err")"; fi
is "$(rig_smtp_to carol@example.com | grep -c .)" 1 "a held job's printed reply waits"
rig_release "$id"
if rig_wait_for 60 replies_to carol@example.com 2; then
	ok "... and goes once the job is released and completes"
else
	not_ok "... and goes once the job is released and completes" "$(subjects_to carol@example.com)"
fi

rig_mkmail mail "$d/dave.eml" --from dave@example.com --auth pass --subject 'Just text' \
	--text 'please print' || bail "mkmail.py failed"
rig_deliver "$RIG_USER" "$d/dave.eml"
if rig_wait_for 60 replies_to dave@example.com 1; then
	ok "a message with nothing printable gets a failed reply"
else
	not_ok "a message with nothing printable gets a failed reply" "$(tail -5 "$d/daemon.err")"
fi
f=$(rig_smtp_to dave@example.com | head -1)
like "$(rig_smtp_header "$f" Subject)" '^Print failed: Just text' "... its subject says so"
# Why: plain words and a reference; the detail stays in the log under the
# same reference (issue 10, finding 5).
body=$(rig_smtp_body "$f" 2>&1)
like "$body" 'could not be printed: .*\(ref [0-9]{8}-[0-9a-f]{6}' "... and its text says why, with a log reference"
ref=$(printf '%s\n' "$body" | grep -oE 'ref [0-9]{8}-[0-9a-f]{6}' | head -1)
like "$(grep -F "($ref)" "$d/daemon.err")" 'nothing printable' "... the log has the detail under that reference"

kill -TERM "$dpid"
rig_wait_for 15 bash -c "! kill -0 $dpid 2>/dev/null" && ok "SIGTERM stops the daemon" ||
	not_ok "SIGTERM stops the daemon"
tap_done
