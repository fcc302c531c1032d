#!/bin/bash
# subject-options.sh - print options in the subject reach CUPS as job
# attributes (read back with ipptool get-job-attributes): "[2 copies,
# duplex, A4]", "#color", "#landscape", "[pages 1-2, fit]"; an unknown tag
# is reported and not used, "[EXTERNAL]" (no option word) is ignored; a
# rule that allows only copies refuses the rest of what the sender asks.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup rules='( { name = "copies-only"; subjects = [ "restricted*" ];
	allow_options = [ "copies" ]; } )'
d=$RIG_DIR
rig_deliver_pdf "$d/a.pdf" --subject 'Report [2 copies, duplex, A4] #color #landscape'
rig_deliver_pdf "$d/b.pdf" --subject '[EXTERNAL] Minutes [pages 1-2, fit, copeis 3] #urgent'
rig_deliver_pdf "$d/c.pdf" --subject 'restricted [color, 3 copies, duplex]'
rig_deliver_pdf "$d/d.pdf" --subject 'No options here'

rig_run once
expect_rc 0 "once exits 0"
expect_printed "all four printed (options refused or unknown do not stop a job)" \
	"$d/a.pdf" "$d/b.pdf" "$d/c.pdf" "$d/d.pdf"
expect_job_attrs "$(rig_job_id a.pdf)" \
	"copies=2 sides=two-sided-long-edge media=iso_a4_210x297mm print-color-mode=color orientation-requested=landscape job-state=completed" \
	"[2 copies, duplex, A4] #color #landscape reach CUPS"
expect_job_attrs "$(rig_job_id b.pdf)" \
	"page-ranges=1-2 print-scaling=fit copies!=3 job-state=completed" \
	"[pages 1-2, fit] reach CUPS; the misspelt \"copeis 3\" is not guessed"
unknown='unknown|not an option|not used|ignor'
expect_stderr_line "the unknown tag \"copeis 3\" is reported" "copeis" "$unknown"
expect_stderr_line "the unknown hashtag #urgent is reported" "urgent" "$unknown"
expect_no_stderr_line "[EXTERNAL] (no option word) is not reported as a tag" "EXTERNAL" "$unknown"
expect_job_attrs "$(rig_job_id c.pdf)" \
	"copies=3 print-color-mode!=color sides!=two-sided-long-edge" \
	"a copies-only rule takes the copies and refuses colour and duplex"
expect_stderr_line "the refused colour option is reported" "colou?r" "not allowed|refused"
expect_job_attrs "$(rig_job_id d.pdf)" \
	"sides!=two-sided-long-edge print-color-mode!=color orientation-requested!=landscape page-ranges=" \
	"a subject without tags gets no options"
tap_done
