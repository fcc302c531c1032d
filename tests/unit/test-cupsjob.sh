#!/bin/sh
# test-cupsjob.sh - run tests/unit/test-cupsjob against a private cupsd.
#
# Starts (all on loopback, all under one short /tmp folder, see RIG.md):
# a private D-Bus bus, ippeveprinter as the printer (-k keeps every document
# it receives), a private cupsd with three raw queues pointing at it (Q
# accepting and enabled, QREJ rejecting jobs, QSTOP stopped), then runs the
# test program with M2C_CUPS_SERVER etc. and stops everything in a trap.
#
# Usage: test-cupsjob.sh [COMMAND...]   (default: the test program; a
# command, e.g. "sh", is run instead with the same environment: handy for
# poking at the rig by hand).  "test-cupsjob.sh --restart-cupsd" is what
# the test program calls (via M2C_CUPS_RESTART) to restart cupsd mid-test.
#
# A missing dependency skips the cupsd part (or all: exit 77), or fails
# under CI=true.

set -u
nargs=$#

# No rig: under CI that is a failure; otherwise run the parts of the test
# program that need no cupsd (it reports the rest as skipped).
bail() {
	if [ "${CI:-}" = true ]; then
		echo "Bail out! $*"
		exit 99
	fi
	echo "# no private cupsd: $*"
	if [ -n "${prog:-}" ] && [ -x "$prog" ] && [ "$nargs" = 0 ]; then
		unset M2C_CUPS_SERVER
		"$prog"
		exit $?
	fi
	echo "1..0 # SKIP $*"
	exit 77
}

# cupsd at socket $1 answers (lpstat -r exits 0 even when it does not).
cupsd_up() {
	lpstat -h "$1" -r 2>/dev/null | grep -qx "scheduler is running"
}

# A process that is running (a zombie, which still answers kill -0, is not).
running() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# Restart the cupsd of a running rig (called by the test program): stop
# the old one, wait until it has really exited (starting the new one while
# the old one was still shutting down can fail to bind), start a new one
# and wait until it answers.
if [ "${1:-}" = --restart-cupsd ]; then
	d=${M2C_RIG_DIR:?} pid=$(cat "${M2C_RIG_DIR:?}/cupsd.pid")
	kill "$pid" 2>/dev/null
	i=0
	while running "$pid" && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	cupsd -f -c "$d/etc/cupsd.conf" -s "$d/etc/cups-files.conf" \
		>>"$d/log/cupsd-out" 2>&1 &
	echo $! >"$d/cupsd.pid"
	i=0
	until cupsd_up "$d/cups.sock"; do
		i=$((i + 1))
		[ $i -ge 200 ] && exit 1
		sleep 0.05
	done
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
prog=${top_builddir:-$here/../..}/tests/unit/test-cupsjob

