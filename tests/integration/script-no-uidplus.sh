#!/bin/bash
# script-no-uidplus.sh - after = "move" against a server with neither MOVE
# nor UIDPLUS: the client copies the message to "Printed" (LIST, CREATE,
# SUBSCRIBE first), flags the original \Seen \Deleted, and never sends an
# EXPUNGE of any kind.  The PDF still reaches the printer byte for byte
# (the rig's cupsd and ippeveprinter).  Also: AUTHENTICATE PLAIN without
# SASL-IR (the response after the "+").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
if [ "$(id -u)" -ne 0 ]; then
	[ "${CI:-}" = true ] && bail "the rig's cupsd needs root"
	skip_all "the rig's cupsd needs root"
fi
rig_require cupsd lpadmin lp lpstat ipptool ippeveprinter dbus-daemon cmp
is_setup
d=$RIG_DIR
rig_start_cups
rig_start_printer
rig_add_queue "$RIG_QUEUE"
rig_mkmail pdf "$d/report.pdf" report.pdf &&
	rig_mkmail mail "$d/raw.eml" --attach "$d/report.pdf" --from bob@example.com ||
	bail "mkmail.py failed"
# IMAP sends messages with CRLF line ends.
python3 -c 'import re, sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(re.sub(rb"\r?\n", b"\r\n", d))' \
	"$d/raw.eml" "$d/msg.eml"
size=$(stat -c %s "$d/msg.eml")
plain=$(printf '\0%s\0%s' "$RIG_USER" "$RIG_PASS" | base64 -w0)
printf '%s' "$RIG_PASS" >"$d/$RIG_USER.pass"
rig_svc_secret "$d/$RIG_USER.pass"
is_start_server no-uidplus -D plain="$plain" -D size="$size" -D msg="$d/msg.eml"
rig_write_conf "$RIG_CONF" host='"127.0.0.1"' port="$IS_PORT" security='"none"' ca_file= \
	after='"move"'

is_run once
expect_rc 0 "once exits 0"
is_expect_server_done "the server played its whole script"
is_expect_transcript no-uidplus 'COPY and STORE \Deleted, exactly as expected' -D plain="$plain"
is_expect_no_line 'EXPUNGE' "no EXPUNGE at all (no UIDPLUS: never a plain EXPUNGE)"
expect_printed "the printer received the PDF byte for byte" "$d/report.pdf"
is "$(rig_jobs | cut -f3,4)" "bob@example.com	report.pdf" "one job, named report.pdf, user bob@example.com"
expect_stderr 'no UIDPLUS' 'stderr says why the original stays flagged \Deleted'
expect_summary 'test: 1 new message, 1 printed' "summary: one job"
tap_done
