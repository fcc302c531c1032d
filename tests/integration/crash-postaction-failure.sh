#!/bin/bash
# crash-postaction-failure.sh - a message printed in full whose post-action
# fails: after = "move" to a printed_folder the server refuses to create
# ("~Printed": Dovecot will not create a name that begins with '~').  The
# document prints once; the message stays in the mailbox, recorded as
# printed.  Later passes never print it again; once the folder is fixed,
# the next pass does only the post-action: the message ends \Seen in
# Printed and its row says done.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup after='"move"' printed_folder='"~Printed"'
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"

rig_run once
# A refused post-action is logged and the pass goes on (poller.c): exit 0.
expect_rc 0 "first pass (move to ~Printed refused): exit 0, the pass goes on"
expect_stderr 'Printed' "the failed move is reported"
expect_printed "the document printed once" "$d/doc.pdf"
is "$(rig_folder_count alice INBOX)" 1 "the message is still in INBOX (not lost)"
is "$(rig_db "SELECT status FROM messages")" "printed" "its row says printed: post-action pending"

rig_run once
expect_rc 0 "second pass (still refused): exit 0"
expect_printed "a second pass with the folder still refused prints nothing more" "$d/doc.pdf"
is "$(rig_job_count)" 1 "still exactly one CUPS job"
is "$(rig_folder_count alice INBOX)" 1 "the message is still in INBOX"

rig_write_conf "$RIG_CONF" after='"move"' printed_folder='"Printed"'
rig_run once
expect_rc 0 "with the folder fixed, the next pass exits 0"
expect_printed "and prints nothing more" "$d/doc.pdf"
is "$(rig_job_count)" 1 "still exactly one CUPS job"
expect_counts alice "0/1/0" "the post-action was retried: the message moved to Printed"
expect_flags alice Printed '1 \Seen' "\\Seen in Printed"
is "$(rig_db "SELECT status FROM messages")" "done" "its row says done"
is "$(rig_db "SELECT status || ' ' || job_id FROM parts")" \
	"submitted $(rig_jobs | cut -f1)" "the part row keeps the one job id"
tap_done
