#!/bin/bash
# deny-senders.sh - deny_senders wins over allow_senders: an address and a
# wildcard inside the allowed domain are refused, as is a sender outside
# allow_senders; the refused mails go to Print Rejected, never printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup allow_senders='[ "*@example.com" ]' \
	deny_senders='[ "mallory@example.com", "temp-*@example.com" ]'
d=$RIG_DIR
rig_deliver_pdf "$d/bob.pdf" --from bob@example.com
rig_deliver_pdf "$d/mallory.pdf" --from Mallory@Example.COM
rig_deliver_pdf "$d/temp.pdf" --from temp-42@example.com
rig_deliver_pdf "$d/eve.pdf" --from eve@other.example

rig_run once
expect_rc 0 "once exits 0"
expect_printed "only bob's PDF printed" "$d/bob.pdf"
is "$(rig_jobs | cut -f3,4)" "bob@example.com	bob.pdf" "CUPS has bob's job only"
expect_counts alice "1/0/0/3" "the three refused mails moved to Print Rejected"
expect_stderr "mallory@example\.com" "stderr names the denied address"
expect_stderr "temp-42@example\.com" "stderr names the sender denied by wildcard"
expect_stderr_line "stderr says deny_senders refused mallory" "mallory@example\.com" "deny"
expect_stderr "eve@other\.example" "stderr names the sender outside allow_senders"
tap_done
