#!/bin/bash
# test-cupsjob.sh - run tests/unit/test-cupsjob against the rig's private
# cupsd and ippeveprinter (tests/rig/rig.sh; here a duplex colour printer),
# with three raw queues: Q accepting and enabled, QREJ rejecting jobs,
# QSTOP stopped.
#
# The test program restarts cupsd mid-test through M2C_CUPS_RESTART: that
# command signals this script (SIGUSR1), which restarts cupsd with the
# rig's own functions (so the rig's trap still stops it) and acknowledges.
#
# Usage: test-cupsjob.sh [COMMAND...]   (default: the test program; a
# command, e.g. "bash", is run instead with the same environment: handy for
# poking at the rig by hand).
#
# Without root or the CUPS tools, the test program runs alone and reports
# its cupsd part as skipped; under CI=true that is a failure.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
prog=${top_builddir:-.}/tests/unit/test-cupsjob

why=
for c in cupsd lpadmin lp lpstat cancel cupsreject cupsdisable ipptool ippeveprinter dbus-daemon python3; do
	command -v "$c" >/dev/null 2>&1 || why="${why:+$why, }$c"
done
[ -z "$why" ] || why="missing $why (scripts/install-deps.sh installs it)"
[ "$(id -u)" -eq 0 ] || why="not root (cupsd changes users)"
if [ -n "$why" ]; then
	[ "${CI:-}" = true ] && bail "no private cupsd: $why"
	echo "# no private cupsd ($why): its part is skipped"
	exec "$prog"
fi

rig_init
rig_start_cups
# The rig's virtual printer advertises duplex and colour (rig_start_printer):
# one that cannot print two-sided refuses sides=two-sided-* and the ipp
# backend then cancels the job ("Printer cannot print with supplied options").
rig_start_printer
for q in Q QREJ QSTOP; do
	rig_add_queue "$q"
done
rig_cups cupsreject QREJ || bail "cupsreject failed"
rig_cups cupsdisable QSTOP || bail "cupsdisable failed"

restart_cupsd() {
	rig_stop_cups
	rig_start_cups
	: >"$RIG_DIR/cupsd-restarted"
}
trap restart_cupsd USR1

export M2C_CUPS_SERVER=$RIG_CUPS_SOCK M2C_CUPS_QUEUE=Q M2C_CUPS_SPOOL=$RIG_SPOOL
export M2C_CUPS_PORT=$RIG_CUPS_PORT
export M2C_CUPS_RESTART="rm -f '$RIG_DIR/cupsd-restarted'; kill -USR1 $$; \
while [ ! -e '$RIG_DIR/cupsd-restarted' ]; do sleep 0.05; done"

[ $# -gt 0 ] || set -- "$prog"
"$@" &
pid=$!
# wait returns early for each SIGUSR1 (the restart): wait again until the
# program has really exited, and keep its status.
while :; do
	wait "$pid"
	rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
exit "$rc"
