#!/bin/bash
# backend-cups.sh - the mail2cups CUPS backend under a private cupsd whose
# ServerBin holds the built backend (mode 0700, beside the system's
# backends), sending through the SMTP sink (STARTTLS, XOAUTH2) with the
# token of a Microsoft 365 account signed in at the fake IdP; state_dir
# belongs to a service uid, so the backend runs as root only until it
# switches to it.  The queues use the stop-printer error policy (upstream
# CUPS's default): the backend must never stop them.
#  - lp of a PDF: the mail arrives with the PDF byte-identical, From, To,
#    Subject with the options as subject tags, Message-ID, Date,
#    X-Mail2cups-Job; state.db is owned by the service uid.
#  - the SMTP server down, then up again: the job is retried ("will retry"),
#    then completes; the queue is never stopped.
#  - a 550 for the recipient: the job is cancelled with the server's words
#    in its state message; the next job still goes.
#  - the sign-in revoked at the identity provider: the job is held with the
#    fix (mail2cups-oauth login office) and the release command; after the
#    sign-in, lp -i N -H resume sends it.
#  - killed after the send (test hook), retried by CUPS: one mail.
#  - mail2cups check: a "CUPS backend" step for the account, and a warning
#    for each of its queues with the stop-printer error policy.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
: "${MAIL2CUPS_BACKEND:=$top_builddir/cups-backend/mail2cups}"
RIG_USER=alice@contoso.com
SVC_UID=5001

rig_require_oauth
rig_require_program
[ -x "$MAIL2CUPS_BACKEND" ] || bail "backend not built: $MAIL2CUPS_BACKEND"
rig_init
d=$RIG_DIR
rig_start_idp
rig_make_certs
RIG_CUPSD_EXTRA="JobRetryInterval 1
JobRetryLimit 60"
RIG_CUPS_FILES_EXTRA="SetEnv MAIL2CUPS_CONF $RIG_CONF"
rig_setup_cups
rig_add_backend mail2cups "$MAIL2CUPS_BACKEND"
rig_start_cups
: >"$d/revoked"
rig_start_smtp --xoauth2-reject-file "$d/revoked" --require-auth \
	--fail-rcpt refused@example.org
smtp_port=$RIG_SMTP_PORT
# The account signs in to the IdP; its IMAP side is never used here.
rig_write_oauth_conf "$RIG_CONF"
rig_conf_smtp "$RIG_CONF" auth='"xoauth2"'
rig_conf_global "$RIG_CONF" replies '{ from = "Office Printer <alice@contoso.com>"; }'
chmod 0644 "$RIG_CONF"
# The service user owns state_dir: the backend (root) switches to it.
chown "$SVC_UID:$SVC_UID" "$RIG_STATE"
chmod 0644 "$RIG_CERT"
rig_device_login
[ "$RIG_RC" = 0 ] || bail "device login failed: $RIG_ERR"

# lpinfo -v runs every backend with no arguments: ours lists the account.
lpinfo_out=$(rig_cups lpinfo -v 2>&1)
like "$lpinfo_out" "network mail2cups://office/alice@contoso.com" \
	"lpinfo -v lists the account that can send mail"

addq() {	# addq QUEUE URI [POLICY]
	local out
	out=$(rig_cups lpadmin -p "$1" -E -v "$2" -m raw \
		-o printer-error-policy="${3:-stop-printer}" 2>&1) || bail "lpadmin $1: $out"
	rig_wait_for "$RIG_TIMEOUT" rig_queue_ready "$1" || bail "queue $1 not ready"
}
addq office 'mail2cups://office/print@example.org'
addq refuse 'mail2cups://office/refused@example.org'

# lpsubmit QUEUE ARGS...: lp, prints the job id.
lpsubmit() {
	local q=$1 out
	shift
	out=$(rig_cups lp -d "$q" "$@" 2>&1) || { diag "lp: $out"; return 1; }
	sed -n 's/^request id is [^ ]*-\([0-9]*\) .*/\1/p' <<<"$out"
}
job_state() { rig_job_attr "$1" job-state; }
job_msg() { rig_job_attr "$1" job-printer-state-message; }
job_is() { [ "$(job_state "$1")" = "$2" ]; }
# job_done ID QUEUE: lpstat lists it completed (cheaper than ipptool, for waits).
job_done() { rig_cups lpstat -W completed -o "$2" 2>/dev/null | grep -q "^$2-$1 "; }
queue_enabled() {	# the queue is not stopped
	rig_cups lpstat -p "$1" 2>/dev/null | grep -q "enabled"
}
wait_mails() { rig_wait_for "$RIG_TIMEOUT" test "$(rig_smtp_count)" -ge "$1"; }

