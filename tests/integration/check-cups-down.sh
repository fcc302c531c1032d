#!/bin/bash
# check-cups-down.sh - cupsd is not running: the CUPS line says it cannot
# be reached and how to fix it; the IMAP checks still run and are ok;
# exit 69.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
rig_deliver_pdf "$RIG_DIR/doc.pdf"
rig_stop_cups

rig_run check
expect_rc 69 "check exits 69"
like "$RIG_OUT" "test: CUPS queue \.+ FAILED: cannot reach CUPS" "the CUPS line says CUPS cannot be reached"
like "$RIG_OUT" $'CUPS queue [^\n]*\n    fix: start CUPS' "the fix says to start CUPS"
like "$RIG_OUT" "test: IMAP \.+ ok" "IMAP still checked, ok"
like "$RIG_OUT" "test: mailbox \.+ ok \(INBOX: 1 message, 1 unseen" "mailbox still checked, ok"
expect_flags alice INBOX '1' "the message is still unseen"
tap_done
