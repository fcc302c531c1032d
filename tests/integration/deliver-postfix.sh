#!/bin/bash
# deliver-postfix.sh - `mail2cups deliver` driven the way Postfix pipe(8)
# drives it (flags=DRF: a "From " line, Return-Path and Delivered-To in
# front of the message on stdin; -f ${sender} -r ${recipient}), against the
# rig's cupsd and printer (no IMAP server at all).  Exit codes: 0 printed;
# 0 and nothing printed for a sender who may not print and for a message
# over max_message_size; 75 with CUPS down, then the MTA's retry prints it
# once; 75 while another deliver holds the account past deliver_lock_wait;
# 78 for a broken config or an unknown account; 64 without -a.  An MTA
# retry of a printed message (new "From " line date) never prints again;
# SENDER and RECIPIENT come from the environment without -f/-r (Sieve,
# local(8)), and the envelope recipient routes (a rule on print+floor2).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup_deliver \
	rules='( { name = "floor2"; recipients = [ "print+floor2@example.org" ]; options = [ "duplex" ]; } )'
d=$RIG_DIR
rig_conf_global "$RIG_CONF" deliver_lock_wait 1

# deliver EML [ARGS...]: mail2cups deliver -a test -f bob@... -r print@... < EML as Postfix sends it.
deliver() {
	local eml=$1
	shift
	rig_postfix_in "$eml" "$(date)" >"$eml.in"
	rig_run deliver -a test -f bob@example.com -r print@example.org "$@" <"$eml.in"
}
stderr_lines() {
	printf '%s\n' "$RIG_ERR" | grep -c .
}

# 1. A message prints; stderr is one line for the MTA's log.
rig_mkmail pdf "$d/a.pdf" a.pdf && rig_mkmail mail "$d/a.eml" --attach "$d/a.pdf" --message-id '<a@example.com>' ||
	bail "mkmail failed"
t0=$(date +%s%N)
deliver "$d/a.eml"
t1=$(date +%s%N)
expect_rc 0 "a message: exit 0"
expect_stderr 'mail2cups: test: delivery 1: printed \(1 document' "... stderr says it printed"
is "$(stderr_lines)" 1 "... in one line"
expect_printed "... the attachment is at the printer" "$d/a.pdf"
diag "deliver took $(( (t1 - t0) / 1000000 )) ms (Sieve allows 10000)"
[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] && ok "... well inside Sieve's 10 s" ||
	not_ok "... well inside Sieve's 10 s" "$(( (t1 - t0) / 1000000 )) ms"
is "$(rig_scratch_files | grep -c '^msg\.\|^part\.')" 0 "... no scratch file is left"
is "$(rig_db "SELECT status FROM messages WHERE mailbox = '(deliver)' AND uidvalidity = 0 AND uid = 1")" \
	done "... its state row: (deliver), UIDVALIDITY 0, number 1, done"

# 2. The MTA tries the same message again (a timeout after the print): a
# new From_ date, same message: nothing prints again.
sleep 1	# a different date in the "From " line (not for ordering)
deliver "$d/a.eml"
expect_rc 0 "the same message again (an MTA retry): exit 0"
expect_stderr 'delivery 1: dealt with already' "... recognised as delivery 1"
is "$(rig_job_count)" 1 "... still one CUPS job"

# 3. A sender who may not print: 0 (no bounce to a maybe forged sender), nothing printed.
rig_mkmail pdf "$d/m.pdf" m.pdf && rig_mkmail mail "$d/m.eml" --attach "$d/m.pdf" --from mallory@evil.example ||
	bail "mkmail failed"
rig_postfix_in "$d/m.eml" "$(date)" >"$d/m.in"
rig_run deliver -a test -f mallory@evil.example -r print@example.org <"$d/m.in"
expect_rc 0 "a sender who may not print: exit 0 (the MTA bounces nothing)"
expect_stderr 'not printed on purpose: .*mallory@evil.example' "... stderr names the refused sender"
is "$(rig_job_count)" 1 "... nothing printed"
rig_run deliver -a test -f mallory@evil.example -r print@example.org <"$d/m.in"
expect_rc 0 "... tried again: exit 0"
is "$(rig_job_count)" 1 "... still nothing printed"

# 4. CUPS down: 75, nothing recorded as printed; the MTA's retry once
# CUPS is back prints it once.
rig_mkmail pdf "$d/b.pdf" b.pdf && rig_mkmail mail "$d/b.eml" --attach "$d/b.pdf" || bail "mkmail failed"
rig_stop_cups
deliver "$d/b.eml"
expect_rc 75 "CUPS down: exit 75 (the MTA keeps the message)"
expect_stderr 'will try again: ' "... stderr says it will be tried again"
is "$(stderr_lines)" 1 "... in one line"
deliver "$d/b.eml"
expect_rc 75 "... still down: 75 again"
rig_start_cups
deliver "$d/b.eml"
expect_rc 0 "CUPS back: the MTA's retry exits 0"
expect_printed "... and it printed once" "$d/a.pdf" "$d/b.pdf"
deliver "$d/b.eml"
expect_rc 0 "... one more retry: exit 0"
is "$(rig_job_count)" 2 "... still printed once"

