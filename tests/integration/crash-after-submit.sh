#!/bin/bash
# crash-after-submit.sh - the program dies right after the CUPS job was
# created (test hook, exit 98), before recording or flagging anything: the
# next pass finds that job and does not print again; the message ends \Seen.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"

MAIL2CUPS_TEST_STOP_AT=after-submit rig_run once
expect_rc 98 "the crash hook stops the run with 98"
expect_printed "the job created before the crash printed" "$d/doc.pdf"
expect_flags alice INBOX '1' "the message is not flagged yet"

rig_run once
expect_rc 0 "the next once exits 0"
expect_printed "exactly one document at the printer" "$d/doc.pdf"
is "$(rig_job_count)" 1 "exactly one CUPS job"
expect_flags alice INBOX '1 \Seen' "the message ends \Seen"
rig_run once
expect_rc 0 "a third once exits 0"
is "$(rig_job_count)" 1 "still exactly one CUPS job"
tap_done
