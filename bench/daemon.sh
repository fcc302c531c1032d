#!/bin/bash
# bench/daemon.sh - figures for the daemon, on the private test rig (root;
# after make).  Prints; asserts nothing.
#  1. delivery-to-CUPS latency with IDLE: a mail is saved into the mailbox
#     while `mail2cups run` idles; the time until CUPS has its job.  N runs
#     (default 20): median and worst.  Dovecot's own IDLE notification delay
#     (about 0.5 s, RIG.md) is part of it.
#  2. backlog throughput: M one-PDF mails (default 500) waiting, then one
#     `mail2cups once`; jobs per second, beside bench/cups-submit (the
#     plainest libcups loop) submitting the same PDFs.
#   bench/daemon.sh [N] [M]
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=${top_srcdir:-$top} top_builddir=${top_builddir:-$top}
export MAIL2CUPS=${MAIL2CUPS:-$top_builddir/mail2cups}
n=${1:-20}
m=${2:-500}
. "$top_srcdir/tests/rig/rig.sh"
rig_setup poll_interval=600
d=$RIG_DIR
printf 'idle_interval = 600;\nlog_level = "warn";\n' >>"$RIG_CONF"
. "$top_srcdir/bench/latency.sh"
cups_jobs() { bench_cups_jobs; }
now_ms() { bench_now_ms; }

# 1. latency
rig_mkmail pdf "$d/l.pdf" latency
rig_mkmail mail "$d/l.eml" --attach "$d/l.pdf"
"$MAIL2CUPS" -c "$RIG_CONF" run 2>"$d/daemon.err" &
RIG_PIDS+=($!)
rig_wait_for 20 bash -c "rig_dummy=1; $(declare -f rig_doveadm); RIG_DOVECONF=$RIG_DOVECONF; rig_doveadm who -1 | grep -q ." ||
	sleep 2
sleep 1
echo "IDLE delivery-to-CUPS latency over $n mails (ms): $(bench_latency "$n" "rig_deliver $RIG_USER" "$d/l.eml")"
rig_kill_pid "${RIG_PIDS[-1]}"
echo "  (each includes doveadm save, Dovecot's ~0.5 s IDLE notification delay and a 10 ms polling step)"

# 2. backlog
mkdir "$d/pdf"
for i in $(seq "$m"); do
	rig_mkmail pdf "$d/pdf/b$i.pdf" "backlog $i"
	rig_mkmail mail "$d/pdf/b$i.eml" --attach "$d/pdf/b$i.pdf"
done
for i in $(seq "$m"); do rig_deliver "$RIG_USER" "$d/pdf/b$i.eml"; done
sed -i 's/log_level = "warn";/log_level = "info";/' "$RIG_CONF"	# for the summary line
t0=$(now_ms)
"$MAIL2CUPS" -c "$RIG_CONF" once 2>"$d/once.err"
t1=$(now_ms)
# Count from the program's own summary (CUPS keeps only MaxJobs jobs).
got=$(sed -n 's/.*test: [0-9]* fetched, \([0-9]*\) jobs,.*/\1/p' "$d/once.err" | tail -1)
awk -v j="$got" -v ms=$((t1 - t0)) 'BEGIN {printf "mail2cups once, backlog of %d one-PDF mails: %d jobs in %.2f s = %.1f mails/s\n", j, j, ms/1000, j*1000/ms}'
cc -O2 -o "$d/cups-submit" "$top_srcdir/bench/cups-submit.c" $(cups-config --cflags --libs)
CUPS_SERVER=$RIG_CUPS_SOCK "$d/cups-submit" "$RIG_QUEUE" "$d"/pdf/b*.pdf
