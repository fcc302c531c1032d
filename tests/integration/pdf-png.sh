#!/bin/bash
# pdf-png.sh - a PDF and a PNG in one mail: two jobs (never one job with two
# documents), both documents received byte for byte.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_mkmail pdf "$d/letter.pdf" "pdf-png"
rig_mkmail png "$d/photo.png" 7
rig_mkmail mail "$d/m.eml" --attach "$d/letter.pdf" --attach "$d/photo.png"
rig_deliver alice "$d/m.eml"

rig_run once
expect_rc 0 "once exits 0"
expect_printed "two byte-identical documents received" "$d/letter.pdf" "$d/photo.png"
is "$(rig_job_count)" 2 "two CUPS jobs"
is "$(rig_jobs | cut -f2,3,4 | sort | paste -sd ';')" \
	"completed	bob@example.com	letter.pdf;completed	bob@example.com	photo.png" \
	"the jobs are named after the attachments"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
expect_summary 'test: 1 new message, 2 printed' "summary line counts two jobs"
tap_done
