#!/bin/bash
# daemon.sh - mail2cups run: a mail delivered while the daemon idles prints
# without waiting for a poll; SIGHUP with a changed config restarts the
# account and keeps printing; SIGHUP with a broken config is refused and the
# old one kept; after Dovecot restarts the daemon reconnects by itself;
# SIGTERM stops everything, and no document was printed twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
# poll_interval is long: only IDLE can make these mails print in time.
rig_setup poll_interval=600
d=$RIG_DIR
# log_level debug: the daemon says "idle: waiting for new mail" at each IDLE.
# idle_interval and keepalive_interval (which ends a silent IDLE to probe
# the server) are far above every wait below: only IDLE's news can make a
# mail print in time.
globals='log_level = "debug";\nidle_interval = 600;\nkeepalive_interval = 300;\nbackoff_max = 1;\nshutdown_timeout = 120;\n'
printf "$globals" >>"$RIG_CONF"

rig_start_daemon
dpid=$RIG_DAEMON_PID

# printed_within N SECONDS: the printer holds N documents within SECONDS.
printed_at_least() {
	[ "$(rig_printed_count)" -ge "$1" ]
}
printed_within() {
	rig_wait_for "$2" printed_at_least "$1"
}
flags_are() {
	[ "$(rig_flags "$RIG_USER" INBOX)" = "$1" ]
}
# idle_count: how many times the worker has gone idle so far (it logs
# "idle: waiting for new mail" at the end of every pass, at level debug).
idle_count() {
	grep -c 'test: idle: waiting for new mail' "$RIG_DAEMON_ERR"
}
idle_count_gt() {
	[ "$(idle_count)" -gt "$1" ]
}

if rig_daemon_says 'test: serving INBOX' 30; then ok "the daemon serves the account"
else not_ok "the daemon serves the account" "$(cat "$RIG_DAEMON_ERR")"; fi
rig_wait_for 60 idle_count_gt 0 || bail "the daemon never went idle: $(tail -5 "$RIG_DAEMON_ERR")"
rig_deliver_pdf "$d/one.pdf"
if printed_within 1 60; then ok "a mail delivered during IDLE printed (poll_interval is 600 s)"
else not_ok "a mail delivered during IDLE printed" "$(cat "$RIG_DAEMON_ERR")"; fi
expect_printed "one.pdf byte for byte" "$d/one.pdf"
rig_wait_for 30 flags_are '1 \Seen'
expect_flags "$RIG_USER" INBOX '1 \Seen' "the message is \\Seen"
rig_run status
expect_rc 0 "mail2cups status while the daemon runs: exit 0"
like "$RIG_OUT" 'test: ok \(last pass .*1 printed today' "... the account is ok, 1 printed today"

# A good reload: a changed setting restarts the account's worker.
rig_write_conf "$RIG_CONF" poll_interval=600 'allow_senders=[ "*@example.com", "boss@example.org" ]'
printf "$globals" >>"$RIG_CONF"
kill -HUP "$dpid"
if rig_daemon_says 'settings changed; restarting' 30 && rig_daemon_says 'reloaded' 30; then
	ok "SIGHUP with a changed config restarts the account"
else not_ok "SIGHUP with a changed config restarts the account" "$(cat "$RIG_DAEMON_ERR")"; fi
rig_deliver_pdf "$d/two.pdf" --from boss@example.org
if printed_within 2 60; then ok "after the reload, mail from the newly allowed sender prints"
else not_ok "after the reload, mail from the newly allowed sender prints" "$(cat "$RIG_DAEMON_ERR")"; fi

# A broken reload is refused; the daemon keeps going on the old config.
cp "$RIG_CONF" "$d/good.conf"
printf 'accounts = ( { name = "test"; prnter = "x"; } );\n' >"$RIG_CONF"
kill -HUP "$dpid"
if rig_daemon_says 'reload refused' 30; then ok "SIGHUP with a broken config is refused"
else not_ok "SIGHUP with a broken config is refused" "$(cat "$RIG_DAEMON_ERR")"; fi
like "$(grep 'reload refused' "$RIG_DAEMON_ERR")" 'prnter.*did you mean' "... and the log says what is wrong"
rig_deliver_pdf "$d/three.pdf"
if printed_within 3 60; then ok "the old configuration keeps printing"
else not_ok "the old configuration keeps printing" "$(cat "$RIG_DAEMON_ERR")"; fi
cp "$d/good.conf" "$RIG_CONF"

# The server goes away and comes back: the daemon reconnects by itself.
rig_stop_dovecot
if rig_daemon_says 'trying again in' 20; then ok "the lost connection is logged with its back-off"
else not_ok "the lost connection is logged with its back-off" "$(tail -5 "$RIG_DAEMON_ERR")"; fi
rig_start_dovecot
rig_deliver_pdf "$d/four.pdf"
if printed_within 4 60; then ok "after Dovecot restarted, the daemon reconnected and printed"
else not_ok "after Dovecot restarted, the daemon reconnected and printed" "$(cat "$RIG_DAEMON_ERR")"; fi

# SIGTERM: everything stops, quickly, with exit status 0.
kids=$(pgrep -P "$dpid" | tr '\n' ' ')
kill -TERM "$dpid"
wait "$dpid"
rc=$?
is "$rc" 0 "SIGTERM: the daemon exits 0"
# Not timed (a loaded machine is slow): with shutdown_timeout far away, a
# worker that ignored SIGTERM would show as the supervisor's "killing it".
if grep -q 'no exit after' "$RIG_DAEMON_ERR"; then not_ok "... every worker stopped on its own" "$(cat "$RIG_DAEMON_ERR")"
else ok "... every worker stopped on its own, shutdown_timeout killed none"; fi
left=0
for k in $kids; do rig_pid_alive "$k" && left=1; done
is "$left" 0 "... and no worker is left running"
expect_printed "every document printed exactly once" "$d/one.pdf" "$d/two.pdf" "$d/three.pdf" "$d/four.pdf"
is "$(rig_job_count)" 4 "CUPS has exactly 4 jobs"
tap_done
