#!/bin/bash
# nested-rfc2231.sh - a PDF two multipart levels deep with an RFC 2231
# (UTF-8, percent-encoded) file name: printed, and the job name is the
# decoded UTF-8 name.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
name='Prüfbericht März €.pdf'
rig_mkmail pdf "$d/doc.pdf" "nested-rfc2231"
rig_mkmail mail "$d/m.eml" --nested --attach "$d/doc.pdf:$name:application/pdf"
grep -q "filename\*=utf-8''Pr%C3%BCfbericht" "$d/m.eml" && ok "the sample uses RFC 2231" || not_ok "the sample uses RFC 2231"
rig_deliver alice "$d/m.eml"

rig_run once
expect_rc 0 "once exits 0"
expect_printed "the nested PDF is received byte for byte" "$d/doc.pdf"
is "$(rig_jobs | cut -f4)" "$name" "the job name is the decoded UTF-8 file name"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
tap_done
