#!/bin/bash
# wrong-password.sh - the server refuses the password: exit 77 (sign-in
# refused), a clear error, nothing printed, the message still unseen.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"
printf '%s' wrong >"$d/alice.pass"

rig_run once
expect_rc 77 "once exits 77"
expect_stderr "(password|credential|authenticat|login|sign.?in)" "stderr says the sign-in was refused"
if [[ $RIG_ERR == *wrong* ]]; then not_ok "the password is not echoed on stderr"; else ok "the password is not echoed on stderr"; fi
expect_nothing_printed "nothing printed"
expect_flags alice INBOX '1' "the message is still unseen"
expect_counts alice "1/0/0" "nothing moved"

# The same rig with the right password works at once (no lockout left).
printf '%s' "$RIG_PASS" >"$d/alice.pass"
rig_run once
expect_rc 0 "with the right password once exits 0"
expect_printed "and prints the PDF" "$d/doc.pdf"
tap_done
