#!/bin/bash
# hold-release.sh - a rule with hold = true and a "#hold" tag submit jobs
# held in CUPS (pending-held, job-hold-until=indefinite): nothing reaches
# the printer until `lp -i ID -H resume`, then the job completes; a mail
# without either prints at once.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup rules='( { name = "held"; recipients = [ "print+hold@example.com" ]; hold = true; } )'
d=$RIG_DIR
rig_deliver_pdf "$d/byrule.pdf" --to print+hold@example.com
rig_deliver_pdf "$d/bytag.pdf" --subject 'Payslips #hold'
rig_deliver_pdf "$d/now.pdf"

rig_run once
expect_rc 0 "once exits 0"
rule=$(rig_job_id byrule.pdf)
tag=$(rig_job_id bytag.pdf)
expect_job_attrs "$rule" "job-state=pending-held job-hold-until=indefinite" \
	"the rule's job is held indefinitely"
expect_job_attrs "$tag" "job-state=pending-held job-hold-until=indefinite" \
	"the #hold job is held indefinitely"
rig_wait_for "$RIG_TIMEOUT" rig_job_done "$(rig_job_id now.pdf)"
expect_job_attrs "$(rig_job_id now.pdf)" "job-state=completed job-hold-until!=indefinite" \
	"the other job completed at once"
RIG_NO_WAIT=1 expect_printed "only the unheld PDF reached the printer" "$d/now.pdf"
expect_flags alice INBOX '1 \Seen;2 \Seen;3 \Seen' "all three messages are done (\\Seen)"

rig_run once
expect_rc 0 "a second pass exits 0"
is "$(rig_job_state "$rule")/$(rig_job_state "$tag")" "pending-held/pending-held" \
	"a second pass leaves the held jobs held (and submits nothing again)"
is "$(rig_job_count)" 3 "CUPS still has three jobs"

out=$(rig_release "$rule" 2>&1) || diag "lp -H resume: $out"
rig_wait_for "$RIG_TIMEOUT" rig_job_done "$rule" &&
	ok "lp -i $rule -H resume releases the rule's job and it completes" ||
	not_ok "lp -i $rule -H resume releases the rule's job and it completes" \
		"state $(rig_job_state "$rule")"
is "$(rig_job_state "$tag")" pending-held "the other held job is still held"
RIG_NO_WAIT=1 expect_printed "the released PDF printed byte for byte" "$d/now.pdf" "$d/byrule.pdf"
rig_release "$tag" >/dev/null 2>&1
rig_wait_for "$RIG_TIMEOUT" rig_job_done "$tag"
expect_printed "after the second release all three printed" "$d/now.pdf" "$d/byrule.pdf" "$d/bytag.pdf"
tap_done