# 5. Envelope from the environment (Sieve, local(8)), and routing by it.
rig_mkmail pdf "$d/c.pdf" c.pdf && rig_mkmail mail "$d/c.eml" --attach "$d/c.pdf" --to print@example.org ||
	bail "mkmail failed"
SENDER=bob@example.com RECIPIENT=print+floor2@example.org rig_run deliver -a test -v <"$d/c.eml"
expect_rc 0 "SENDER and RECIPIENT from the environment: exit 0"
expect_stderr 'envelope from <bob@example.com> to <print\+floor2@example.org>' "... the envelope is taken from them"
expect_stderr 'rule floor2: queue .*two-sided-long-edge' "... and the envelope recipient routes (rule floor2, a Bcc)"
expect_printed "... printed" "$d/a.pdf" "$d/b.pdf" "$d/c.pdf"

# 6. Over limits.max_message_size: read to the end, 0, nothing printed.
rig_write_conf "$d/small.conf" $RIG_DELIVER_ONLY
sed -i '1a limits = { max_message_size = "100K"; };' "$d/small.conf"
head -c 400000 /dev/urandom >"$d/big.bin"
rig_mkmail mail "$d/big.eml" --attach "$d/a.pdf" --attach "$d/big.bin" --message-id '<big@example.com>' ||
	bail "mkmail failed"
RIG_RUN_CONF=$d/small.conf deliver "$d/big.eml"
expect_rc 0 "a message over max_message_size: exit 0"
expect_stderr 'not printed on purpose: the message is [0-9]+ bytes, more than limits.max_message_size' \
	"... stderr says it is too big"
is "$(rig_job_count)" 3 "... nothing printed"

# 7. Another deliver holds the account (it waits for its stdin) past
# deliver_lock_wait (1 s): 75; the first one still prints.
mkfifo "$d/slow.fifo"
"$MAIL2CUPS" -c "$RIG_CONF" deliver -a test <"$d/slow.fifo" >"$d/slow.out" 2>"$d/slow.err" &
slow=$!
RIG_PIDS+=("$slow")
exec 7>"$d/slow.fifo"
holds_lock() {	# the first deliver has the account's lock (its scratch file exists)
	ls "$RIG_STATE/scratch/deliver-test/" 2>/dev/null | grep -q '^msg\.'
}
rig_wait_for 20 holds_lock || diag "the first deliver did not start reading"
rig_mkmail pdf "$d/e.pdf" e.pdf && rig_mkmail mail "$d/e.eml" --attach "$d/e.pdf" || bail "mkmail failed"
deliver "$d/e.eml"
expect_rc 75 "the account busy past deliver_lock_wait: exit 75"
expect_stderr 'busy: mail2cups deliver \(PID [0-9]+\) served it for all of deliver_lock_wait' "... stderr names the holder"
rig_mkmail pdf "$d/s.pdf" s.pdf && rig_mkmail mail "$d/s.eml" --attach "$d/s.pdf" || bail "mkmail failed"
cat "$d/s.eml" >&7
exec 7>&-
wait "$slow"
is "$?" 0 "... the first deliver, its message complete, exits 0"
deliver "$d/e.eml"
expect_rc 0 "... and the busy one's retry exits 0"
expect_printed "... both printed once" "$d/a.pdf" "$d/b.pdf" "$d/c.pdf" "$d/s.pdf" "$d/e.pdf"

# 8. Configuration errors: 78.  Usage errors: 64.
printf 'state_dir = "%s";\naccounts = ( { name = "test" ' "$RIG_STATE" >"$d/broken.conf"
RIG_RUN_CONF=$d/broken.conf deliver "$d/a.eml"
expect_rc 78 "a broken configuration file: exit 78"
expect_stderr 'cannot use the configuration: .*broken.conf' "... stderr names the file"
rig_run deliver -a nosuch <"$d/a.eml"
expect_rc 78 "an account that is not in the configuration: exit 78"
expect_stderr 'no account "nosuch"' "... stderr names it"
RIG_RUN_CONF=$d/missing.conf deliver "$d/a.eml"
expect_rc 78 "a missing configuration file: exit 78"
rig_run deliver -f bob@example.com <"$d/a.eml"
expect_rc 64 "no -a: exit 64 (usage)"
is "$(rig_job_count)" 5 "nothing more printed by any of them"
tap_done
