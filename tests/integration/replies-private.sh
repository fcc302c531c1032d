#!/bin/bash
# replies-private.sh - replies say what happened in plain words and a
# reference; the detail stays in the log under that reference.  A sender
# whose .ods goes to a converter taken over by the document (stub-hostile:
# it reads what it can and prints it) gets a failed reply that carries
# none of the converter's output, its program's path, the scratch paths or
# config key names, but a "ref YYYYMMDD-xxxxxx" that the log line with the
# detail carries too.  A denied sender's rejected reply names no key
# (deny_senders) either.  What the message itself was found to be is the
# sender's business and is said in plain words: an attachment that arrived
# damaged ("report.pdf arrived damaged; send it again"), a Word document
# ("Word documents are not printed; send a PDF"), and for the converted
# sheet only that it could not be converted.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
stubs=$top_srcdir/tests/data/convert
rig_setup
rig_start_smtp
rig_write_conf "$RIG_CONF" authserv_id='"mx.rig.test"' reply='[ "rejected", "failed" ]' \
	deny_senders='[ "mallory@example.com" ]'
rig_conf_smtp "$RIG_CONF"
rig_conf_global "$RIG_CONF" replies "{ from = \"print@example.com\"; }"
odf=application/vnd.oasis.opendocument
mark=0.$$1
rig_conf_global_text "$RIG_CONF" converters "(
	{ types = [ \"$odf.spreadsheet\" ]; command = [ \"$stubs/stub-hostile\", \"%i\", \"%o\", \"9\", \"$mark\", \"$RIG_DIR\" ]; timeout = 60; } )"
d=$RIG_DIR
rig_mkmail odt "$d/sheet.ods" "$odf.spreadsheet" || bail "mkmail.py odt failed"
rig_mkmail mail "$d/sheet.eml" --from bob@example.com --auth pass --subject 'A sheet' \
	--attach "$d/sheet.ods" || bail "mkmail.py mail failed"
rig_deliver "$RIG_USER" "$d/sheet.eml"
rig_deliver_pdf "$d/mallory.pdf" --from mallory@example.com --auth pass --subject 'Invoice'
{ printf 'Authentication-Results: mx.rig.test; dmarc=pass header.from=example.com\r\n'
  cat "$top_srcdir/tests/data/mime/half-pdf.eml"; } >"$d/damaged.eml"
rig_deliver "$RIG_USER" "$d/damaged.eml"
rig_mkmail docx "$d/notes.docx" || bail "mkmail.py docx failed"
rig_mkmail mail "$d/notes.eml" --from dave@example.com --auth pass --subject 'Notes' \
	--attach "$d/notes.docx" || bail "mkmail.py mail failed"
rig_deliver "$RIG_USER" "$d/notes.eml"

rig_run once
expect_rc 0 "once exits 0"

mapfile -t bob < <(rig_smtp_to bob@example.com)
is "${#bob[@]}" 1 "bob got one (failed) reply"
body=$(rig_smtp_body "${bob[0]}" 2>&1)
ref=$(printf '%s\n' "$body" | grep -oE 'ref [0-9]{8}-[0-9a-f]{6}' | head -1 | cut -d' ' -f2)
like "$body" "could not be printed" "the reply says in plain words what happened"
[ -n "$ref" ] && ok "the reply carries a reference ($ref)" || not_ok "the reply carries a reference" "$body"
leaks=()
for w in blocked ESCAPED stub-hostile "$stubs" "$RIG_DIR" scratch conv. /tmp converter exit \
	status timeout converters_unsandboxed; do
	[[ $body == *"$w"* ]] && leaks+=("$w")
done
is "${leaks[*]}" "" "the reply holds nothing of the converter's output, paths or settings"
like "$body" "sheet\.ods could not be converted for printing \(ref $ref" \
	"it says which file could not be converted, and only that"
line=$(printf '%s\n' "$RIG_ERR" | grep -F "ref $ref" | head -1)
like "$line" "not printed \(ref $ref\)" "the log has the reference"
like "$line" "tokens: blocked" "and holds the converter's output, for the admin"

mapfile -t mallory < <(rig_smtp_to mallory@example.com)
is "${#mallory[@]}" 1 "mallory (denied) got one rejected reply"
body=$(rig_smtp_body "${mallory[0]}" 2>&1)
like "$body" "not allowed" "it says why in plain words"
like "$body" "ref [0-9]{8}-[0-9a-f]{6}" "with a reference"
[[ $body == *deny_senders* || $body == *allow_senders* ]] &&
	not_ok "it names no config key" "$body" || ok "it names no config key"

# The sender's own business, in plain words.
mapfile -t alice < <(rig_smtp_to alice@example.com)
is "${#alice[@]}" 1 "alice (a damaged PDF) got one failed reply"
body=$(rig_smtp_body "${alice[0]}" 2>&1)
like "$body" "could not be printed: report\.pdf arrived damaged; send it again \(ref [0-9]{8}-[0-9a-f]{6}" \
	"it says which attachment arrived damaged and to send it again, with a reference"
[[ $body == *base64* || $body == *"stops before"* ]] &&
	not_ok "it gives no decoder detail" "$body" || ok "it gives no decoder detail"
expect_stderr "report\.pdf arrived damaged; send it again \(the PDF stops before its end" \
	"the log has the detail"
mapfile -t dave < <(rig_smtp_to dave@example.com)
is "${#dave[@]}" 1 "dave (a Word document) got one failed reply"
body=$(rig_smtp_body "${dave[0]}" 2>&1)
like "$body" "could not be printed: notes\.docx: Word documents are not printed; send a PDF \(ref " \
	"it says the Word document is not printed and what to send instead"
tap_done
