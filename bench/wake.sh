#!/bin/bash
# bench/wake.sh - delivery-to-CUPS latency with the Dovecot plugin's
# wake-up beside IDLE, on the private test rig (root; after make, with the
# plugin built).  Prints; asserts nothing.  Each mail is delivered over
# LMTP into the rig's Dovecot, which loads the plugin from the build tree;
# the time is until CUPS has its job.  N mails each (default 20):
#  1. IDLE: idle = true, no wake_socket (what bench/daemon.sh measures,
#     through LMTP);
#  2. wake-up: idle = false (no session between passes), wake_socket: the
#     plugin's datagram starts a pass (connect, sign in, search, print);
#  3. both: idle = true and wake_socket: the wake-up ends the IDLE early.
#   [CASES="1 2 3"] bench/wake.sh [N]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=${top_srcdir:-$top} top_builddir=${top_builddir:-$top}
export MAIL2CUPS=${MAIL2CUPS:-$top_builddir/mail2cups}
n=${1:-20}
. "$top_srcdir/tests/rig/rig.sh"
. "$top_srcdir/bench/latency.sh"
# The daemon runs as the mail uid here, which can make the socket in
# RIG_WAKE_SOCK's folder (rig_setup_plugin).
rig_setup_plugin "  mail2cups_mailbox = INBOX"
d=$RIG_DIR
rig_start_all
rig_mkmail pdf "$d/l.pdf" latency
rig_mkmail mail "$d/l.eml" --attach "$d/l.pdf"

# run_case LABEL IDLE WAKE: a daemon with idle = IDLE, wake_socket when
# WAKE=1; N deliveries measured once its first pass is done.
run_case() {
	local label=$1 idle=$2 wake=$3 pid
	rig_write_conf "$RIG_CONF" poll_interval=600 idle="$idle"
	printf 'idle_interval = 600;\nlog_level = "info";\n' >>"$RIG_CONF"
	# wake_interval 0: each delivery's wake-up counts, however close.
	[ "$wake" = 1 ] && rig_conf_wake "$RIG_CONF" 0
	: >"$d/daemon.err"
	"$MAIL2CUPS" -c "$RIG_CONF" run 2>"$d/daemon.err" &
	pid=$!
	RIG_PIDS+=("$pid")
	rig_wait_for 20 grep -q 'serving INBOX' "$d/daemon.err"
	sleep 2	# its first pass (and IDLE) under way
	echo "$label, delivery-to-CUPS latency over $n mails (ms): $(bench_latency "$n" "rig_lmtp $RIG_USER" "$d/l.eml")"
	rig_kill_pid "$pid"
	cat "$d/daemon.err" >>"$d/daemon-all.err"
}
cases=${CASES:-1 2 3}
for c in $cases; do
	case $c in
	1) run_case "1. IDLE only            " true 0 ;;
	2) run_case "2. plugin wake, no IDLE " false 1 ;;
	3) run_case "3. plugin wake and IDLE " true 1 ;;
	esac
done
echo "  (each includes an LMTP delivery by a Python client and a 10 ms polling step of lpstat;"
echo "   Dovecot's IDLE notices new mail after about 0.5 s, RIG.md)"