# ---------------------------------------------------------------- 1. a PDF
rig_mkmail pdf "$d/report.pdf" "Quarterly report" || bail "mkmail pdf failed"
t0=$(date +%s.%N)
id1=$(lpsubmit office -t 'Quarterly report.pdf' -n 2 -o sides=two-sided-long-edge \
	-o media=A4 "$d/report.pdf")
rig_wait_for "$RIG_TIMEOUT" job_done "$id1" office
t1=$(date +%s.%N)
is "$(job_state "$id1")" completed "the job completed ($(job_msg "$id1"))"
diag "lp to completed (sent): $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') s"
f=$(rig_smtp_files | head -1)
is "$(rig_smtp_count)" 1 "one mail"
is "$(rig_smtp_json "$f" rcpt_to)" print@example.org "... to the URI's recipient"
is "$(rig_smtp_json "$f" mail_from)" alice@contoso.com "... from the account's address"
is "$(rig_smtp_json "$f" auth_mech)" XOAUTH2 "... signed in with XOAUTH2"
is "$(rig_smtp_json "$f" auth_user)" alice@contoso.com "... as the account"
is "$(rig_smtp_json "$f" tls)" true "... over TLS"
is "$(rig_smtp_header "$f" From)" "Office Printer <alice@contoso.com>" "From with the display name"
is "$(rig_smtp_header "$f" To)" print@example.org "To"
is "$(rig_smtp_header "$f" Subject)" "Quarterly report.pdf [2 copies, duplex, A4]" \
	"Subject: the title with the options as subject tags"
like "$(rig_smtp_header "$f" Message-ID)" '^<.+@contoso\.com>$' "a Message-ID"
like "$(rig_smtp_header "$f" Date)" '[0-9]{2}:[0-9]{2}:[0-9]{2}' "a Date"
like "$(rig_smtp_header "$f" X-Mail2cups-Job)" "^office-$id1; user=root; uuid=urn:uuid:" \
	"X-Mail2cups-Job names the queue, the job, its owner and its UUID"
python3 - "$f" "$d/got.pdf" >"$d/att.txt" <<'PY'
import sys
from email import message_from_binary_file
from email.policy import default
m = message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for part in m.iter_attachments():
    open(sys.argv[2], "wb").write(part.get_content())
    print(part.get_content_type(), part.get_filename())
PY
is "$(cat "$d/att.txt")" "application/pdf Quarterly report.pdf" \
	"the attachment: application/pdf, named from the title"
if cmp -s "$d/report.pdf" "$d/got.pdf"; then ok "the attached PDF is byte-identical"
else not_ok "the attached PDF is byte-identical"; fi
if grep -qv $'\r$' "$f"; then not_ok "the mail has CRLF line ends only"
else ok "the mail has CRLF line ends only"; fi
st=$(stat -c %u "$RIG_STATE/state.db" 2>/dev/null)
is "$st" "$SVC_UID" "state.db belongs to the service uid (the backend switched from root)"
is "$(find "$RIG_STATE/scratch" -type f | wc -l)" 0 "no scratch file left"

# mail2cups check: the backend step, and the stop-printer policy warned of.
rig_run check
like "$RIG_OUT" "office: CUPS backend .. ok \(queues office, refuse; 127\.0\.0\.1:$smtp_port, starttls, XOAUTH2\)" \
	"check: a CUPS backend step for the account its queues send through"
like "$RIG_OUT" "warning: queue office has the stop-printer error policy.*printer-error-policy=retry-job" \
	"check: warns of a backend queue with the stop-printer error policy"

# ---------------------------------------------------------------- 2. SMTP down
rig_stop_smtp
id2=$(lpsubmit office -t 'While down' "$d/report.pdf")
retrying() { [[ $(job_msg "$id2") == *"will retry"* ]]; }
rig_wait_for "$RIG_TIMEOUT" retrying
like "$(job_msg "$id2")" "will retry: cannot reach the SMTP server" \
	"SMTP down: the job's state message says it will retry"
ok_enabled=1
for i in 1 2 3; do
	queue_enabled office || ok_enabled=0
	sleep 0.5
