#!/bin/bash
# plugin-wake.sh - the Dovecot plugin wakes the daemon: the plugin is loaded
# from the build tree into the rig's Dovecot, the daemon serves two accounts
# with idle = false and poll_interval = 600 (no IMAP session between passes,
# no IDLE, no poll within the test), so only a wake-up can explain a print:
# LMTP and dovecot-lda deliveries into INBOX print; a user's COPY (doveadm)
# and MOVE (an IMAP client) into Print print; a flood of forged datagrams
# costs bounded work and prints nothing; with the daemon down a delivery is
# unaffected (one log line), and the daemon prints it once when it starts;
# with idle = true a wake-up ends the IDLE and the new mail prints.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
# The service user must be in wake_socket_group to give the socket to it
# (never root): here it is the mail uid itself (rig_init_wake).
rig_setup_plugin "  mail2cups_mailbox = INBOX
  mail2cups_mailbox2 = Print"
d=$RIG_DIR
wsock=$RIG_WAKE_SOCK
rig_start_all
rig_doveadm mailbox create -u "$RIG_USER" Print Other ||
	bail "cannot create the Print and Other folders"

# Two accounts on alice: INBOX and Print, both woken only by the plugin.
rig_write_conf "$d/inbox.conf" poll_interval=600 idle=false
rig_write_conf "$d/print.conf" name='"print"' mailbox='"Print"' poll_interval=600 idle=false
{
	sed '$d' "$d/inbox.conf" | sed '$d'
	printf '  },\n'
	sed -n '/^  {$/,$p' "$d/print.conf"
	printf 'backoff_max = 1;\nshutdown_timeout = 10;\nlog_level = "debug";\n'
} >"$RIG_CONF"
rig_conf_wake "$RIG_CONF"

start_daemon() {
	"$MAIL2CUPS" -c "$RIG_CONF" run >>"$d/daemon.out" 2>>"$d/daemon.err" &
	dpid=$!
	RIG_PIDS+=("$dpid")
}
daemon_says() {	# REGEX SECONDS
	rig_wait_for "$2" grep -Eq "$1" "$d/daemon.err"
}
printed_at_least() {
	[ "$(rig_printed_count)" -ge "$1" ]
}
no_session() {	# the daemon holds no IMAP session
	! rig_doveadm who -1 2>/dev/null | grep -q "$RIG_USER"
}
logins() {	# IMAP logins of alice so far
	rig_dovecot_log_count 'imap-login: Info: Login: user=<alice>'
}

start_daemon
if daemon_says 'listening for wake-ups from Dovecot on' 10; then
	ok "the daemon listens on wake_socket"
else
	not_ok "the daemon listens on wake_socket" "$(cat "$d/daemon.err")"
fi
is "$(stat -c '%a %g' "$wsock" 2>&1)" "660 $RIG_UID" "wake_socket: mode 0660, group wake_socket_group"
# Both accounts made their first pass and closed their sessions.
logins_at_least() {
	[ "$(logins)" -ge "$1" ]
}
rig_wait_for 20 logins_at_least 2
if rig_wait_for 20 no_session; then ok "idle = false: no IMAP session is kept after the first pass"
else not_ok "idle = false: no IMAP session is kept" "$(rig_doveadm who 2>&1)"; fi

# 1. LMTP delivery.
rig_mkmail pdf "$d/lmtp.pdf" lmtp.pdf && rig_mkmail mail "$d/lmtp.eml" --attach "$d/lmtp.pdf"
t0=$SECONDS
check "LMTP accepts the message" rig_lmtp "$RIG_USER" "$d/lmtp.eml"
if rig_wait_for 20 printed_at_least 1; then
	ok "an LMTP delivery prints, with no IDLE and no poll due (in $((SECONDS - t0)) s)"
else
	not_ok "an LMTP delivery prints" "$(tail -20 "$d/daemon.err")" "$(grep mail2cups "$d/dovecot/dovecot.log")"
fi
check "... the daemon logged the wake-up" grep -q 'test: wake-up from Dovecot: alice in INBOX' "$d/daemon.err"

# 2. dovecot-lda delivery.
rig_mkmail pdf "$d/lda.pdf" lda.pdf && rig_mkmail mail "$d/lda.eml" --attach "$d/lda.pdf"
rig_lda "$RIG_USER" "$d/lda.eml"
is "$RIG_LDA_RC" 0 "dovecot-lda delivers (exit 0)"
if rig_wait_for 20 printed_at_least 2; then ok "a dovecot-lda delivery prints"
else not_ok "a dovecot-lda delivery prints" "$(tail -20 "$d/daemon.err")" "$RIG_LDA_ERR"; fi

# 3. The user copies a message into Print (doveadm, as the user).
rig_mkmail pdf "$d/copy.pdf" copy.pdf && rig_mkmail mail "$d/copy.eml" --attach "$d/copy.pdf"
rig_deliver "$RIG_USER" "$d/copy.eml" Other
check "doveadm copy into Print" rig_doveadm copy -u "$RIG_USER" Print mailbox Other all
if rig_wait_for 20 printed_at_least 3; then ok "a COPY into Print prints (account print)"
else not_ok "a COPY into Print prints" "$(tail -20 "$d/daemon.err")"; fi
check "... woken for Print" grep -q 'print: wake-up from Dovecot: alice in Print' "$d/daemon.err"

