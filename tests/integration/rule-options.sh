#!/bin/bash
# rule-options.sh - a rule's options reach CUPS as job attributes; its
# allow_options limit what a subject tag may change and max_copies caps
# the copies; a rule's options word by word ("2 copies", "landscape",
# "fit to page", "pages 1-3", "color", "monochrome", "duplex", "A4");
# a mail no rule matches gets the sender's tags as they are.  A rule's
# colour and paper are not the sender's to change unless allow_options
# says so, and force_options bind whatever allow_options says (#10-6).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup rules='(
	{ name = "duplex-a4"; recipients = [ "print+duplex@example.com" ];
	  options = [ "duplex", "A4", "monochrome" ];
	  allow_options = [ "copies", "pages" ]; max_copies = 3; },
	{ name = "poster"; subjects = [ "poster*" ];
	  options = [ "2 copies", "landscape", "fit to page", "pages 1-3", "color" ];
	  allow_options = [ "hold" ]; },
	{ name = "mono-default"; recipients = [ "print+mono@example.com" ];
	  options = [ "monochrome", "A4", "duplex" ]; },
	{ name = "forced"; recipients = [ "print+forced@example.com" ];
	  force_options = [ "monochrome", "1 copy" ]; options = [ "duplex" ];
	  allow_options = [ "copies", "color", "sides", "orientation" ]; } )'
d=$RIG_DIR
rig_deliver_pdf "$d/capped.pdf" --to print+duplex@example.com \
	--subject 'Handout [5 copies, colour, pages 1-1, simplex]'
rig_deliver_pdf "$d/ruleonly.pdf" --to print+duplex@example.com --subject 'Handout'
rig_deliver_pdf "$d/poster.pdf" --subject 'poster [duplex, 9 copies]'
rig_deliver_pdf "$d/norule.pdf" --subject 'Photo [3 copies, short-edge] #landscape'
rig_deliver_pdf "$d/mono.pdf" --to print+mono@example.com --subject 'Flyer [2 copies, simplex, A3] #color'
rig_deliver_pdf "$d/forced.pdf" --to print+forced@example.com --subject 'Flyer [4 copies, simplex] #color #landscape'

rig_run once
expect_rc 0 "once exits 0"
expect_printed "all six printed" "$d/capped.pdf" "$d/ruleonly.pdf" "$d/poster.pdf" "$d/norule.pdf" \
	"$d/mono.pdf" "$d/forced.pdf"
expect_job_attrs "$(rig_job_id capped.pdf)" \
	"copies=3 page-ranges=1-1 sides=two-sided-long-edge media=iso_a4_210x297mm print-color-mode=monochrome" \
	"allowed tags on top of the rule: 5 copies capped at 3, pages taken; colour and simplex refused"
expect_stderr_line "the copies cap is reported" "5 copies|copies" "at most 3|max"
expect_stderr_line "the refused colour is reported" "colou?r" "not allowed|refused"
expect_job_attrs "$(rig_job_id ruleonly.pdf)" \
	"sides=two-sided-long-edge media=iso_a4_210x297mm print-color-mode=monochrome copies!=2 page-ranges=" \
	"the rule's own options without tags"
expect_job_attrs "$(rig_job_id poster.pdf)" \
	"copies=2 orientation-requested=landscape print-scaling=fit page-ranges=1-3 print-color-mode=color sides!=two-sided-long-edge" \
	"the poster rule's options; the sender's duplex and 9 copies refused"
expect_job_attrs "$(rig_job_id norule.pdf)" \
	"copies=3 sides=two-sided-short-edge orientation-requested=landscape media!=iso_a4_210x297mm" \
	"no rule: the sender's tags as given"
expect_job_attrs "$(rig_job_id mono.pdf)" \
	"copies=2 sides=one-sided print-color-mode=monochrome media=iso_a4_210x297mm" \
	"no allow_options: copies and sides are the sender's, the rule's colour and paper are not"
expect_job_attrs "$(rig_job_id forced.pdf)" \
	"copies!=4 sides=one-sided print-color-mode=monochrome orientation-requested=landscape" \
	"force_options bind (monochrome, 1 copy) though allow_options lists copies and color"
tap_done
