#!/bin/bash
# cups-down.sh - CUPS is not running: the mail stays unseen, the run exits
# 75 or 69 and says CUPS is unreachable; after CUPS is back, the next pass
# prints it exactly once.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"
rig_stop_cups

rig_run once
like "$RIG_RC" "^(75|69)$" "CUPS down: once exits 75 or 69"
[[ $RIG_RC =~ ^(75|69)$ ]] || rig_show_run
expect_stderr "cups" "stderr names CUPS"
expect_stderr "(unreachable|not reachable|cannot reach|can't reach|unavailable|not running|connection refused)" "stderr says it is unreachable"
expect_flags alice INBOX '1' "the message is still unseen"
expect_counts alice "1/0/0" "nothing moved"

rig_start_cups
rig_run once
expect_rc 0 "CUPS back: once exits 0"
expect_printed "the PDF is printed" "$d/doc.pdf"
is "$(rig_job_count)" 1 "exactly one CUPS job"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
rig_run once
expect_printed "a third pass prints nothing more" "$d/doc.pdf"
tap_done