# 4. An IMAP client moves a message into Print.
rig_doveadm expunge -u "$RIG_USER" mailbox Other all
rig_mkmail pdf "$d/move.pdf" move.pdf && rig_mkmail mail "$d/move.eml" --attach "$d/move.pdf"
rig_deliver "$RIG_USER" "$d/move.eml" Other
like "$(rig_imap_move "$RIG_USER" "$RIG_PASS" Other Print)" '^OK' "an IMAP client MOVEs the message into Print"
if rig_wait_for 20 printed_at_least 4; then ok "a MOVE into Print prints"
else not_ok "a MOVE into Print prints" "$(tail -20 "$d/daemon.err")"; fi

# 5. A flood of forged datagrams from another local process: good-looking
# ones for alice (UIDs that do not exist), others for nobody, garbage.
rig_wait_jobs_done
jobs_before=$(rig_job_count)
logins_before=$(logins)
t0=$SECONDS
python3 - "$wsock" <<'PY'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sent = 0
end = time.time() + 3
i = 0
while time.time() < end:
    i += 1
    for d in (b"mail2cups-wake 1\nuser alice\nmailbox INBOX\nuidvalidity 1\nuids %d\n" % (1000 + i),
              b"mail2cups-wake 1\nuser mallory\nmailbox INBOX\nuidvalidity 1\nuids 1\n",
              os.urandom(64), b"mail2cups-wake 2\n", b"x" * 5000):
        try:
            s.sendto(d, sys.argv[1])
            sent += 1
        except (BlockingIOError, OSError):
            time.sleep(0.001)
print("sent", sent, file=sys.stderr)
PY
flood_s=$((SECONDS - t0 + 1))
sleep 2	# whatever the flood set off has finished (checked below, not ordering)
rig_wait_jobs_done
is "$(rig_job_count)" "$jobs_before" "the flood printed nothing"
check "the daemon is still running" rig_pid_alive "$dpid"
got=$(( $(logins) - logins_before ))
# wake_interval = 1: at most one pass a second per account, plus the last.
if [ "$got" -le $(( 2 * (flood_s + 3) )) ]; then
	ok "bounded work: $got IMAP passes for a ${flood_s}-second flood"
else
	not_ok "bounded work" "$got IMAP logins during a ${flood_s}-second flood"
fi
n=$(grep -c 'wake_socket: ignored a datagram' "$d/daemon.err")
if [ "$n" -ge 1 ] && [ "$n" -le 2 ]; then ok "ignored datagrams logged, at most once a minute ($n lines)"
else not_ok "ignored datagrams logged at most once a minute" "$n lines"; fi
rig_mkmail pdf "$d/after.pdf" after.pdf && rig_mkmail mail "$d/after.eml" --attach "$d/after.pdf"
rig_lmtp "$RIG_USER" "$d/after.eml"
if rig_wait_for 20 printed_at_least 5; then ok "after the flood, a delivery still prints"
else not_ok "after the flood, a delivery still prints" "$(tail -20 "$d/daemon.err")"; fi

# 6. The daemon is down during two deliveries (one LMTP session): both are
# delivered, one log line, and the daemon prints them once when it starts.
rig_kill_pid "$dpid"
check "the daemon removed wake_socket when it stopped" test ! -e "$wsock"
warn_before=$(rig_dovecot_log_count 'mail2cups: cannot wake mail2cups')
rig_mkmail pdf "$d/down1.pdf" down1.pdf && rig_mkmail mail "$d/down1.eml" --attach "$d/down1.pdf"
rig_mkmail pdf "$d/down2.pdf" down2.pdf && rig_mkmail mail "$d/down2.eml" --attach "$d/down2.pdf"
check "with the daemon down, LMTP accepts both messages" rig_lmtp "$RIG_USER" "$d/down1.eml" "$d/down2.eml"
is "$(rig_folder_count "$RIG_USER" INBOX)" 5 "... both are in the mailbox (with the 3 before)"
is "$(( $(rig_dovecot_log_count 'mail2cups: cannot wake mail2cups') - warn_before ))" 1 \
	"... and Dovecot logged one line for the two"
start_daemon
if rig_wait_for 30 printed_at_least 7; then ok "the daemon, started, prints what came while it was down"
else not_ok "the daemon, started, prints what came while it was down" "$(tail -20 "$d/daemon.err")"; fi

# 7. idle = true with wake_socket: a wake-up ends the IDLE; the new mail is
# seen at once though Dovecot's IDLE may not have noticed it yet (else it
# would wait for the next mail: the last of these would never print).
rig_kill_pid "$dpid"
sed -i 's/idle = false;/idle = true;/' "$RIG_CONF"
start_daemon
daemon_says 'test: serving INBOX' 10
rig_wait_for 20 bash -c "rig_doveadm() { doveadm -c '$RIG_DOVECONF' \"\$@\"; }; rig_doveadm who -1 | grep -q '$RIG_USER'"
k=7
for f in idle1 idle2 idle3; do
	rig_mkmail pdf "$d/$f.pdf" "$f.pdf" && rig_mkmail mail "$d/$f.eml" --attach "$d/$f.pdf"
	rig_lmtp "$RIG_USER" "$d/$f.eml"
	k=$((k + 1))
	if rig_wait_for 20 printed_at_least "$k"; then ok "idle = true and a wake-up: $f prints"
	else not_ok "idle = true and a wake-up: $f prints" "$(tail -20 "$d/daemon.err")"; fi
done

rig_kill_pid "$dpid"
expect_printed "every document printed exactly once" "$d/lmtp.pdf" "$d/lda.pdf" "$d/copy.pdf" \
	"$d/move.pdf" "$d/after.pdf" "$d/down1.pdf" "$d/down2.pdf" "$d/idle1.pdf" "$d/idle2.pdf" \
	"$d/idle3.pdf"
tap_done