done
is "$ok_enabled" 1 "... and the queue is not stopped while it retries"
rig_start_smtp --port "$smtp_port" --xoauth2-reject-file "$d/revoked" --require-auth \
	--fail-rcpt refused@example.org
rig_wait_for "$RIG_TIMEOUT" job_is "$id2" completed
is "$(job_state "$id2")" completed "the SMTP server back: the retried job completed"
is "$(rig_smtp_count)" 2 "... one mail for it"
queue_enabled office && ok "the queue is still enabled" || not_ok "the queue is still enabled"

# ---------------------------------------------------------------- 3. 550
id3=$(lpsubmit refuse -t 'Refused' "$d/report.pdf")
gone() { job_is "$id3" canceled || job_is "$id3" aborted; }
rig_wait_for "$RIG_TIMEOUT" gone
like "$(job_state "$id3")" '^(canceled|aborted)$' "a 550: the job is cancelled ($(job_state "$id3"))"
like "$(job_msg "$id3")" "550" "... with the server's words in its state message"
lpl=$(rig_cups lpstat -l -p refuse 2>&1)
like "$lpl" "550" "... which lpstat -l -p shows"
queue_enabled refuse && ok "... and the queue is not stopped" || not_ok "... and the queue is not stopped" "$lpl"
id3b=$(lpsubmit refuse -t 'Next' -o 'job-name=Next' "$d/report.pdf")
# The refusal is per recipient: this queue keeps working for its next job
# (it is refused the same way), and the office queue prints on.
rig_wait_for "$RIG_TIMEOUT" gone
id3c=$(lpsubmit office -t 'After the refusal' "$d/report.pdf")
rig_wait_for "$RIG_TIMEOUT" job_is "$id3c" completed
is "$(job_state "$id3c")" completed "the next job completes"
next() { job_is "$id3b" canceled || job_is "$id3b" aborted; }
rig_wait_for "$RIG_TIMEOUT" next && ok "the refused queue handled its next job too" ||
	not_ok "the refused queue handled its next job too" "$(job_state "$id3b")"

# ---------------------------------------------------------------- 4. revoked
rig_oauth token office
[ "$RIG_RC" = 0 ] || diag "token: $RIG_ERR"
printf '%s\n' "$RIG_OUT" >"$d/revoked"
rig_idp POST /test/revoke "{\"user\": \"$RIG_USER\"}" >/dev/null
n_before=$(rig_smtp_count)
id4=$(lpsubmit office -t 'Revoked' "$d/report.pdf")
rig_wait_for "$RIG_TIMEOUT" job_is "$id4" pending-held
is "$(job_state "$id4")" pending-held "the sign-in revoked: the job is held"
like "$(job_msg "$id4")" "lp -i $id4 -H resume" "... its state message says how to release it"
grep -q "mail2cups-oauth login office" "$d/cups/log/error_log" &&
	ok "... and the log has the fix (mail2cups-oauth login office)" ||
	not_ok "... and the log has the fix (mail2cups-oauth login office)"
queue_enabled office && ok "... the queue is not stopped" || not_ok "... the queue is not stopped"
is "$(rig_smtp_count)" "$n_before" "... nothing was sent"
rig_device_login
[ "$RIG_RC" = 0 ] || diag "login again: $RIG_ERR"
rig_release "$id4"
rig_wait_for "$RIG_TIMEOUT" job_is "$id4" completed
is "$(job_state "$id4")" completed "signed in again and released: the job is sent"
is "$(rig_smtp_count)" $((n_before + 1)) "... once"

# ---------------------------------------------------------------- 5. killed after the send
rig_stop_cups
printf 'SetEnv MAIL2CUPS_TEST_STOP_AT backend-after-record\n' >>"$d/cups/etc/cups-files.conf"
rig_start_cups
addq crash 'mail2cups://office/print@example.org' retry-job
n_before=$(rig_smtp_count)
id5=$(lpsubmit crash -t 'Crash test' "$d/report.pdf")
rig_wait_for 60 job_is "$id5" completed
is "$(job_state "$id5")" completed "killed after the send, retried by CUPS: completed"
grep -q "test hook: stopping at backend-after-record" "$d/cups/log/error_log" &&
	ok "... the first run was killed after recording the send" ||
	not_ok "... the first run was killed after recording the send"
grep -q "was sent already" "$d/cups/log/error_log" &&
	ok "... the retry found it sent" || not_ok "... the retry found it sent"
is "$(rig_smtp_count)" $((n_before + 1)) "... one mail, not two"
tap_done
