#!/bin/bash
# bench/backlog.sh - how fast a backlog drains into CUPS (issue 15): N mails
# (default 500), each with one distinct PDF of about 100 KB, waiting in the
# mailbox of a private Dovecot (IMAPS), printed into a private cupsd on the
# test rig, with the post-action admins use (after = "move").  Side by side,
# in one run, each RUNS times (default 3), interleaved, medians printed:
#   libcups Print-Job   bench/cups-submit.c -p: the same PDFs over one
#                       libcups connection, one streamed Print-Job each (the
#                       request mail2cups sends, nothing around it): the
#                       speed of CUPS, the yardstick ("x bare");
#   libcups Create+Send bench/cups-submit.c: the same, the plainest libcups
#                       way (Create-Job + Send-Document, as cupsPrintFile);
#   mail2cups once      the whole pipeline: IMAP, MIME, rules, state, CUPS,
#                       UID MOVE to Printed;
#   mail2cups run       the daemon idling in IDLE when the whole backlog
#                       arrives at once (one doveadm copy): until every
#                       message is in Printed (Dovecot's own IDLE delay,
#                       about 0.5 s, included);
#   fetchmail+ripmime+lp the classic recipe (Debian packages fetchmail,
#                       ripmime, cups-client: installed here when missing):
#                       fetchmail's mda runs ripmime and one lp per PDF
#                       (fetchmail deletes what it fetched: it cannot move).
# cupsd runs with its default lazy job-file writes (DirtyCleanInterval 30,
# LogLevel warn: the rig's test settings write the job cache on every job),
# and its queue is stopped (cupsdisable) so that only acceptance is timed,
# not the printing; before each timed run the queue is purged (cancel -a -x)
# and the state database removed, so every run starts from the same place.
# Root, after make.  A benchmark: it prints, it asserts nothing, and it is
# never part of make check.
#   bench/backlog.sh [N] [RUNS] [PDF-BYTES]
#   BENCH_ONLY="once daemon": only these contenders (submit once daemon
#   fetchmail; both libcups submitters always run, as yardsticks).
# Then the CPU time each took a mail, split into the contender, Dovecot and
# cupsd (a 2-core machine cannot drain faster than their sum over 2).
# fetchmail is given "expunge 0" (deletions made final once, at the end):
# its default, an EXPUNGE after every message, made it about 0.6 s a mail.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=${top_srcdir:-$top} top_builddir=${top_builddir:-$top}
export MAIL2CUPS=${MAIL2CUPS:-$top_builddir/mail2cups}
n=${1:-500}
runs=${2:-3}
size=${3:-102400}

# The third contender's packages (never needed by the tests).
need=()
command -v fetchmail >/dev/null || need+=(fetchmail)
command -v ripmime >/dev/null || need+=(ripmime)
command -v lp >/dev/null || need+=(cups-client)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]} for the fetchmail contender" >&2
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
		--no-install-recommends "${need[@]}" >/dev/null ||
		{ echo "bench/backlog.sh: cannot install ${need[*]}" >&2; exit 1; }
fi

. "$top_srcdir/tests/rig/rig.sh"
RIG_CUPSD_EXTRA=$'DirtyCleanInterval 30\nLogLevel warn'
rig_setup after='"move"' printed_folder='"Printed"'
d=$RIG_DIR
printf 'log_level = "%s";\nidle_interval = 600;\n' "${BENCH_LOG:-warn}" >>"$RIG_CONF"
Q=$RIG_QUEUE
rig_cups cupsdisable "$Q" || bail "cupsdisable $Q failed"
ms() { date +%s%3N; }
jobs_in_cups() { rig_cups lpstat -o "$Q" 2>/dev/null | wc -l; }

