#!/bin/bash
# route-plus-address.sh - rules route by recipient to two more queues:
# print+floor2@ to "floor2", print+floor3@ to "floor3", anything else to
# the account's printer; the recipient may be in To, Cc or Delivered-To.
# A global rule (tried after the account's) routes by sender, when the
# provider authenticated the sender: a forged carol@ (no verdict, #10-3)
# goes to the account's printer.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup authserv_id='"mx.rig.test"' rules='(
	{ name = "floor2"; recipients = [ "print+floor2@example.com" ]; printer = "floor2"; },
	{ name = "floor3"; recipients = [ "print+floor3@*" ]; printer = "floor3"; } )'
rig_conf_global "$RIG_CONF" rules \
	'( { name = "carol"; senders = [ "carol@example.com" ]; printer = "floor2"; } )'
rig_add_fast_queue floor2
rig_add_fast_queue floor3
d=$RIG_DIR
rig_deliver_pdf "$d/to2.pdf" --to print+floor2@example.com
rig_deliver_pdf "$d/to3.pdf" --to 'Print Floor 3 <PRINT+floor3@example.com>'
rig_deliver_pdf "$d/plain.pdf" --to print@example.com
rig_deliver_pdf "$d/delivered3.pdf" --to print@example.com \
	--header 'Delivered-To: print+floor3@example.com'
rig_deliver_pdf "$d/cc2.pdf" --to someone@example.com --cc print+floor2@example.com
rig_deliver_pdf "$d/carol.pdf" --from carol@example.com --to print@example.com --auth pass
rig_deliver_pdf "$d/carol-forged.pdf" --from carol@example.com --to print@example.com

rig_run once
expect_rc 0 "once exits 0"
expect_printed "all seven PDFs printed" "$d/to2.pdf" "$d/to3.pdf" "$d/plain.pdf" \
	"$d/delivered3.pdf" "$d/cc2.pdf" "$d/carol.pdf" "$d/carol-forged.pdf"
names() { rig_jobs "$1" | cut -f4 | sort | paste -sd ' '; }
is "$(names floor2)" "carol.pdf cc2.pdf to2.pdf" \
	"floor2 got print+floor2@ (To and Cc) and authenticated carol's (global sender rule)"
is "$(names floor3)" "delivered3.pdf to3.pdf" \
	"floor3 got print+floor3@ (To, any case, and Delivered-To)"
is "$(names "$RIG_QUEUE")" "carol-forged.pdf plain.pdf" \
	"the account's printer got the rest, and the forged carol@'s"
expect_stderr "rule carol is for senders, and the mailbox provider did not authenticate carol@example.com" \
	"the log names the sender rule passed over"
expect_counts alice "7/0/0" "every message stays in INBOX"
tap_done
