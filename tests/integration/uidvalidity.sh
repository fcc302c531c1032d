#!/bin/bash
# uidvalidity.sh - the server changes the mailbox's UIDVALIDITY (a mailbox
# rebuilt or restored from a backup) and every message looks new, unseen
# again: a message already printed is known by its content and not printed
# again (it only gets its post-action), while a new one prints.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/old.pdf"
rig_run once
expect_rc 0 "first pass exits 0"
expect_printed "old.pdf printed" "$d/old.pdf"

rig_doveadm mailbox update -u "$RIG_USER" --uid-validity 4242 INBOX ||
	bail "doveadm mailbox update --uid-validity failed"
rig_doveadm flags remove -u "$RIG_USER" '\Seen' mailbox INBOX all ||
	bail "doveadm flags remove failed"
like "$(rig_doveadm mailbox status -u "$RIG_USER" uidvalidity INBOX)" '4242' \
	"the mailbox has a new UIDVALIDITY"
expect_flags "$RIG_USER" INBOX '1' "... and the printed message is unseen again"
rig_deliver_pdf "$d/new.pdf"

rig_run once
expect_rc 0 "the pass after the change exits 0"
expect_stderr 'printed before, as uid 1 when the mailbox had UIDVALIDITY [0-9]+; not printing it again' \
	"the log says the message was printed before"
expect_printed "only the new message printed; old.pdf not again" "$d/old.pdf" "$d/new.pdf"
is "$(rig_job_count)" 2 "CUPS has exactly 2 jobs"
expect_flags "$RIG_USER" INBOX '1 \Seen;2 \Seen' "both messages end \\Seen"
tap_done
