#!/bin/bash
# bench/print-folders.sh - the daemon's memory with a Print folder for every
# user (print_folders = true), on the private test rig (root; after make,
# with the plugin built).  Prints; asserts nothing.  N users (default 1000)
# in the rig's passwd-file, each with a Print folder; one print_folders
# account signing in through a Dovecot master user.  VmRSS and VmHWM
# (/proc/PID/status) of the supervisor and of the account's worker:
#  1. idle: N users' folders configured, no session open;
#  2. after one wake-up for each user (datagrams as the plugin sends them)
#     was processed, MAX sessions at most open at once (default 100), and
#     every session closed again after session_timeout (2 s).
#   [MAX=100] bench/print-folders.sh [N]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=${top_srcdir:-$top} top_builddir=${top_builddir:-$top}
export MAIL2CUPS=${MAIL2CUPS:-$top_builddir/mail2cups}
n=${1:-1000}
max=${MAX:-100}
. "$top_srcdir/tests/rig/rig.sh"
rig_setup_plugin "  mail2cups_mailbox = Print" m2c-master
d=$RIG_DIR
rig_start_all

# N users, each with an (empty) Print folder, written straight into the
# passwd-file and the maildirs (doveadm once per user would take minutes).
users=()
for i in $(seq -f '%04g' 1 "$n"); do
	u=user$i
	users+=("$u")
	mkdir -p "$d/mail/$u/Maildir/"{cur,new,tmp} "$d/mail/$u/Maildir/.Print/"{cur,new,tmp}
	printf '%s:{PLAIN}%s:%d:%d::%s::\n' "$u" "$RIG_PASS" "$RIG_UID" "$RIG_UID" \
		"$d/mail/$u" >>"$d/dovecot/users"
done
chown -R "$RIG_UID:$RIG_UID" "$d/mail"
rig_wait_for 30 rig_doveadm user "${users[-1]}" >/dev/null ||
	{ echo "Dovecot does not know ${users[-1]}" >&2; exit 1; }

rig_write_folders_conf "$RIG_CONF" m2c-master session_timeout=2 max_sessions="$max" \
	poll_interval=86400
sed -i 's/^log_level = "debug";/log_level = "info";/' "$RIG_CONF"
rig_conf_wake "$RIG_CONF" 0

mem() {	# PID: "VmRSS X kB, VmHWM Y kB"
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
		END { printf "VmRSS %6d kB, VmHWM %6d kB", r, h }' "/proc/$1/status"
}
worker_pid() {
	pgrep -P "$RIG_DAEMON_PID" | head -1
}
count() {	# REGEX: lines of the daemon's log
	grep -Ec -- "$1" "$RIG_DAEMON_ERR"
}
at_least() {	# REGEX N
	[ "$(count "$1")" -ge "$2" ]
}

rig_start_daemon
rig_daemon_says 'serving every user.s Print' 20 || { echo "the daemon did not start" >&2; exit 1; }
rig_wait_for 20 worker_pid >/dev/null
sleep 1	# the first (empty) safety pass
w=$(worker_pid)
echo "print_folders, $n users configured in Dovecot, max_sessions = $max"
echo "1. idle, no session:"
echo "   supervisor  $(mem "$RIG_DAEMON_PID")"
echo "   worker      $(mem "$w")"

t0=$(date +%s.%N)
rig_wake Print "${users[@]}"
rig_wait_for 1800 at_least 'session opened as' "$n" ||
	echo "only $(count 'session opened as') of $n wake-ups were processed" >&2
t1=$(date +%s.%N)
rig_wait_for 120 at_least 'session closed' "$n" ||
	echo "only $(count 'session closed') of $n sessions closed" >&2
echo "2. after one wake-up per user ($(count 'session opened as') sessions opened in" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s), all closed again:"
echo "   supervisor  $(mem "$RIG_DAEMON_PID")"
echo "   worker      $(mem "$w")"
echo "   (VmHWM: the peak, with up to $max sessions open at once;" \
	"$(count 'max_sessions are open') closed early to stay within max_sessions)"
rig_kill_pid "$RIG_DAEMON_PID"
