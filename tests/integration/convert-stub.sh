#!/bin/bash
# convert-stub.sh - converters: an .odt attachment goes through the stub
# converter (tests/data/convert/stub-to-pdf, in place of LibreOffice) and
# prints as a PDF job named after the .odt; a converter that fails
# (stub-fail) or runs past its time limit (stub-sleep, killed in its
# sandbox with everything it started, even in a session of its own) leaves that attachment unprinted with the reason,
# while the same mail's PDF still prints; scratch is left empty.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
stubs=$top_srcdir/tests/data/convert
[ -x "$stubs/stub-to-pdf" ] || bail "missing $stubs/stub-to-pdf"
rig_setup
odf=application/vnd.oasis.opendocument
mark=0.$$	# stub-sleep's sleepers run "sleep 1000 $mark"
rig_conf_global_text "$RIG_CONF" converters "(
	{ types = [ \"$odf.text\" ]; command = [ \"$stubs/stub-to-pdf\", \"%i\", \"%o\" ]; timeout = 20; },
	{ types = [ \"$odf.spreadsheet\" ]; command = [ \"$stubs/stub-fail\", \"%i\", \"%o\" ]; timeout = 20; },
	{ types = [ \"$odf.presentation\" ]; command = [ \"$stubs/stub-sleep\", \"%i\", \"%o\", \"$mark\" ]; timeout = 1; } )"
d=$RIG_DIR
rig_mkmail odt "$d/letter.odt" || bail "mkmail.py odt failed"
rig_mkmail odt "$d/sheet.ods" "$odf.spreadsheet" || bail "mkmail.py odt failed"
rig_mkmail odt "$d/slides.odp" "$odf.presentation" || bail "mkmail.py odt failed"
rig_mkmail pdf "$d/beside.pdf" beside.pdf || bail "mkmail.py pdf failed"
rig_mkmail mail "$d/letter.eml" --subject 'A letter' --attach "$d/letter.odt" &&
	rig_mkmail mail "$d/sheet.eml" --subject 'A sheet' --attach "$d/sheet.ods" \
		--attach "$d/beside.pdf" &&
	rig_mkmail mail "$d/slides.eml" --subject 'Slides' --attach "$d/slides.odp" ||
	bail "mkmail.py mail failed"
for m in letter sheet slides; do
	rig_deliver "$RIG_USER" "$d/$m.eml"
done

rig_run once
expect_rc 0 "once exits 0"
rig_wait_jobs_done
is "$(rig_jobs | cut -f4 | sort | paste -sd ' ')" "beside.pdf letter.odt" \
	"two jobs: the converted letter.odt and the PDF beside the failing sheet"
id=$(rig_job_id letter.odt)
expect_job_attrs "$id" "document-format=application/pdf job-state=completed" \
	"letter.odt went to CUPS as a PDF"
doc=$(rig_printed_doc "$id")
is "$(head -c 5 "$doc" 2>&1)" "%PDF-" "the printer received the converter's PDF"
cmp -s "$doc" "$d/letter.odt" && not_ok "the .odt itself was not sent" || ok "the .odt itself was not sent"
expect_stderr_line "the failed conversion is reported with the attachment's name" "sheet\.ods" \
	"convert|exit"
expect_stderr_line "the timed-out conversion is reported" "slides\.odp" \
	"time|killed|convert"
# sleepers: how many "sleep 1000 $mark" still run (zombies do not count).
sleepers() {
	local p n=0
	for p in $(pgrep -fx "sleep 1000 $mark"); do
		rig_pid_alive "$p" && n=$((n + 1))
	done
	echo "$n"
}
no_sleepers() { [ "$(sleepers)" = 0 ]; }
rig_wait_for 10 no_sleepers
is "$(sleepers)" 0 "the converter past its time limit was killed with both its sleepers"
is "$(rig_scratch_files | paste -sd ' ')" "" "nothing left in scratch"

rig_run once
expect_rc 0 "a second pass exits 0"
is "$(rig_job_count)" 2 "nothing is converted or printed twice"
tap_done
