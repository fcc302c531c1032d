#!/bin/bash
# user-mapping.sh - the global users table maps senders to CUPS user names
# (job-originating-user-name): an exact address to a name, a wildcard to
# "%l" (the local part); an unmapped sender keeps its full address.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup allow_senders='[ "*@example.com", "*@staff.example.com" ]'
rig_conf_global "$RIG_CONF" users \
	'( { sender = "bob@example.com"; user = "bob"; }, { sender = "*@staff.example.com"; user = "%l"; } )'
d=$RIG_DIR
rig_deliver_pdf "$d/bob.pdf" --from 'Bob <bob@example.com>'
rig_deliver_pdf "$d/carol.pdf" --from carol@staff.example.com
rig_deliver_pdf "$d/dave.pdf" --from dave@example.com

rig_run once
expect_rc 0 "once exits 0"
expect_printed "all three printed" "$d/bob.pdf" "$d/carol.pdf" "$d/dave.pdf"
user() { rig_job_attr "$(rig_job_id "$1")" job-originating-user-name; }
is "$(user bob.pdf)" bob "bob@example.com is mapped to bob"
is "$(user carol.pdf)" carol "*@staff.example.com maps carol@ to her local part"
is "$(user dave.pdf)" dave@example.com "an unmapped sender keeps the full address"
is "$(rig_cups lpstat -W completed -o "$RIG_QUEUE" 2>/dev/null | awk '{print $2}' | sort | paste -sd ' ')" \
	"bob carol dave@example.com" "lpstat shows the mapped user names"
tap_done
