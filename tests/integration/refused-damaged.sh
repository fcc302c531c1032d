#!/bin/bash
# refused-damaged.sh - what must not print, even from an allowed sender: a
# message with two From addresses (both allowed, DMARC pass) goes to the
# rejected folder with the reason; a PDF whose base64 was cut mid-quantum
# and one cut short (no trailer) go to the failed folder with "arrived
# damaged; send it again"; nothing reaches the printer.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
data=$top_srcdir/tests/data/mime
rig_deliver_pdf "$d/two.pdf" --from "ann@example.com, bob@example.com" --auth dmarc=pass
rig_deliver "$RIG_USER" "$data/cut-quantum.eml"
rig_deliver "$RIG_USER" "$data/half-pdf.eml"

rig_run once
expect_rc 0 "once exits 0 (the messages failed, the pass did not)"
expect_nothing_printed "nothing printed"
expect_counts "$RIG_USER" "0/0/2/1" "two damaged messages failed, the two-From one rejected"
expect_stderr_line "two From addresses: refused, naming both" "2 From addresses" \
	"ann@example\.com, bob@example\.com"
expect_stderr_line "base64 cut mid-quantum: damaged" "report\.pdf arrived damaged; send it again" \
	"stops in the middle"
expect_stderr_line "a PDF without its trailer: damaged" "report\.pdf arrived damaged; send it again" \
	"PDF stops before its end"
is "$(rig_db "SELECT status, count(*) FROM messages GROUP BY status ORDER BY status" | paste -sd ';')" \
	"done 3" "the state database has the three messages done"
is "$(rig_db "SELECT count(*) FROM messages WHERE reason LIKE '%arrived damaged; send it again%'")" 2 \
	"... two with the damage as their reason"

rig_run once
expect_rc 0 "a second pass exits 0"
expect_nothing_printed "and prints nothing either"
expect_counts "$RIG_USER" "0/0/2/1" "each message stays in its one folder"
tap_done