for c in cupsd ippeveprinter dbus-daemon lpadmin lpstat cupsreject cupsdisable; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not installed (cups, cups-ipp-utils, dbus)"
done
[ "$(id -u)" = 0 ] || bail "a private cupsd needs root (User lp)"
[ -x "$prog" ] || [ $# -gt 0 ] || bail "$prog not built"
serverbin=$(cups-config --serverbin 2>/dev/null || echo /usr/lib/cups)
[ -d "$serverbin/backend" ] || bail "no CUPS ServerBin at $serverbin"

dir=$(mktemp -d /tmp/m2c-cj.XXXXXX) || bail "mktemp failed"
chmod 0755 "$dir"
dbus_pid= eve_pid=

cleanup() {
	if [ -f "$dir/cupsd.pid" ]; then
		pid=$(cat "$dir/cupsd.pid")
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# a restarted one is not our child: wait for it by hand
		i=0
		while running "$pid" && [ $i -lt 100 ]; do
			sleep 0.05; i=$((i + 1))
		done
	fi
	[ -n "$eve_pid" ] && kill "$eve_pid" 2>/dev/null
	[ -n "$dbus_pid" ] && kill "$dbus_pid" 2>/dev/null
	wait 2>/dev/null
	if [ "${M2C_RIG_KEEP:-}" = 1 ]; then
		echo "# rig kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A free loopback port: nothing answers on it now (bash has /dev/tcp).
if ! command -v bash >/dev/null 2>&1; then bail "bash not installed"; fi
free_port() {
	bash -c 'while :; do p=$(( RANDOM % 20000 + 30000 ));
		(: </dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; exit; }; done'
}
cups_port=$(free_port)
eve_port=$(free_port)

mkdir -p "$dir/etc" "$dir/cache" "$dir/state" "$dir/log" "$dir/bin/backend" "$dir/eve"
for f in "$serverbin"/*; do
	[ "$(basename "$f")" = backend ] || ln -s "$f" "$dir/bin/"
done
for f in "$serverbin"/backend/*; do ln -s "$f" "$dir/bin/backend/"; done
mkdir -p "$dir/spool/tmp"
chown root:lp "$dir/spool" && chmod 0710 "$dir/spool"
chown root:lp "$dir/spool/tmp" && chmod 1770 "$dir/spool/tmp"
chown lp:lp "$dir/cache" "$dir/state" 2>/dev/null

cat >"$dir/etc/cupsd.conf" <<EOF
LogLevel debug
Listen 127.0.0.1:$cups_port
Listen $dir/cups.sock
Browsing No
WebInterface No
DefaultAuthType None
PreserveJobHistory Yes
PreserveJobFiles No
DirtyCleanInterval 0
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
cat >"$dir/etc/cups-files.conf" <<EOF
User lp
Group lp
FileDevice No
ServerRoot $dir/etc
RequestRoot $dir/spool
CacheDir $dir/cache
StateDir $dir/state
ServerBin $dir/bin
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
EOF

cupsd -t -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" >"$dir/log/cupsd-t" 2>&1 ||
	bail "cupsd -t refused the private config: $(cat "$dir/log/cupsd-t")"

dbus_pid=$(dbus-daemon --config-file=/usr/share/dbus-1/session.conf \
	--address="unix:path=$dir/bus.sock" --fork --print-pid) || bail "dbus-daemon failed"
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus.sock" ippeveprinter -k -n localhost \
	-p "$eve_port" -d "$dir/eve" -r off -c /bin/true \
	-f application/pdf,image/jpeg,image/png,image/pwg-raster,text/plain,application/octet-stream \
	m2ceve >"$dir/log/eve" 2>&1 &
eve_pid=$!
cupsd -f -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" >"$dir/log/cupsd-out" 2>&1 &
echo $! >"$dir/cupsd.pid"

CUPS_SERVER=$dir/cups.sock
export CUPS_SERVER
i=0
until cupsd_up "$CUPS_SERVER"; do
	i=$((i + 1))
	[ $i -ge 100 ] && bail "private cupsd did not start: $(tail -5 "$dir/log/error_log" 2>/dev/null)"
	sleep 0.05
done
i=0
until bash -c "(: </dev/tcp/127.0.0.1/$eve_port)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -ge 100 ] && bail "ippeveprinter did not start: $(tail -5 "$dir/log/eve")"
	sleep 0.05
done

uri="ipp://localhost:$eve_port/ipp/print"
for q in Q QREJ QSTOP; do
	lpadmin -p $q -E -v "$uri" -m raw >"$dir/log/lpadmin-$q" 2>&1 ||
		bail "lpadmin -m raw failed: $(cat "$dir/log/lpadmin-$q")"
done
cupsreject QREJ || bail "cupsreject failed"
cupsdisable QSTOP || bail "cupsdisable failed"

M2C_CUPS_SERVER=$dir/cups.sock
M2C_CUPS_QUEUE=Q
M2C_CUPS_SPOOL=$dir/eve
M2C_RIG_DIR=$dir
M2C_CUPS_PORT=$cups_port
M2C_CUPS_RESTART="M2C_RIG_DIR=$dir sh $self --restart-cupsd"
export M2C_CUPS_PORT M2C_CUPS_SERVER M2C_CUPS_QUEUE M2C_CUPS_SPOOL M2C_RIG_DIR M2C_CUPS_RESTART

if [ $# -gt 0 ]; then
	"$@"
else
	"$prog"
fi
