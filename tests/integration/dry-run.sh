#!/bin/bash
# dry-run.sh - once --dry-run prints nothing and changes nothing on the
# server; a real pass afterwards still prints the message.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_mkmail pdf "$d/doc.pdf" "dry-run"
rig_mkmail docx "$d/x.docx"
rig_mkmail mail "$d/m1.eml" --attach "$d/doc.pdf"
rig_mkmail mail "$d/m2.eml" --attach "$d/x.docx"
rig_deliver alice "$d/m1.eml"
rig_deliver alice "$d/m2.eml"

rig_run once --dry-run
expect_rc 0 "once --dry-run exits 0"
expect_nothing_printed "dry run: nothing printed"
expect_flags alice INBOX '1;2' "dry run: both messages still unseen"
expect_counts alice "2/0/0" "dry run: nothing moved"
like "$RIG_OUT $RIG_ERR" "doc\.pdf" "dry run: the output tells what would be printed"

rig_run once
expect_rc 0 "a real once exits 0"
expect_printed "the real pass prints the PDF" "$d/doc.pdf"
expect_counts alice "1/0/1" "the real pass moves the .docx mail to Print Failed"
tap_done
