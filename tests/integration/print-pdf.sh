#!/bin/bash
# print-pdf.sh - a mail with one PDF: printed byte for byte as one job named
# after the attachment, requested by the sender; the message ends \Seen and
# a second pass prints nothing more.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/report.pdf" --from bob@example.com

rig_run once
expect_rc 0 "once exits 0"
expect_printed "the printer received the PDF byte for byte" "$d/report.pdf"
is "$(rig_jobs)" "1	completed	bob@example.com	report.pdf" "one job, named report.pdf, user bob@example.com"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
expect_counts alice "1/0/0" "the message stays in INBOX"
expect_summary 'test: 1 new message, 1 printed' "summary line counts one job"

rig_run once
expect_rc 0 "second once exits 0"
expect_printed "the second pass printed nothing more" "$d/report.pdf"
is "$(rig_job_count)" 1 "CUPS still has exactly one job"
expect_flags alice INBOX '1 \Seen' "the message is still \Seen"
expect_summary 'test: nothing new' "second summary: nothing fetched"
tap_done
