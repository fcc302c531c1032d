#!/bin/bash
# backend-roundtrip.sh - print to the office from home: `lp -n 2 -o
# sides=two-sided-long-edge report.pdf` on a queue whose device URI is
# mail2cups://test/alice@example.com leaves as mail (the SMTP sink stands
# for the provider's SMTP server); the message is delivered into the rig's
# Dovecot as the receiving MX would (doveadm save, with the MX's
# Authentication-Results on top); `mail2cups once` on that mailbox prints it
# on the ippeveprinter queue byte-identical, with copies=2 and sides as
# asked, and the "printed" reply comes back to the sender.  The time from
# lp to the far job completing is printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
: "${MAIL2CUPS_BACKEND:=$top_builddir/cups-backend/mail2cups}"

rig_require_all
rig_require_program
[ -x "$MAIL2CUPS_BACKEND" ] || bail "backend not built: $MAIL2CUPS_BACKEND"
rig_init
d=$RIG_DIR
RIG_CUPS_FILES_EXTRA="SetEnv MAIL2CUPS_CONF $RIG_CONF"
rig_setup_cups
rig_add_backend mail2cups "$MAIL2CUPS_BACKEND"
rig_start_all
rig_start_smtp
rig_write_conf "$RIG_CONF" authserv_id='"mx.rig.test"' reply='[ "printed" ]'
rig_conf_smtp "$RIG_CONF"
rig_conf_global "$RIG_CONF" replies '{ from = "Home Laptop <home@example.com>"; }'
out=$(rig_cups lpadmin -p home -E -v 'mail2cups://test/alice@example.com' -m raw 2>&1) ||
	bail "lpadmin home: $out"
rig_wait_for "$RIG_TIMEOUT" rig_queue_ready home || bail "queue home not ready"

done_on() { rig_cups lpstat -W completed -o "$1" 2>/dev/null | grep -q "^$1-$2 "; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

rig_mkmail pdf "$d/report.pdf" "Report for the office" || bail "mkmail pdf failed"
t0=$(now)
out=$(cd "$d" && rig_cups lp -d home -n 2 -o sides=two-sided-long-edge report.pdf 2>&1)
id=$(sed -n 's/^request id is home-\([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$id" ] || bail "lp failed: $out"
diag "\$ lp -d home -n 2 -o sides=two-sided-long-edge report.pdf"
diag "$out"
rig_wait_for "$RIG_TIMEOUT" done_on home "$id"
t_sent=$(now)
ok_or() { if "$@"; then ok "$DESC"; else not_ok "$DESC"; fi; }
DESC="the home queue's job completed: the mail went" ok_or done_on home "$id"
diag "\$ lpstat -W completed -o home"
diag "$(rig_cups lpstat -W completed -o home 2>&1)"
f=$(rig_smtp_files | head -1)
is "$(rig_smtp_header "$f" Subject)" "report.pdf [2 copies, duplex]" \
	"the mail's subject carries the options as tags"

# The receiving MX: its verdict on top, then into alice's INBOX.
{ printf 'Authentication-Results: mx.rig.test; dmarc=pass header.from=example.com\r\n'
  cat "$f"; } >"$d/arrived.eml"
rig_deliver "$RIG_USER" "$d/arrived.eml"
t_delivered=$(now)
rig_run once
expect_rc 0 "mail2cups once exits 0"
far=$(rig_job_id report.pdf "$RIG_QUEUE")
[ -n "$far" ] || diag "jobs on $RIG_QUEUE: $(rig_jobs)"
rig_wait_for "$RIG_TIMEOUT" done_on "$RIG_QUEUE" "$far"
t1=$(now)
expect_printed "the far printer received report.pdf byte-identical" "$d/report.pdf"
expect_job_attrs "$far" "copies=2 sides=two-sided-long-edge job-state=completed" \
	"the far job: 2 copies, two-sided-long-edge, completed"
is "$(rig_job_attr "$far" job-originating-user-name)" "home@example.com" \
	"... requested by the sender's address"
diag "\$ lpstat -W completed -o $RIG_QUEUE"
diag "$(rig_cups lpstat -W completed -o "$RIG_QUEUE" 2>&1)"
diag "lp to mail sent: $(secs "$t0" "$t_sent") s; lp to far job completed: $(secs "$t0" "$t1") s (of which the test's delivery step $(secs "$t_sent" "$t_delivered") s)"

# The printed reply, on the pass after the job completed.
rig_run once
expect_rc 0 "a second pass exits 0"
r=$(rig_smtp_to home@example.com | head -1)
if [ -n "$r" ]; then ok "the printed reply came back to the sender"
else not_ok "the printed reply came back to the sender" "$RIG_ERR"; fi
like "$(rig_smtp_header "$r" Subject)" "report.pdf" "... about report.pdf"
like "$(rig_smtp_body "$r")" "2 copies" "... naming the options used"
diag "reply: $(rig_smtp_header "$r" Subject)"
tap_done
