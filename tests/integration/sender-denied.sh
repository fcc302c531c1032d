#!/bin/bash
# sender-denied.sh - a sender outside allow_senders: nothing printed, the
# message goes to the rejected folder ("Print Rejected" by default, not the
# failed folder) with the reason logged.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf" --from mallory@evil.example

rig_run once
expect_rc 0 "once exits 0"
expect_nothing_printed "nothing printed"
expect_counts alice "0/0/0/1" "the message moved to Print Rejected"
expect_stderr "mallory@evil\.example" "stderr names the refused sender"
expect_stderr "(sender|allow)" "stderr says the sender is not allowed"

rig_run once
expect_rc 0 "a second pass exits 0"
expect_nothing_printed "and prints nothing either"
expect_counts alice "0/0/0/1" "the message stays in Print Rejected"
tap_done