# The backlog, once, in a folder of its own; copied to INBOX for each run.
python3 "$top_srcdir/bench/mkbacklog.py" "$d/backlog" "$n" "$size" || bail "mkbacklog.py failed"
rig_doveadm mailbox create -u "$RIG_USER" Backlog || bail "cannot create Backlog"
md=$RIG_DIR/mail/$RIG_USER/Maildir/.Backlog
i=0
for f in "$d"/backlog/*.eml; do
	i=$((i + 1))
	cp "$f" "$md/cur/$(date +%s).M${i}P$$.bench:2,"
done
chown -R "$RIG_UID:$RIG_UID" "$md"
rig_doveadm force-resync -u "$RIG_USER" Backlog
[ "$(rig_folder_count "$RIG_USER" Backlog)" = "$n" ] || bail "Backlog does not hold $n mails"
cc -O2 -o "$d/cups-submit" "$top_srcdir/bench/cups-submit.c" $(cups-config --cflags --libs) ||
	bail "cannot build bench/cups-submit.c"

# fetchmail + ripmime + lp
cat >"$d/mda.sh" <<EOF
#!/bin/sh
# one message on stdin: ripmime takes it apart, lp prints each PDF
t=\$(mktemp -d) || exit 75
ripmime -i - -d "\$t" >/dev/null 2>&1 || { rm -rf "\$t"; exit 75; }
for f in "\$t"/*.pdf; do
	[ -f "\$f" ] || continue
	lp -d "$Q" "\$f" >/dev/null || { rm -rf "\$t"; exit 75; }
done
rm -rf "\$t"
EOF
chmod 0755 "$d/mda.sh"
cat >"$d/fetchmailrc" <<EOF
set no syslog
poll localhost with proto IMAP port $RIG_IMAPS_PORT
  user "$RIG_USER" there with password "$RIG_PASS" is "root" here
  ssl sslcertck sslcertfile "$RIG_CERT"
  mda "$d/mda.sh"
  expunge 0
EOF
chmod 0600 "$d/fetchmailrc"

# Before each timed run: the queue empty (purged), the backlog in INBOX.
prepare() {
	rig_cups cancel -a -x "$Q" >/dev/null 2>&1
	rig_wait_for 120 bash -c "[ \"\$(CUPS_SERVER=$RIG_CUPS_SOCK lpstat -o $Q 2>/dev/null | wc -l)\" = 0 ]" ||
		bail "the queue did not drain"
	rig_doveadm expunge -u "$RIG_USER" mailbox INBOX all 2>/dev/null
	rig_doveadm expunge -u "$RIG_USER" mailbox Printed all 2>/dev/null
	rm -f "$RIG_STATE"/state.db* "$d/fetchids"
	if [ "${1:-}" != empty ]; then
		rig_doveadm copy -u "$RIG_USER" INBOX mailbox Backlog all || bail "doveadm copy failed"
		[ "$(rig_unseen_count "$RIG_USER" INBOX)" = "$n" ] || bail "INBOX does not hold $n unseen mails"
	fi
}

# check NAME: every mail became one job
check() {
	local got
	got=$(jobs_in_cups)
	[ "$got" = "$n" ] || echo "  warning: $1 left $got jobs in CUPS, not $n" >&2
}

declare -A t cpu
# ticks PID FIELDS: the sum of those fields of /proc/PID/stat, counted from
# the state field (3) on, after the command name in parentheses: 14 utime,
# 15 stime (its own), 16 cutime, 17 cstime (its reaped children's).
ticks() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null |
		awk -v f="$2" '{ n = split(f, a, ","); s = 0; for (i = 1; i <= n; i++) s += $(a[i] - 2); print s }'
}
# cpu_mark / cpu_take KEY: the CPU time spent between the two, in ticks,
# by this shell's children (the contender), by Dovecot's (its imap and
# imap-login processes, reaped when the session ends) and by cupsd itself.
cpu_mark() {
	c0=$(ticks $$ 16,17) v0=$(ticks "$RIG_DOVECOT_PID" 16,17) u0=$(ticks "$RIG_CUPSD_PID" 14,15)
}
cpu_take() {
	# the imap processes are reaped just after the client logs out
	rig_wait_for 10 bash -c "! pgrep -P $RIG_DOVECOT_PID -f imap >/dev/null" 2>/dev/null
	cpu[$1]+="$(( $(ticks $$ 16,17) - c0 )),$(( $(ticks "$RIG_DOVECOT_PID" 16,17) - v0 )),$(( $(ticks "$RIG_CUPSD_PID" 14,15) - u0 )) "
}
# run_submitter KEY [-p]
run_submitter() {
	local t0 key=$1
	shift
	prepare
	cpu_mark
	t0=$(ms)
	CUPS_SERVER=$RIG_CUPS_SOCK "$d/cups-submit" "$@" "$Q" "$d"/backlog/*.pdf >/dev/null ||
		echo "  warning: cups-submit $* failed" >&2
	t[$key]+="$(( $(ms) - t0 )) "
	cpu_take "$key"
	check "the submitter $*"
}
run_once() {
	local t0
	prepare
	cpu_mark
	t0=$(ms)
	"$MAIL2CUPS" -c "$RIG_CONF" once 2>>"$d/once.err" || echo "  warning: mail2cups once failed" >&2
	t[once]+="$(( $(ms) - t0 )) "
	cpu_take once
	check "mail2cups once"
	[ "$(rig_folder_count "$RIG_USER" Printed)" = "$n" ] ||
		echo "  warning: mail2cups once moved $(rig_folder_count "$RIG_USER" Printed), not $n" >&2
}
run_daemon() {
	local t0 pid
	prepare empty
	"$MAIL2CUPS" -c "$RIG_CONF" run 2>>"$d/run.err" &
	pid=$!
	RIG_PIDS+=("$pid")
	# Serving the account: connected, its first (empty) pass done.
	rig_wait_for 30 bash -c "doveadm -c $RIG_DOVECONF who -1 2>/dev/null | grep -q ." ||
		echo "  warning: the daemon did not connect" >&2
	sleep 1
	t0=$(ms)
	rig_doveadm copy -u "$RIG_USER" INBOX mailbox Backlog all || bail "doveadm copy failed"
	# Drained: every message moved (after its job is in CUPS).  Asking
	# Dovecot, not cupsd: a Get-Jobs listing hundreds of jobs every few ms
	# would slow down the very cupsd being measured.
	while [ "$(rig_folder_count "$RIG_USER" Printed)" -lt "$n" ] &&
		[ $(( $(ms) - t0 )) -lt 300000 ]; do
		sleep 0.1
	done
	t[daemon]+="$(( $(ms) - t0 )) "
	rig_kill_pid "$pid"
	[ -z "${BENCH_KEEP_LOG:-}" ] || cp "$d/run.err" "$BENCH_KEEP_LOG"
	check "mail2cups run"
	[ "$(rig_folder_count "$RIG_USER" Printed)" = "$n" ] ||
		echo "  warning: mail2cups run moved $(rig_folder_count "$RIG_USER" Printed), not $n" >&2
}
run_fetchmail() {
	local t0
	prepare
	cpu_mark
	t0=$(ms)
	CUPS_SERVER=$RIG_CUPS_SOCK fetchmail -f "$d/fetchmailrc" -i "$d/fetchids" -N -s \
		>>"$d/fetchmail.log" 2>&1 || echo "  warning: fetchmail exited $?" >&2
	t[fetchmail]+="$(( $(ms) - t0 )) "
	cpu_take fetchmail
	check "fetchmail"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
only=" ${BENCH_ONLY:-once daemon fetchmail} "
for r in $(seq "$runs"); do
	run_submitter submit -p
	run_submitter create
	[[ $only == *" once "* ]] && run_once
	[[ $only == *" daemon "* ]] && run_daemon
	[[ $only == *" fetchmail "* ]] && run_fetchmail
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A name=([submit]="libcups Print-Job" [create]="libcups Create+Send"
	[once]="mail2cups once" [daemon]="mail2cups run (IDLE)" [fetchmail]="fetchmail+ripmime+lp")
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base=$(median <<<"${t[submit]}")
echo "backlog of $n mails, one distinct $((size / 1024)) KB PDF each, after = \"move\";"
echo "cupsd with lazy job-file writes, queue stopped (acceptance timed); $runs runs each, interleaved"
echo "load average before: $load0; after: $load1; $(nproc) CPUs"
printf '%-22s %-24s %9s %9s %8s\n' "" "runs (ms)" "median" "mails/s" "x bare"
for k in submit create once daemon fetchmail; do
	[ -n "${t[$k]:-}" ] || continue
	m=$(median <<<"${t[$k]}")
	awk -v name="${name[$k]}" -v runs="${t[$k]}" -v m="$m" -v n="$n" -v b="$base" \
		'BEGIN { printf "%-22s %-24s %7.2f s %9.1f %7.2fx\n", name, runs, m / 1000, n * 1000 / m, m / b }'
done

# Where the CPU time went: medians over the runs, in ms a mail (the daemon
# is left out: its process lives across the timed part).
hz=$(getconf CLK_TCK)
echo
echo "CPU time a mail, medians (ms): the contender itself (with its children), Dovecot (imap + imap-login), cupsd"
printf '%-22s %10s %10s %10s %10s\n' "" contender dovecot cupsd total
for k in submit create once fetchmail; do
	[ -n "${cpu[$k]:-}" ] || continue
	row=()
	for f in 1 2 3; do
		row+=("$(tr ' ' '\n' <<<"${cpu[$k]}" | grep . | cut -d, -f$f | median)")
	done
	awk -v name="${name[$k]}" -v a="${row[0]}" -v b="${row[1]}" -v c="${row[2]}" -v hz="$hz" -v n="$n" \
		'BEGIN { k = 1000 / hz / n; printf "%-22s %10.2f %10.2f %10.2f %10.2f\n", name, a * k, b * k, c * k, (a + b + c) * k }'
done
