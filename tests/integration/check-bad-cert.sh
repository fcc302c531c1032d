#!/bin/bash
# check-bad-cert.sh - the server's certificate does not verify (no
# ca_file): the IMAP line fails with the client's reason and the fix,
# the mailbox is skipped, exit 69.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup ca_file=

rig_run check
expect_rc 69 "check exits 69"
like "$RIG_OUT" "test: IMAP \.+ FAILED: cannot verify the TLS certificate" "IMAP fails on the certificate"
like "$RIG_OUT" $'IMAP [^\n]*\n    fix: [^\n]*set ca_file' "the fix says ca_file"
like "$RIG_OUT" "test: mailbox \.+ skipped" "mailbox skipped"
like "$RIG_OUT" "test: CUPS queue \.+ ok" "CUPS ok"
tap_done
