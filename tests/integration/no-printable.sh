#!/bin/bash
# no-printable.sh - a mail whose only attachment is a .docx: nothing is
# printed, the message goes to "Print Failed", and stderr says why.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_mkmail docx "$d/minutes.docx"
rig_mkmail mail "$d/m.eml" --attach "$d/minutes.docx"
rig_deliver alice "$d/m.eml"

rig_run once
expect_rc 0 "once exits 0 (a bad message is not a failed run)"
expect_nothing_printed "nothing printed"
expect_counts alice "0/0/1" "the message moved to Print Failed"
expect_stderr "printable" "stderr gives the reason (no printable attachment)"
expect_summary 'test: 1 new message, 0 printed(, [0-9]+ skipped \(see above\))?, [1-9][0-9]* failed \(see above\)' "summary counts a failure, no job"
rig_run once
expect_nothing_printed "a second pass prints nothing either"
expect_counts alice "0/0/1" "and moves nothing"
tap_done
