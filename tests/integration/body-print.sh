#!/bin/bash
# body-print.sh - print_body = "no-attachment": a text mail without
# attachment prints its text as one text/plain job named after the
# subject; an HTML-only mail prints as text with nothing remote fetched
# (its <img> points at a local listener that must see no connection); a
# mail with an attachment prints only that, unless its subject says #body;
# a mail whose only attachment cannot print is not printed as text instead
# ("see the attached file"): it fails with the attachment's reason.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup print_body='"no-attachment"'
rig_start_http_trap
d=$RIG_DIR
deliver() {
	local eml=$1
	shift
	rig_mkmail mail "$eml" "$@" || bail "mkmail.py failed for $eml"
	rig_deliver "$RIG_USER" "$eml"
}
deliver "$d/text.eml" --subject 'Minutes of Monday' \
	--text $'Hello from the body test.\nSecond line.\n'
deliver "$d/html.eml" --subject 'Newsletter' --html \
	"<html><head><style>p { color: red }</style><script>var leak = 1;</script></head>
<body><p>Hello <b>HTML</b> world &amp; friends</p>
<img src=\"http://127.0.0.1:$RIG_HTTP_PORT/track.png\" alt=\"\" width=\"1\" height=\"1\">
<p><img src=\"http://127.0.0.1:$RIG_HTTP_PORT/logo.png\"></p></body></html>"
rig_mkmail pdf "$d/att.pdf" att.pdf
deliver "$d/att.eml" --subject 'Attached only' --attach "$d/att.pdf" \
	--text $'Do not print this text.\n'
rig_mkmail pdf "$d/both.pdf" both.pdf
deliver "$d/both.eml" --subject 'Report #body' --attach "$d/both.pdf" \
	--text $'Print this text too.\n'
rig_mkmail docx "$d/memo.docx"
deliver "$d/docx.eml" --subject 'Memo' --attach "$d/memo.docx" \
	--text $'See the attached memo.\n'

rig_run once
expect_rc 0 "once exits 0"
rig_wait_jobs_done
is "$(rig_job_count)" 5 "five jobs: two bodies, two PDFs, one body on request"

id=$(rig_job_id 'Minutes of Monday')
expect_job_attrs "$id" "document-format=text/plain job-state=completed" \
	"the text mail is a text/plain job named after the subject"
doc=$(rig_printed_doc "$id")
like "$(cat "$doc" 2>&1)" "Hello from the body test\.[[:space:]]+Second line\." \
	"the printer received the mail's text"

id=$(rig_job_id 'Newsletter')
expect_job_attrs "$id" "document-format=text/plain job-state=completed" \
	"the HTML-only mail is a text/plain job named after the subject"
text=$(cat "$(rig_printed_doc "$id")" 2>&1)
like "$text" "Hello[[:space:]]+HTML[[:space:]]+world[[:space:]]+& friends" "the HTML is rendered to text"
if [[ $text == *"<p>"* || $text == *"<b>"* || $text == *"leak"* || $text == *"color: red"* ]]; then
	not_ok "no markup, script or style in the printed text" "$text"
else
	ok "no markup, script or style in the printed text"
fi
is "$(cat "$RIG_HTTP_HITS")" "" "nothing was fetched from the remote image URLs"

is "$(rig_jobs | cut -f4 | grep -c 'Attached only')" 0 \
	"a mail with an attachment does not print its text"
id=$(rig_job_id att.pdf)
is "$(cmp "$d/att.pdf" "$(rig_printed_doc "$id")" 2>&1 && echo same)" same "its PDF printed"
id=$(rig_job_id both.pdf)
is "$(cmp "$d/both.pdf" "$(rig_printed_doc "$id")" 2>&1 && echo same)" same "the #body mail's PDF printed"
body=$(rig_jobs | awk -F'\t' '$4 ~ /^Report/ { print $1 }')
if [ -n "$body" ]; then
	like "$(cat "$(rig_printed_doc "$body")" 2>&1)" "Print this text too" \
		"#body printed the text as well, as a job named after the subject"
else
	not_ok "#body printed the text as well, as a job named after the subject" "$(rig_jobs)"
fi
is "$(rig_jobs | cut -f4 | grep -c 'Memo')" 0 \
	"a mail whose attachment cannot print does not print its text instead"
expect_stderr "memo\.docx" "... its attachment's reason is given"
expect_counts alice "4/0/1" "... and it goes to Print Failed; the other four are done"
expect_flags alice INBOX '1 \Seen;2 \Seen;3 \Seen;4 \Seen' "every other message is done"
tap_done
