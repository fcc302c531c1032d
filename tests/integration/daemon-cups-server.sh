#!/bin/bash
# daemon-cups-server.sh - mail2cups run: SIGHUP with cups_server changed to
# another cupsd restarts the account's worker, and the next mail prints
# through the new cupsd, not the old one (the worker must not keep the
# server its supervisor started with).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
# poll_interval is long: the worker's first pass or IDLE prints each mail.
rig_setup poll_interval=600
d=$RIG_DIR
rig_start_cups2
globals='idle_interval = 60;\nbackoff_max = 1;\nshutdown_timeout = 10;\n'
printf "$globals" >>"$RIG_CONF"

rig_start_daemon
dpid=$RIG_DAEMON_PID

# jobs_on A|B N: that cupsd holds at least N jobs.
jobs_on() {
	local port=$RIG_CUPS_PORT
	[ "$1" = B ] && port=$RIG_CUPS2_PORT
	[ "$(RIG_CUPS_PORT=$port rig_job_count)" -ge "$2" ]
}
counts() {
	printf 'A=%s B=%s' "$(rig_job_count)" "$(RIG_CUPS_PORT=$RIG_CUPS2_PORT rig_job_count)"
}

rig_deliver_pdf "$d/one.pdf"
if rig_wait_for 20 jobs_on A 1; then ok "before the reload, a mail prints through cupsd A"
else not_ok "before the reload, a mail prints through cupsd A" "$(counts)" "$(cat "$RIG_DAEMON_ERR")"; fi

# The same configuration, but cups_server is cupsd B's socket.
sed -i "s|^cups_server = .*|cups_server = \"$RIG_CUPS2_SOCK\";|" "$RIG_CONF"
check "the new config names cupsd B" grep -q "cups_server = \"$RIG_CUPS2_SOCK\"" "$RIG_CONF"
kill -HUP "$dpid"
if rig_daemon_says 'settings changed; restarting' 10 && rig_daemon_says 'reloaded' 10; then
	ok "SIGHUP with a changed cups_server restarts the account"
else not_ok "SIGHUP with a changed cups_server restarts the account" "$(cat "$RIG_DAEMON_ERR")"; fi

rig_deliver_pdf "$d/two.pdf"
if rig_wait_for 20 jobs_on B 1; then ok "after the reload, the next mail prints through cupsd B"
else not_ok "after the reload, the next mail prints through cupsd B" "$(counts)" "$(cat "$RIG_DAEMON_ERR")"; fi
is "$(counts)" "A=1 B=1" "... and cupsd A got no second job"
like "$(RIG_CUPS_PORT=$RIG_CUPS2_PORT rig_jobs | cut -f4)" '^two\.pdf$' "... the job on B is two.pdf"

kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "SIGTERM: the daemon exits 0"
expect_printed "both documents reached the printer once" "$d/one.pdf" "$d/two.pdf"
tap_done
