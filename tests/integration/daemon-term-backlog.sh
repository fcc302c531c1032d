#!/bin/bash
# daemon-term-backlog.sh - SIGTERM while the daemon works through a backlog:
# it stops within seconds with status 0, having finished the message in
# hand; the next run prints the rest; every document prints exactly once.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup poll_interval=600
d=$RIG_DIR
# A queue that drains at once, so 30 jobs do not outrun the rig's waits.
rig_add_fast_queue fast
RIG_QUEUE=fast
rig_write_conf "$RIG_CONF" poll_interval=600 printer='"fast"'
printf 'shutdown_timeout = 120;\n' >>"$RIG_CONF"
n=30
docs=()
for i in $(seq $n); do
	rig_deliver_pdf "$d/b$i.pdf"
	docs+=("$d/b$i.pdf")
done
jobs_in_cups() { [ "$(rig_cups lpstat -W all -o 2>/dev/null | wc -l)" -ge "$1" ]; }

"$MAIL2CUPS" -c "$RIG_CONF" run 2>"$d/daemon.err" &
dpid=$!
RIG_PIDS+=("$dpid")
rig_wait_for 20 jobs_in_cups 3 || bail "the backlog did not start printing: $(cat "$d/daemon.err")"
kill -TERM "$dpid"
wait "$dpid"
rc=$?
is "$rc" 0 "SIGTERM in the middle of the backlog: exit 0"
# Not timed (a loaded machine is slow): with shutdown_timeout far away, a
# worker that ignored SIGTERM would show as the supervisor's "killing it".
if grep -q 'no exit after' "$d/daemon.err"; then not_ok "... every worker stopped on its own" "$(cat "$d/daemon.err")"
else ok "... every worker stopped on its own, shutdown_timeout killed none"; fi
got=$(rig_cups lpstat -W all -o 2>/dev/null | wc -l)
check "... before the backlog was done ($got of $n in CUPS)" test "$got" -lt "$n"
like "$(cat "$d/daemon.err")" 'test: stopped' "the worker said it stopped"

rig_run once
expect_rc 0 "the next run exits 0"
expect_printed "every one of the $n documents printed exactly once" "${docs[@]}"
is "$(rig_job_count)" "$n" "CUPS has exactly $n jobs"
is "$(rig_unseen_count "$RIG_USER" INBOX)" 0 "no message left unseen"
tap_done
