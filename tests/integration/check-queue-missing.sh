#!/bin/bash
# check-queue-missing.sh - printer names no CUPS queue: exit 69, the line
# names the queue and `lpstat -p`; the IMAP checks still run and are ok.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup printer='"nosuchq"'
rig_deliver_pdf "$RIG_DIR/doc.pdf"

rig_run check
expect_rc 69 "check exits 69"
like "$RIG_OUT" "test: CUPS queue \.+ FAILED: .*nosuchq" "the CUPS line fails and names the queue"
like "$RIG_OUT" $'CUPS queue [^\n]*\n    fix: [^\n]*lpstat -p' "the fix says lpstat -p"
like "$RIG_OUT" "test: IMAP \.+ ok" "IMAP still checked, ok"
like "$RIG_OUT" "test: mailbox \.+ ok \(INBOX: 1 message, 1 unseen" "mailbox still checked, ok"
expect_flags alice INBOX '1' "the message is still unseen"
tap_done
