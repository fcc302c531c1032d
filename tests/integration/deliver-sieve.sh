#!/bin/bash
# deliver-sieve.sh - `mail2cups deliver` behind Sieve's pipe in the rig's
# Dovecot (Pigeonhole extprograms: sieve_plugins = sieve_extprograms,
# +vnd.dovecot.pipe, a program in sieve_pipe_bin_dir), as a site without
# a print mailbox of its own would set it up: a global sieve_before script
# pipes every message for alice to mail2cups (":copy": it is also kept).
# LMTP deliveries: one prints once, with the envelope Dovecot put in
# SENDER and RECIPIENT; a refused sender prints nothing and the mail is
# delivered all the same; with CUPS down deliver exits 75, Sieve keeps
# the message (nothing is lost) and Dovecot logs the failure.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_all
rig_require_program
if [ ! -f /usr/lib/dovecot/modules/sieve/lib90_sieve_extprograms_plugin.so ]; then
	[ "${CI:-}" = true ] && bail "Pigeonhole's extprograms plugin is missing (apt-get install dovecot-sieve)"
	skip_all "Pigeonhole's extprograms plugin is missing (apt-get install dovecot-sieve)"
fi
rig_init
d=$RIG_DIR
bin=$d/sieve-bin
mkdir -p "$bin" "$d/sieve"
chmod 0755 "$bin" "$d/sieve"
# The program Sieve runs (no "/" in its name): mail2cups deliver, as the
# mail user, its log (-v) kept for the test.
cp "$MAIL2CUPS" "$bin/mail2cups"
cat >"$bin/mail2cups-print" <<EOF
#!/bin/sh
exec $bin/mail2cups -c $RIG_CONF deliver -v -a test 2>>$d/deliver.log
EOF
chmod 0755 "$bin/mail2cups-print" "$bin/mail2cups"
cat >"$d/sieve/print.sieve" <<'EOF'
require ["vnd.dovecot.pipe", "copy"];
pipe :copy "mail2cups-print";
EOF
chown -R "$RIG_UID:$RIG_UID" "$d/sieve"
touch "$d/deliver.log"
chown "$RIG_UID:$RIG_UID" "$d/deliver.log"
# An ASan build reserves terabytes of address space, more than the lmtp
# service's vsz_limit (256 MB by default), which the program Sieve runs
# inherits: lift it for that build only, so a plain build still proves
# deliver fits in Dovecot's default.
lmtp_vsz=
[ -n "${ASAN_OPTIONS:-}" ] && lmtp_vsz="service lmtp {
  vsz_limit = 0
}"
RIG_DOVECOT_EXTRA="protocols = imap lmtp
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
$lmtp_vsz
plugin {
  sieve_before = $d/sieve/print.sieve
  sieve_plugins = sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.pipe
  sieve_pipe_bin_dir = $bin
}"
rig_start_all
rig_write_conf "$RIG_CONF" $RIG_DELIVER_ONLY
# Dovecot runs the program as the mail user: state_dir is that user's.
chown -R "$RIG_UID:$RIG_UID" "$RIG_STATE"

# 1. A delivery prints, once; the message is kept too.
rig_mkmail pdf "$d/a.pdf" a.pdf && rig_mkmail mail "$d/a.eml" --attach "$d/a.pdf" || bail "mkmail failed"
check "LMTP accepts the message" rig_lmtp "$RIG_USER" "$d/a.eml"
expect_printed "Sieve's pipe printed the attachment, once" "$d/a.pdf"
is "$(rig_folder_count "$RIG_USER" INBOX)" 1 "... and the message is in INBOX (pipe :copy)"
check "... deliver took the envelope from Sieve's SENDER and RECIPIENT" \
	grep -q 'envelope from <sender@example.com> to <alice' "$d/deliver.log"
check "... and said it printed" grep -q 'delivery 1: printed (1 document' "$d/deliver.log"

# 2. A sender who may not print: nothing printed, the mail delivered.
rig_mkmail pdf "$d/m.pdf" m.pdf && rig_mkmail mail "$d/m.eml" --attach "$d/m.pdf" --from mallory@evil.example ||
	bail "mkmail failed"
check "LMTP accepts a message from a sender who may not print" rig_lmtp "$RIG_USER" "$d/m.eml"
rig_wait_for 20 grep -q 'delivery 2: not printed on purpose' "$d/deliver.log"
check "... deliver refused it on purpose" grep -q 'delivery 2: not printed on purpose: .*mallory@evil.example' "$d/deliver.log"
is "$(rig_job_count)" 1 "... nothing printed"
is "$(rig_folder_count "$RIG_USER" INBOX)" 2 "... the mail is delivered all the same"

# 3. CUPS down: deliver exits 75, Sieve keeps the message, Dovecot says so.
rig_mkmail pdf "$d/b.pdf" b.pdf && rig_mkmail mail "$d/b.eml" --attach "$d/b.pdf" || bail "mkmail failed"
rig_stop_cups
check "LMTP accepts a message while CUPS is down" rig_lmtp "$RIG_USER" "$d/b.eml"
is "$(rig_folder_count "$RIG_USER" INBOX)" 3 "... it is in INBOX: nothing lost"
pipe_failed() {
	[ "$(rig_dovecot_log_count 'mail2cups-print.*(exit|status|fail)|(exit|status|fail).*mail2cups-print')" -ge 1 ]
}
if rig_wait_for 20 pipe_failed; then ok "... Dovecot logs that the program failed"
else not_ok "... Dovecot logs that the program failed" "$(tail -5 "$d/dovecot/dovecot.log")"; fi
check "... deliver said it will be tried again" grep -q 'will try again' "$d/deliver.log"
rig_start_cups
is "$(rig_job_count)" 1 "... nothing printed meanwhile"
tap_done
