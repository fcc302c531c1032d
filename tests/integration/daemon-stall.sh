#!/bin/bash
# daemon-stall.sh - the connection silently stops answering while the daemon
# idles (a stalled NAT or proxy: nothing arrives, nothing is closed, as with
# Exchange Online, which sends nothing while idling): the daemon notices
# after keepalive_interval + timeout, reconnects, and the mail that arrived
# meanwhile prints.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
python3 "$RIG_LIB/stallproxy.py" 0 "$RIG_IMAPS_PORT" "$d/proxy.port" 2>"$d/proxy.err" &
ppid=$!
RIG_PIDS+=("$ppid")
rig_wait_for 10 test -s "$d/proxy.port" || bail "the stall proxy did not start"
rig_write_conf "$RIG_CONF" poll_interval=600 port="$(cat "$d/proxy.port")"
# log_level debug: the daemon says "idle: waiting for new mail" at each IDLE.
printf 'log_level = "debug";\nkeepalive_interval = 2;\nbackoff_max = 1;\nshutdown_timeout = 10;\n' >>"$RIG_CONF"

"$MAIL2CUPS" -c "$RIG_CONF" run 2>"$d/daemon.err" &
dpid=$!
RIG_PIDS+=("$dpid")
log_has() { grep -Eq "$1" "$d/daemon.err"; }
printed_at_least() { [ "$(rig_printed_count)" -ge "$1" ]; }
idle_count_ge() { [ "$(grep -c 'test: idle: waiting for new mail' "$d/daemon.err")" -ge "$1" ]; }

rig_wait_for 60 idle_count_ge 1 || bail "the daemon did not go idle: $(cat "$d/daemon.err")"
rig_deliver_pdf "$d/one.pdf"
if rig_wait_for 60 printed_at_least 1; then ok "through the proxy, a mail prints"
else not_ok "through the proxy, a mail prints" "$(cat "$d/daemon.err")"; fi
# The pass that printed it is over and the daemon idles again.
rig_wait_for 60 idle_count_ge 2 || bail "the daemon did not go idle again: $(tail -5 "$d/daemon.err")"

kill -USR1 "$ppid"	# every open connection goes silent
rig_wait_for 10 grep -q '^stalled' "$d/proxy.err" || bail "the proxy did not stall: $(cat "$d/proxy.err")"
rig_deliver_pdf "$d/two.pdf"
t0=$SECONDS
if rig_wait_for 60 printed_at_least 2; then ok "after the connection stalled, the daemon reconnected and printed"
else not_ok "after the connection stalled, the daemon reconnected and printed" "$(cat "$d/daemon.err")"; fi
diag "noticed and printed after $((SECONDS - t0)) s (keepalive_interval 2 s + timeout 10 s)"
like "$(cat "$d/daemon.err")" 'no answer from 127\.0\.0\.1 for [0-9.]+ s; the connection is dead' \
	"the log says the connection was dead"
kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "SIGTERM: exit 0"
expect_printed "each document exactly once" "$d/one.pdf" "$d/two.pdf"
tap_done
