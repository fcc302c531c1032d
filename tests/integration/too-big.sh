#!/bin/bash
# too-big.sh - a message over limits.max_message_size between two that fit:
# it is never downloaded (the pass knows its size from one FETCH
# RFC822.SIZE, and the body of the next one that needs it is fetched ahead
# past it), it fails with a reason that names the fix and goes to the
# failed folder; the two others print, and nothing stays in the scratch
# folder.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup after='"move"' printed_folder='"Printed"'
d=$RIG_DIR
limit=200000
printf 'limits = {\n  max_message_size = %d;\n};\n' "$limit" >>"$RIG_CONF"
rig_deliver_pdf "$d/first.pdf" --from bob@example.com
rig_mkmail pdf "$d/big.pdf" big.pdf --pad 300000 && rig_mkmail mail "$d/big.eml" --attach "$d/big.pdf" \
	--from bob@example.com || bail "mkmail failed"
big=$(stat -c %s "$d/big.eml")
[ "$big" -gt "$limit" ] || bail "big.eml is only $big bytes"
rig_deliver "$RIG_USER" "$d/big.eml"
rig_deliver_pdf "$d/third.pdf" --from bob@example.com

rig_run once
expect_rc 0 "once exits 0 (one message failed, the pass did not)"
expect_printed "the two that fit printed, byte for byte" "$d/first.pdf" "$d/third.pdf"
expect_counts "$RIG_USER" "0/2/1" "two in Printed, the big one in Print Failed"
expect_stderr_line "the reason: its size, the limit and the fix" "uid 2" \
	"is $big bytes, more than the limit of $limit; it is not fetched \\(raise the size limit to print it\\)"
is "$(rig_db "SELECT status FROM messages WHERE uid = 2")" done "its state row is done"
is "$(rig_db "SELECT count(*) FROM messages WHERE uid = 2 AND reason LIKE '%more than the limit%'")" 1 \
	"... with the limit as its reason"
# Dovecot's own count of what it sent in the session: less than the big
# message alone, so its body never left the server.
out=$(grep -E "imap\\($RIG_USER\\).*Logged out" "$RIG_DIR/dovecot/dovecot.log" | tail -1 |
	sed -n 's/.* out=\([0-9]*\).*/\1/p')
if [ -n "$out" ] && [ "$out" -lt "$big" ]; then
	ok "the big message was never downloaded (Dovecot sent $out bytes in all, it is $big)"
else
	not_ok "the big message was never downloaded" "Dovecot sent ${out:-?} bytes; it is $big"
fi
is "$(rig_scratch_files | grep -c .)" 0 "nothing is left in the scratch folder"

rig_run once
expect_rc 0 "a second pass exits 0"
expect_printed "and prints nothing more" "$d/first.pdf" "$d/third.pdf"
expect_counts "$RIG_USER" "0/2/1" "each message stays in its one folder"
tap_done
