#!/bin/bash
# exe-as-pdf.sh - an ELF executable sent as "invoice.pdf" (application/pdf):
# refused, nothing printed, the message goes to the failed folder.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
head -c 20000 "$(type -P true)" >"$d/invoice.pdf"
is "$(head -c 4 "$d/invoice.pdf" | od -An -c | tr -d ' ')" '177ELF' "the sample is an ELF executable"
rig_mkmail mail "$d/m.eml" --attach "$d/invoice.pdf:invoice.pdf:application/pdf"
rig_deliver alice "$d/m.eml"

rig_run once
expect_rc 0 "once exits 0"
expect_nothing_printed "nothing printed"
expect_counts alice "0/0/1" "the message moved to Print Failed"
expect_stderr "invoice\.pdf" "stderr names the refused attachment"
tap_done
