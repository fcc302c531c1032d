#!/bin/bash
# related-logo.sh - an HTML body with an inline signature logo in
# multipart/related, and a PDF attachment: only the PDF is printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_mkmail pdf "$d/invoice.pdf" "related-logo"
rig_mkmail png "$d/logo.png" 3
rig_mkmail mail "$d/m.eml" --related-logo "$d/logo.png" --attach "$d/invoice.pdf"
rig_deliver alice "$d/m.eml"

rig_run once
expect_rc 0 "once exits 0"
expect_printed "only the PDF is received" "$d/invoice.pdf"
is "$(rig_jobs | cut -f4)" "invoice.pdf" "one job, for invoice.pdf"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
tap_done
