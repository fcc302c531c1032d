# rig.sh - a private test rig: cupsd, ippeveprinter behind a raw queue, and
# Dovecot with TLS, all on loopback and free ports, all inside one short
# folder under /tmp.  Source it from bash (after tap.sh is sourced for you):
#
#   . "$top_srcdir/tests/rig/rig.sh"
#   rig_require cupsd dovecot ...   # missing: skip (fail under CI=true)
#   rig_init                        # RIG_DIR, trap that tears everything down
#   rig_start_all                   # cupsd + printer + queue "m2c" + Dovecot
#   rig_deliver alice mail.eml      # an unseen message in INBOX
#   rig_write_conf "$RIG_DIR/m2c.conf" after='"move"'
#   rig_run once                    # $MAIL2CUPS -c $RIG_CONF once: RIG_RC, RIG_OUT, RIG_ERR
#
# Everything started is stopped by the EXIT/INT/TERM trap, and RIG_DIR is
# removed unless KEEP_RIG=1 (then its path is printed as a TAP comment).
# See RIG.md for why each setting is there.

RIG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$RIG_LIB/tap.sh"

: "${top_srcdir:=$(cd "$RIG_LIB/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MAIL2CUPS:=$top_builddir/mail2cups}"
# RIG_MAIL2CUPS overrides the program under test, even under make check
# (e.g. RIG_MAIL2CUPS=/path/to/other/mail2cups make check).
MAIL2CUPS=${RIG_MAIL2CUPS:-$MAIL2CUPS}
export top_srcdir top_builddir MAIL2CUPS
# Never reach the system's CUPS by accident.
unset CUPS_SERVER
export PATH="$PATH:/usr/sbin:/sbin"

RIG_QUEUE=m2c
RIG_USER=alice
RIG_PASS=pw
RIG_UID=5000
# The service user the programs switch to (privdrop.h: never mail as root):
# it owns RIG_STATE and the secret files; it has no passwd entry.
RIG_SVC_UID=5001
RIG_TIMEOUT=${RIG_TIMEOUT:-20}	# seconds any wait may take
RIG_PIDS=()			# pids to stop, in start order

# rig_require CMD...: every command must exist.  When one does not, the
# whole test is skipped, except under CI=true where that is a failure.
rig_require() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			skip_all "missing $c (install it: scripts/install-deps.sh)"
		fi
	done
}

# The commands the full rig uses, and root (cupsd and Dovecot switch users).
rig_require_all() {
	if [ "$(id -u)" -ne 0 ]; then
		skip_all "the rig needs root (cupsd and Dovecot change users)"
	fi
	rig_require cupsd lpadmin lp lpstat ipptool ippeveprinter dbus-daemon \
		dovecot doveadm openssl python3 cmp pgrep
}

# rig_free_ports N: prints N distinct free TCP ports on 127.0.0.1.
rig_free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# rig_wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds.
rig_wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
	return 0
}

# rig_started NAME PID PORTFILE LOG: a server just started in the background
# (PID) that writes its port to PORTFILE once it listens: stopped by
# rig_stop_all, waited for, its port in RIG_STARTED_PORT; bails with the
# end of LOG when it does not start in time.
rig_started() {
	local name=$1 pid=$2 portfile=$3 log=$4
	RIG_PIDS+=("$pid")
	rig_wait_for "$RIG_TIMEOUT" test -s "$portfile" ||
		bail "$name did not start: $(tail -5 "$log")"
	RIG_STARTED_PORT=$(cat "$portfile")
	rig_log "$name: pid $pid, port $RIG_STARTED_PORT"
}

# rig_pid_alive PID: running (a zombie not yet reaped counts as gone).
rig_pid_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# rig_kill_pid PID: TERM, wait up to 5 s, then KILL.
rig_kill_pid() {
	local pid=$1 i
	rig_pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		rig_pid_alive "$pid" || break
		sleep 0.1
	done
	rig_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

rig_log() {
	printf '%s\n' "$*" >>"$RIG_DIR/rig.log"
}

# rig_init: makes the rig folder, picks the ports, sets the trap.
rig_init() {
	RIG_T0=$(date +%s.%N)
	RIG_DIR=$(mktemp -d /tmp/m2c.XXXX) || bail "cannot create a rig folder under /tmp"
	# lp (cupsd's filters) and dovenull/uid 5000 (Dovecot) must enter it.
	chmod 0711 "$RIG_DIR"
	trap 'rig_stop_all' EXIT
	trap 'rig_stop_all; exit 130' INT
	trap 'rig_stop_all; exit 143' TERM
	read -r RIG_CUPS_PORT RIG_PRINTER_PORT RIG_IMAP_PORT RIG_IMAPS_PORT \
		<<<"$(rig_free_ports 4)" || bail "cannot find free ports"
	RIG_CUPS_SOCK=$RIG_DIR/cups.sock
	RIG_SPOOL=$RIG_DIR/printed
	RIG_CONF=$RIG_DIR/m2c.conf
	RIG_STATE=$RIG_DIR/state
	RIG_CERT=$RIG_DIR/cert.pem
	RIG_OTHER_CERT=$RIG_DIR/other-cert.pem
	RIG_DOVECONF=$RIG_DIR/dovecot/dovecot.conf
	mkdir -m 0700 "$RIG_STATE"
	chown "$RIG_SVC_UID:$RIG_SVC_UID" "$RIG_STATE"
	rig_log "rig in $RIG_DIR: cups $RIG_CUPS_PORT printer $RIG_PRINTER_PORT imap $RIG_IMAP_PORT imaps $RIG_IMAPS_PORT"
}

# rig_stop_all: stops everything this rig started and removes RIG_DIR.
# Safe to call twice (the trap calls it again).
rig_stop_all() {
	local rc=$? i
	[ -n "${RIG_DIR:-}" ] || return $rc
	rig_stop_dovecot
	for ((i = ${#RIG_PIDS[@]} - 1; i >= 0; i--)); do
		rig_kill_pid "${RIG_PIDS[i]}"
	done
	RIG_PIDS=()
	if [ "${KEEP_RIG:-0}" = 1 ]; then
		printf '# KEEP_RIG=1: rig kept in %s\n' "$RIG_DIR"
	else
		rm -rf "$RIG_DIR"
	fi
	RIG_DIR=
	return $rc
}

# rig_cups CMD...: runs a CUPS client command against the private cupsd.
rig_cups() {
	CUPS_SERVER=$RIG_CUPS_SOCK "$@"
}

# ------------------------------------------------------------------ cupsd
# rig_setup_cups: the private cupsd's folders and configuration;
# RIG_CUPSD_EXTRA (lines) is added to its cupsd.conf (JobRetryInterval...),
# RIG_CUPS_FILES_EXTRA to its cups-files.conf (SetEnv for a backend).
rig_setup_cups() {
	local c=${RIG_CUPS_HOME:-$RIG_DIR/cups} f
	mkdir -p "$c/etc/ppd" "$c/spool/tmp" "$c/cache" "$c/state" "$c/log" "$c/bin/backend"
	chown root:lp "$c/spool" "$c/cache" "$c/state"
	chmod 0710 "$c/spool"
	chown root:lp "$c/spool/tmp"
	chmod 1770 "$c/spool/tmp"
	chmod 0770 "$c/cache"
	chmod 0755 "$c/state" "$c/bin" "$c/bin/backend" "$c" "$c/etc" "$c/log"
	# A private ServerBin: symlinks to the system one, with a real
	# backend/ so a test can add its own backend.
	for f in "$(cups-config --serverbin 2>/dev/null || echo /usr/lib/cups)"/*; do
		[ "${f##*/}" = backend ] && continue
		ln -s "$f" "$c/bin/${f##*/}"
	done
	for f in /usr/lib/cups/backend/*; do
		ln -s "$f" "$c/bin/backend/${f##*/}"
	done
	cat >"$c/etc/cups-files.conf" <<EOF
ServerRoot $c/etc
RequestRoot $c/spool
TempDir $c/spool/tmp
CacheDir $c/cache
StateDir $c/state
ServerBin $c/bin
AccessLog $c/log/access_log
ErrorLog $c/log/error_log
PageLog $c/log/page_log
User lp
Group lp
SystemGroup root
FileDevice No
${RIG_CUPS_FILES_EXTRA:-}
EOF
	cat >"$c/etc/cupsd.conf" <<EOF
LogLevel debug
Listen 127.0.0.1:$RIG_CUPS_PORT
Listen $RIG_CUPS_SOCK
Browsing No
WebInterface No
DefaultAuthType None
PreserveJobHistory Yes
PreserveJobFiles No
DirtyCleanInterval 0
MaxJobs 0
# Debian's cupsd.conf says so (upstream's default is stop-printer).
ErrorPolicy retry-job
${RIG_CUPSD_EXTRA:-}
<Location />
  Order allow,deny
  Allow 127.0.0.1
  Allow localhost
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
	cupsd -t -c "$c/etc/cupsd.conf" -s "$c/etc/cups-files.conf" >"$c/log/check" 2>&1 ||
		bail "cupsd refuses the rig's configuration: $(cat "$c/log/check")"
}

# rig_add_backend SCHEME PROGRAM: installs PROGRAM as the private cupsd's
# backend SCHEME, mode 0700 (cupsd runs it as root), as `make install`
# does into CUPS's ServerBin.
rig_add_backend() {
	local b=$RIG_DIR/cups/bin/backend/$1
	[ -x "$2" ] || bail "backend not built: $2"
	[ -d "$RIG_DIR/cups/bin/backend" ] || rig_setup_cups
	rm -f "$b" && install -m 0700 "$2" "$b" || bail "cannot install the backend $2 as $b"
}

# rig_start_cups: starts (or restarts) the private cupsd and waits for it.
rig_start_cups() {
	local c=${RIG_CUPS_HOME:-$RIG_DIR/cups}
	[ -f "$c/etc/cupsd.conf" ] || rig_setup_cups
	cupsd -f -c "$c/etc/cupsd.conf" -s "$c/etc/cups-files.conf" \
		</dev/null >>"$c/log/stdout" 2>&1 &
	RIG_CUPSD_PID=$!
	RIG_PIDS+=("$RIG_CUPSD_PID")
	rig_wait_for "$RIG_TIMEOUT" rig_cups_up ||
		bail "cupsd did not start: $(tail -5 "$c/log/error_log" 2>/dev/null)"
	rig_log "cupsd pid $RIG_CUPSD_PID"
}

# rig_start_cups2: a second private cupsd, "B" (RIG_CUPS2_SOCK,
# RIG_CUPS2_PORT), with a raw queue $RIG_QUEUE to the same virtual printer;
# stopped with the rest.  rig_cups2 CMD... runs a client against it, and
# RIG_CUPS_PORT=$RIG_CUPS2_PORT rig_job_count counts its jobs.
rig_start_cups2() {
	local sock=$RIG_CUPS_SOCK port=$RIG_CUPS_PORT pid=${RIG_CUPSD_PID:-}
	RIG_CUPS2_PORT=$(rig_free_ports 1) || bail "cannot find a free port"
	RIG_CUPS2_SOCK=$RIG_DIR/cups2.sock
	RIG_CUPS_SOCK=$RIG_CUPS2_SOCK RIG_CUPS_PORT=$RIG_CUPS2_PORT
	RIG_CUPS_HOME=$RIG_DIR/cups2 rig_start_cups
	RIG_CUPS2_PID=$RIG_CUPSD_PID
	rig_add_queue
	RIG_CUPS_SOCK=$sock RIG_CUPS_PORT=$port RIG_CUPSD_PID=$pid
}

rig_cups2() {
	CUPS_SERVER=$RIG_CUPS2_SOCK "$@"
}

# rig_cups_up: the private cupsd answers.
rig_cups_up() {
	rig_cups lpstat -r 2>/dev/null | grep -q '^scheduler is running'
}

# rig_stop_cups: stops cupsd (to test "CUPS down"); rig_start_cups brings
# it back with its queues and job history.
rig_stop_cups() {
	[ -n "${RIG_CUPSD_PID:-}" ] || return 0
	rig_kill_pid "$RIG_CUPSD_PID"
	RIG_CUPSD_PID=
}

# ------------------------------------------------------------------ printer
# rig_start_printer: a private D-Bus (ippeveprinter needs one for DNS-SD)
# and ippeveprinter keeping every document it receives in RIG_SPOOL.
rig_start_printer() {
	local p=$RIG_DIR/ipp
	mkdir -p "$p" "$RIG_SPOOL"
	RIG_DBUS_PID=$(dbus-daemon --config-file=/usr/share/dbus-1/session.conf \
		--address="unix:path=$p/bus.sock" --fork --print-pid 2>"$p/dbus.log") ||
		bail "dbus-daemon did not start: $(cat "$p/dbus.log")"
	RIG_PIDS+=("$RIG_DBUS_PID")
	DBUS_SYSTEM_BUS_ADDRESS="unix:path=$p/bus.sock" \
		ippeveprinter -k -n localhost -p "$RIG_PRINTER_PORT" -d "$RIG_SPOOL" \
		-r off -c /bin/true -2 -s 10,10 \
		-f application/pdf,image/jpeg,image/png,image/pwg-raster,text/plain,application/octet-stream \
		"m2c-printer-$RIG_PRINTER_PORT" </dev/null >"$p/ippeveprinter.log" 2>&1 &
	RIG_PRINTER_PID=$!
	RIG_PIDS+=("$RIG_PRINTER_PID")
	RIG_PRINTER_URI=ipp://localhost:$RIG_PRINTER_PORT/ipp/print
	rig_wait_for "$RIG_TIMEOUT" ipptool -q -T 2 "$RIG_PRINTER_URI" get-printer-attributes.test ||
		bail "ippeveprinter did not start: $(tail -5 "$p/ippeveprinter.log")"
	rig_log "dbus pid $RIG_DBUS_PID, ippeveprinter pid $RIG_PRINTER_PID"
}

# rig_add_queue [NAME]: a raw queue to the virtual printer, so it receives
# the exact bytes that were submitted.
rig_add_queue() {
	local q=${1:-$RIG_QUEUE} out
	out=$(rig_cups lpadmin -p "$q" -E -v "$RIG_PRINTER_URI" -m raw 2>&1) ||
		bail "lpadmin failed for queue $q: $out"
	rig_cups lpadmin -d "$q" >/dev/null 2>&1
	rig_wait_for "$RIG_TIMEOUT" rig_queue_ready "$q" ||
		bail "queue $q is not accepting jobs: $(rig_cups lpstat -p "$q" -a "$q" 2>&1)"
}

rig_queue_ready() {
	rig_cups lpstat -a "$1" 2>/dev/null | grep -q "^$1 accepting" &&
		rig_cups lpstat -p "$1" 2>/dev/null | grep -q enabled
}

# rig_printed_files: the documents ippeveprinter received, one path a line,
# in job order.  (-c /bin/true leaves an empty .prn beside each: skipped.)
rig_printed_files() {
	find "$RIG_SPOOL" -maxdepth 1 -type f ! \( -name '*.prn' -empty \) -printf '%f\n' 2>/dev/null |
		sort -n | sed "s|^|$RIG_SPOOL/|"
}

rig_printed_count() {
	rig_printed_files | grep -c . || true
}

# rig_jobs: every job CUPS knows on the queue (completed or not), one a
# line: "id<TAB>state<TAB>user<TAB>name".
rig_jobs() {
	local q=${1:-$RIG_QUEUE} id
	for id in $(ipptool -c "ipp://127.0.0.1:$RIG_CUPS_PORT/printers/$q" \
		"$RIG_LIB/get-jobs.test" 2>/dev/null | grep -E '^[0-9]+$'); do
		ipptool -c "ipp://127.0.0.1:$RIG_CUPS_PORT/jobs/$id" \
			"$RIG_LIB/get-job.test" 2>/dev/null
	done | python3 -c '
import csv, sys
for r in csv.reader(sys.stdin):
    if len(r) >= 4 and r[0].isdigit():
        print("\t".join(r[:4]))
'
}

rig_job_count() {
	rig_jobs "$@" | grep -c . || true
}

rig_no_pending_jobs() {
	[ -z "$(rig_cups lpstat -o 2>/dev/null)" ]
}

# rig_printer_idle: the virtual printer has finished every job it accepted
# (ippeveprinter completes a job once its document is in RIG_SPOOL).
rig_printer_idle() {
	local out
	out=$(ipptool -c "$RIG_PRINTER_URI" "$RIG_LIB/get-jobs-active.test" 2>/dev/null) &&
		! grep -Eq '^[0-9]+$' <<<"$out"
}

# rig_wait_jobs_done [SECONDS]: waits (default RIG_JOBS_TIMEOUT) until CUPS
# has no pending job and the printer has finished every job CUPS handed on
# (a queue with waitjob=false completes a job in CUPS while the printer may
# still be writing its document).  The cap is longer than RIG_TIMEOUT: the
# default queue prints one job after the other, and on a loaded machine
# seven of them once took more than 20 s (route-plus-address.sh); the wait
# ends as soon as the printing does, so the cap only matters on failure.
RIG_JOBS_TIMEOUT=${RIG_JOBS_TIMEOUT:-120}
rig_wait_jobs_done() {
	rig_wait_for "${1:-$RIG_JOBS_TIMEOUT}" rig_no_pending_jobs &&
		rig_wait_for "${1:-$RIG_JOBS_TIMEOUT}" rig_printer_idle
}

# ------------------------------------------------------------------ TLS
# rig_make_certs: cert.pem/key.pem for 127.0.0.1 and localhost, and
# other-cert.pem/other-key.pem for CN=other.invalid without any SAN (a
# certificate that does not match this host).
rig_make_certs() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$RIG_DIR/key.pem" -out "$RIG_CERT" >"$RIG_DIR/openssl.log" 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other.invalid \
		-keyout "$RIG_DIR/other-key.pem" -out "$RIG_OTHER_CERT" >>"$RIG_DIR/openssl.log" 2>&1 ||
		bail "openssl could not make the test certificates: $(cat "$RIG_DIR/openssl.log")"
	chmod 0644 "$RIG_CERT" "$RIG_OTHER_CERT"
}

# ------------------------------------------------------------------ Dovecot
# rig_start_dovecot: private Dovecot, imap on RIG_IMAP_PORT, imaps on
# RIG_IMAPS_PORT.  Serves cert.pem, or other-cert.pem when
# RIG_SERVE_CERT=other.
# rig_start_dovecot: starts it; when its ports were taken meanwhile by
# another test's rig (they are picked free, then bound later), it picks new
# ones and tries again.
rig_start_dovecot() {
	local try
	for try in 1 2 3; do
		rig_start_dovecot_once && return 0
		grep -q "Address already in use" "$RIG_DIR/dovecot/dovecot.log" \
			"$RIG_DIR/dovecot/stdout" 2>/dev/null || break
		rig_kill_pid "$RIG_DOVECOT_PID"
		read -r RIG_IMAP_PORT RIG_IMAPS_PORT <<<"$(rig_free_ports 2)"
		rig_log "dovecot ports taken; now imap $RIG_IMAP_PORT imaps $RIG_IMAPS_PORT"
	done
	bail "dovecot did not start: $(tail -5 "$RIG_DIR/dovecot/dovecot.log" \
		"$RIG_DIR/dovecot/stdout" 2>/dev/null)"
}

rig_start_dovecot_once() {
	local d=$RIG_DIR/dovecot cert=$RIG_CERT key=$RIG_DIR/key.pem
	[ -f "$RIG_CERT" ] || rig_make_certs
	if [ "${RIG_SERVE_CERT:-}" = other ]; then
		cert=$RIG_OTHER_CERT
		key=$RIG_DIR/other-key.pem
	fi
	mkdir -p "$d" "$RIG_DIR/mail"
	chmod 0755 "$d" "$RIG_DIR/mail"
	touch "$d/users"
	chmod 0644 "$d/users"
	cat >"$RIG_DOVECONF" <<EOF
instance_name = m2c-${RIG_DIR##*.}
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <$cert
ssl_key = <$key
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_max_userip_connections = 100
first_valid_uid = 1000
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $RIG_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $RIG_IMAPS_PORT
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
	# More settings from the test (RIG_DOVECOT_EXTRA: dovecot.conf text).
	[ -z "${RIG_DOVECOT_EXTRA:-}" ] || printf '%s\n' "$RIG_DOVECOT_EXTRA" >>"$RIG_DOVECONF"
	dovecot -F -c "$RIG_DOVECONF" </dev/null >>"$d/stdout" 2>&1 &
	RIG_DOVECOT_PID=$!
	rig_wait_for "$RIG_TIMEOUT" rig_dovecot_ready || return 1
	rig_log "dovecot pid $RIG_DOVECOT_PID"
}

rig_dovecot_ready() {
	rig_pid_alive "$RIG_DOVECOT_PID" &&
		exec 3<>"/dev/tcp/127.0.0.1/$RIG_IMAP_PORT" &&
		read -r -t 2 line <&3 && exec 3>&- && [[ $line == "* OK"* ]]
}

# rig_stop_dovecot: doveadm stop, then kill the master if it lingers.
rig_stop_dovecot() {
	local kids kid
	[ -n "${RIG_DOVECOT_PID:-}" ] || return 0
	kids=$(pgrep -P "$RIG_DOVECOT_PID")
	doveadm -c "$RIG_DOVECONF" stop >/dev/null 2>&1
	rig_kill_pid "$RIG_DOVECOT_PID"
	for kid in $kids; do
		rig_kill_pid "$kid"
	done
	RIG_DOVECOT_PID=
}

# rig_doveadm ARGS...: doveadm against the private instance.
rig_doveadm() {
	doveadm -c "$RIG_DOVECONF" "$@"
}

# rig_svc_secret FILE...: a secret file as mail2cups wants it: the service
# user's, mode 0600.
rig_svc_secret() {
	chown "$RIG_SVC_UID:$RIG_SVC_UID" "$@" && chmod 0600 "$@"
}

# rig_svc_own_state: what the test itself wrote into RIG_STATE (as root)
# becomes the service user's, as the programs would have made it.
rig_svc_own_state() {
	chown -R "$RIG_SVC_UID:$RIG_SVC_UID" "$RIG_STATE"
}

# rig_add_user USER [PASSWORD [EXTRA]]: a mailbox user, EXTRA its userdb
# extra fields (userdb_NAME=VALUE ..., space-separated).  With Dovecot
# running, returns once its userdb knows USER: Dovecot reads the users file
# again only when it looks at it in a later second than its last look
# (passwd-file's sync is once per second), so a lookup right after the
# append may still miss the new user.
rig_add_user() {
	local u=$1 pw=${2:-$RIG_PASS} extra=${3:-}
	mkdir -p "$RIG_DIR/mail/$u"
	chown "$RIG_UID:$RIG_UID" "$RIG_DIR/mail/$u"
	printf '%s:{PLAIN}%s:%d:%d::%s::%s\n' "$u" "$pw" "$RIG_UID" "$RIG_UID" \
		"$RIG_DIR/mail/$u" "$extra" >>"$RIG_DIR/dovecot/users"
	printf '%s' "$pw" >"$RIG_DIR/$u.pass"
	rig_svc_secret "$RIG_DIR/$u.pass"
	if [ -n "${RIG_DOVECOT_PID:-}" ]; then
		rig_wait_for 30 rig_doveadm user "$u" ||
			bail "Dovecot's userdb does not know $u: $(rig_doveadm user "$u" 2>&1)"
	fi
}

# rig_deliver USER FILE [MAILBOX]: stores FILE unseen.
rig_deliver() {
	local try
	# Right after a (re)start Dovecot's auth process may not accept yet
	# ("auth-userdb ... Connection refused"): retry for a few seconds.
	for try in 1 2 3 4 5 6 7 8 9 10; do
		rig_doveadm save -u "$1" -m "${3:-INBOX}" <"$2" 2>>"$RIG_DIR/doveadm.err" && return 0
		sleep 0.5
	done
	bail "doveadm save of $2 for $1 failed: $(tail -2 "$RIG_DIR/doveadm.err")"
}

# rig_flags USER MAILBOX: one line per message: "UID FLAGS..." (the
# session flag \Recent left out).
rig_flags() {
	rig_doveadm fetch -u "$1" 'uid flags' mailbox "$2" all 2>/dev/null |
		awk '/^uid: /{u=$2} /^flags:/{
			s = u; for (i = 2; i <= NF; i++) if ($i != "\\Recent") s = s " " $i
			print s }'
}

# rig_mailbox_status USER ITEM FOLDER: doveadm's status ITEM (messages,
# unseen...) of FOLDER, 0 when FOLDER is missing.
rig_mailbox_status() {
	local out
	out=$(rig_doveadm -f flow mailbox status -u "$1" "$2" "$3" 2>/dev/null) || {
		echo 0
		return 0
	}
	echo "${out##*"$2"=}"
}

# rig_folder_count USER FOLDER: messages in FOLDER (0 when it is missing).
rig_folder_count() {
	rig_mailbox_status "$1" messages "$2"
}

# rig_unseen_count USER FOLDER
rig_unseen_count() {
	rig_mailbox_status "$1" unseen "$2"
}

# rig_kick USER: cuts every IMAP connection of USER (fails when USER had
# none).
rig_kick() {
	rig_doveadm kick "$1" 2>/dev/null | grep -q kicked
}

# ------------------------------------------------------------------ all
rig_start_all() {
	rig_start_cups
	rig_start_printer
	rig_add_queue "$RIG_QUEUE"
	rig_start_dovecot
	rig_add_user "$RIG_USER" "$RIG_PASS"
	RIG_STARTUP=$(awk -v a="$RIG_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
	diag "rig up in ${RIG_STARTUP}s ($RIG_DIR)"
}

# rig_write_conf FILE [KEY=VALUE...]: the mail2cups config for the rig's
# account.  Each KEY=VALUE replaces (or adds) an account setting; VALUE is
# libconfig text (quote strings: after='"move"'); KEY= alone drops KEY.
rig_write_conf() {
	local file=$1 kv k
	shift
	local -A acct=(
		[name]='"test"' [host]='"127.0.0.1"' [port]=$RIG_IMAPS_PORT
		[security]='"ssl"' [ca_file]="\"$RIG_CERT\"" [username]="\"$RIG_USER\""
		[auth]='"plain"' [password_file]="\"$RIG_DIR/$RIG_USER.pass\""
		[mailbox]='"INBOX"' [printer]="\"$RIG_QUEUE\""
		[allow_senders]='[ "*@example.com" ]' [after]='"seen"'
		[failed_folder]='"Print Failed"'
	)
	local order=(name host port security ca_file username auth password_file
		mailbox printer allow_senders after failed_folder)
	for kv in "$@"; do
		k=${kv%%=*}
		[ -n "${acct[$k]+x}" ] || order+=("$k")
		acct[$k]=${kv#*=}
	done
	{
		printf 'state_dir = "%s";\ncups_server = "%s";\ntimeout = 10;\n' \
			"$RIG_STATE" "$RIG_CUPS_SOCK"
		printf 'accounts = (\n  {\n'
		for k in "${order[@]}"; do
			[ -n "${acct[$k]}" ] && printf '    %s = %s;\n' "$k" "${acct[$k]}"
		done
		printf '  }\n);\n'
	} >"$file"
}

# rig_run ARGS...: runs $MAIL2CUPS -c $RIG_CONF ARGS...; sets RIG_RC,
# RIG_OUT and RIG_ERR (and copies them into the rig log).
rig_run() {
	local conf=${RIG_RUN_CONF:-$RIG_CONF}
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	local o=$RIG_DIR/run$RIG_RUN_N
	timeout 60 "$MAIL2CUPS" -c "$conf" "$@" >"$o.out" 2>"$o.err"
	RIG_RC=$?
	RIG_OUT=$(cat "$o.out")
	RIG_ERR=$(cat "$o.err")
	rig_log "run $RIG_RUN_N: mail2cups -c $conf $* -> $RIG_RC"
}

# rig_show_run: the last run's output as TAP comments (after a failure).
rig_show_run() {
	diag "mail2cups exit $RIG_RC; stderr:"
	diag "$RIG_ERR"
}

# rig_require_program: the program under test must exist.
rig_require_program() {
	[ -x "$MAIL2CUPS" ] || bail "mail2cups not built: $MAIL2CUPS"
}

# rig_mkmail ARGS...: the sample mail generator (tests/rig/mkmail.py).
rig_mkmail() {
	python3 "$RIG_LIB/mkmail.py" "$@"
}

# rig_deliver_pdf PDF [MKMAIL-OPTIONS...]: makes a one-page PDF at path PDF
# (its text names the file, so each is different), a mail with it attached
# (PDF.eml) and delivers that unseen to alice's INBOX.
rig_deliver_pdf() {
	local pdf=$1
	shift
	rig_mkmail pdf "$pdf" "${pdf##*/}" &&
		rig_mkmail mail "$pdf.eml" --attach "$pdf" "$@" ||
		bail "mkmail.py failed for $pdf"
	rig_deliver "$RIG_USER" "$pdf.eml"
}

# ------------------------------------------------------------------ tests
# rig_setup [KEY=VALUE...]: the usual start of a mail2cups test: everything
# required, the rig up, and $RIG_CONF written (arguments as rig_write_conf).
rig_setup() {
	rig_require_all
	rig_require_program
	rig_init
	rig_start_all
	rig_write_conf "$RIG_CONF" "$@"
}

# ------------------------------------------------------------------ deliver
# Helpers for tests/integration/deliver-*.sh.

# The account settings of an account only `mail2cups deliver` feeds: none
# of the IMAP keys (for rig_write_conf, unquoted).
RIG_DELIVER_ONLY="deliver_only=true host= port= security= ca_file= username= auth= password_file= mailbox= after= failed_folder="

# rig_setup_deliver [KEY=VALUE...]: CUPS, the printer and its queue (no
# Dovecot), and RIG_CONF with a deliver-only account (and KEY=VALUE).
rig_setup_deliver() {
	rig_require_all
	rig_require_program
	rig_init
	rig_start_cups
	rig_start_printer
	rig_add_queue "$RIG_QUEUE"
	rig_write_conf "$RIG_CONF" $RIG_DELIVER_ONLY "$@"
}

# rig_postfix_in EML [DATE]: EML as Postfix's pipe(8) with flags=DRF hands
# it over, its "From " line dated DATE (default: now, to the nanosecond, so
# each retry differs as an MTA's does).
rig_postfix_in() {
	printf 'From bob@example.com  %s\nReturn-Path: <bob@example.com>\nDelivered-To: print@example.org\n' \
		"${2:-$(date '+%a %b %e %T.%N %Y')}"
	cat "$1"
}

# expect_rc WANT DESC: the last rig_run exited WANT (else shows its stderr).
expect_rc() {
	if [ "$RIG_RC" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2" "exit status $RIG_RC, want $1"
		rig_show_run
	fi
}

# expect_stderr REGEX DESC: the last run's stderr matches (ignoring case).
expect_stderr() {
	local m=1
	shopt -s nocasematch
	[[ $RIG_ERR =~ $1 ]] && m=0
	shopt -u nocasematch
	if [ $m = 0 ]; then
		ok "$2"
	else
		not_ok "$2" "stderr does not match: $1"
		rig_show_run
	fi
}

# expect_printed DESC ORIGINAL...: once the jobs are done, the printer
# received exactly these documents, each byte-identical (in any order).
# RIG_NO_WAIT=1: do not wait for CUPS to have no pending job (held jobs).
expect_printed() {
	local desc=$1 o f hit missing='' files
	shift
	[ -n "${RIG_NO_WAIT:-}" ] || rig_wait_jobs_done ||
		diag "CUPS still has pending jobs: $(rig_cups lpstat -o 2>&1)"
	mapfile -t files < <(rig_printed_files)
	if [ "${#files[@]}" -ne $# ]; then
		not_ok "$desc" "printer received ${#files[@]} documents, want $#" \
			"$(ls -l "$RIG_SPOOL" 2>&1)" "$(rig_jobs)"
		return 0
	fi
	for o in "$@"; do
		hit=
		for f in "${!files[@]}"; do
			if cmp -s "$o" "${files[f]}"; then
				hit=1
				unset 'files[f]'
				break
			fi
		done
		[ -n "$hit" ] || missing="$missing ${o##*/}"
	done
	if [ -z "$missing" ]; then
		ok "$desc"
	else
		not_ok "$desc" "no byte-identical copy received of:$missing" "$(ls -l "$RIG_SPOOL")"
	fi
}

# expect_nothing_printed DESC: no job in CUPS, no document at the printer.
expect_nothing_printed() {
	rig_wait_jobs_done
	is "$(rig_job_count)/$(rig_printed_count)" "0/0" "$1 (CUPS jobs/printed documents)"
}

# expect_flags USER MAILBOX WANT DESC: rig_flags output (one "UID FLAGS"
# line per message, lines joined by ";").
expect_flags() {
	is "$(rig_flags "$1" "$2" | paste -sd ';')" "$3" "$4"
}

# expect_counts USER WANT DESC: "INBOX/Printed/Print Failed" message counts;
# a WANT with a fourth field ("1/0/0/2") also counts "Print Rejected".
expect_counts() {
	local got what="INBOX/Printed/Print Failed"
	got="$(rig_folder_count "$1" INBOX)/$(rig_folder_count "$1" Printed)/$(rig_folder_count "$1" 'Print Failed')"
	if [[ $2 == */*/*/* ]]; then
		got="$got/$(rig_folder_count "$1" 'Print Rejected')"
		what="$what/Print Rejected"
	fi
	is "$got" "$2" "$3 ($what)"
}

# expect_summary REGEX DESC: the per-account summary line on stderr
# ("test: nothing new", "test: 1 new message, 2 printed, 1 skipped (see
# above)...", any log prefix allowed; summary.h).
expect_summary() {
	local line
	line=$(printf '%s\n' "$RIG_ERR" |
		grep -oE 'test: (nothing new|[0-9]+ new messages?, .*)$' | tail -1)
	like "$line" "^$1\$" "$2"
}

# ------------------------------------------------------------------ crash tests
# Helpers for tests/integration/crash-*.sh (owner: crash).

# rig_conf_global FILE KEY VALUE: adds a global setting (libconfig text) to
# a config written by rig_write_conf.
rig_conf_global() {
	sed -i "1a $2 = $3;" "$1"
}

# rig_db SQL: runs SQL on the state database, read-only (Python's sqlite3:
# no sqlite3 shell needed); one row a line, columns separated by a space.
rig_db() {
	python3 - "$RIG_STATE/state.db" "$1" <<'PY' 2>&1
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for row in db.execute(sys.argv[2]):
    print(" ".join("" if v is None else str(v) for v in row))
PY
}

# rig_job_max_id [QUEUE]: the highest job id of QUEUE (0 when none).
rig_job_max_id() {
	rig_jobs "$@" | awk -F'\t' '$1 > m { m = $1 } END { print m + 0 }'
}

# rig_jobs_since ID [QUEUE]: rig_jobs lines with a job id above ID.
rig_jobs_since() {
	local b=$1
	shift
	rig_jobs "$@" | awk -F'\t' -v b="$b" '$1 > b'
}

# rig_scratch_files: what is left in state_dir/scratch, one name a line.
rig_scratch_files() {
	find "$RIG_STATE/scratch" -mindepth 1 -printf '%f\n' 2>/dev/null
}

# rig_start_once [ENV=VALUE...]: starts "mail2cups once" in the background
# (with extra environment); RIG_ONCE_PID is its pid.
rig_start_once() {
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	local o=$RIG_DIR/run$RIG_RUN_N
	env "$@" "$MAIL2CUPS" -c "${RIG_RUN_CONF:-$RIG_CONF}" once >"$o.out" 2>"$o.err" &
	RIG_ONCE_PID=$!
	rig_log "run $RIG_RUN_N: background once, pid $RIG_ONCE_PID"
}

# rig_sha256_list FILE...: "sha256" of each file, sorted, one a line.
rig_sha256_list() {
	[ $# -gt 0 ] || return 0
	sha256sum "$@" | cut -d' ' -f1 | sort
}

# rig_make_backlog DIR N: DIR/docI.pdf (a one-page PDF saying "mail I") and
# DIR/docI.eml (a mail with it attached) for I = 1..N, in one go.
rig_make_backlog() {
	mkdir -p "$1"
	python3 - "$RIG_LIB" "$1" "$2" <<'PY' || bail "cannot make the backlog in $1"
import argparse, os, sys
sys.path.insert(0, sys.argv[1])
import mkmail
d, n = sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    pdf = os.path.join(d, "doc%d.pdf" % i)
    with open(pdf, "wb") as f:
        f.write(mkmail.make_pdf("mail %d" % i))
    a = argparse.Namespace(attach=[pdf], related_logo=None, nested=False,
                           sender="bob@example.com", subject="backlog %d" % i)
    with open(os.path.join(d, "doc%d.eml" % i), "wb") as f:
        f.write(mkmail.make_mail(a))
PY
}

# rig_deliver_backlog DIR N MAILBOX: delivers DIR/doc1.eml..docN.eml unseen
# to alice's MAILBOX (created if missing), in order.
rig_deliver_backlog() {
	local i
	rig_doveadm mailbox create -u "$RIG_USER" "$3" 2>/dev/null
	for ((i = 1; i <= $2; i++)); do
		rig_deliver "$RIG_USER" "$1/doc$i.eml" "$3"
	done
}

# rig_add_fast_queue NAME: like rig_add_queue, but the ipp backend does not
# wait for each job to finish at the printer (?waitjob=false), so a backlog
# of a hundred jobs drains in seconds instead of a minute.
rig_add_fast_queue() {
	local out
	out=$(rig_cups lpadmin -p "$1" -E -v "$RIG_PRINTER_URI?waitjob=false" -m raw 2>&1) ||
		bail "lpadmin failed for queue $1: $out"
	rig_wait_for "$RIG_TIMEOUT" rig_queue_ready "$1" ||
		bail "queue $1 is not accepting jobs: $(rig_cups lpstat -p "$1" -a "$1" 2>&1)"
}

# ================================================================== OAuth
# OAuth helpers (owner: oauthit): the fake Microsoft identity provider
# (tests/idp/fake_idp.py), the real OpenID provider (tests/idp/oidc), a
# Dovecot whose oauth2 passdb introspects either, and mail2cups-oauth.
#
#   RIG_USER=alice@contoso.com   # before rig_setup_oauth: the mailbox
#   rig_setup_oauth ms '{"access_token_lifetime": 310}'   # or gmail
#   rig_write_oauth_conf "$RIG_CONF" [KEY=VALUE...] [oauth.KEY=VALUE...]
#   rig_oauth_bg login office; code=$(rig_idp_user_code); rig_idp_approve "$code"
#   rig_oauth_wait; rig_oauth token office   # RIG_RC, RIG_OUT, RIG_ERR
: "${MAIL2CUPS_OAUTH:=$top_builddir/mail2cups-oauth}"
MAIL2CUPS_OAUTH=${RIG_MAIL2CUPS_OAUTH:-$MAIL2CUPS_OAUTH}
export MAIL2CUPS_OAUTH
RIG_TENANT=contoso.onmicrosoft.com
RIG_TENANT_ID=11111111-2222-3333-4444-555555555555
RIG_CLIENT_ID=aaaaaaaa-0000-0000-0000-000000000001	# public client
RIG_APP_ID=aaaaaaaa-0000-0000-0000-000000000003		# confidential, app-only
RIG_APP_SECRET='s3cr3t~value'

# rig_require_oauth: what the OAuth tests need on top of the rig.
rig_require_oauth() {
	rig_require_all
	rig_require curl
	python3 -c 'import cryptography' 2>/dev/null || {
		[ "${CI:-}" = true ] && bail "python3-cryptography missing (scripts/install-deps.sh)"
		skip_all "python3-cryptography missing (scripts/install-deps.sh)"
	}
	[ -x "$MAIL2CUPS_OAUTH" ] || bail "mail2cups-oauth not built: $MAIL2CUPS_OAUTH"
}

# rig_make_app_cert NAME: NAME.pem (certificate) and NAME.key (0600) in
# RIG_DIR, for client assertions.
rig_make_app_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
		-keyout "$RIG_DIR/$1.key" -out "$RIG_DIR/$1.pem" >>"$RIG_DIR/openssl.log" 2>&1 ||
		bail "openssl could not make the certificate $1: $(tail -3 "$RIG_DIR/openssl.log")"
	rig_svc_secret "$RIG_DIR/$1.key"
	chmod 0644 "$RIG_DIR/$1.pem"
}

# rig_start_idp [JSON]: the fake IdP on a free port, its config the
# default below (tenant contoso, a public client, a confidential app with
# a secret and the certificate app.pem, users alice, bob and delegate,
# polling interval 1 s) deep-merged with JSON.  Sets RIG_IDP_URL.
rig_start_idp() {
	local i=$RIG_DIR/idp port
	mkdir -p "$i"
	[ -f "$RIG_DIR/app.pem" ] || rig_make_app_cert app
	read -r port <<<"$(rig_free_ports 1)"
	python3 - "$i/idp.json" "${1:-{\}}" <<PY || bail "cannot write the fake IdP's config"
import json, sys
conf = {
  "tenants": {"$RIG_TENANT": {
    "id": "$RIG_TENANT_ID", "default_user": "alice@contoso.com",
    "apps": {
      "$RIG_CLIENT_ID": {"name": "mail2cups", "public_client": True,
        "redirect_uris": ["http://localhost"]},
      "$RIG_APP_ID": {"name": "printer daemon", "secret": "$RIG_APP_SECRET",
        "certificates": ["$RIG_DIR/app.pem"], "app_only_username": "alice@contoso.com"}},
    "users": {"alice@contoso.com": {"name": "Alice"}, "bob@contoso.com": {"name": "Bob"},
      "delegate@contoso.com": {"name": "Delegate"}}}},
  "interval": 1,
  "issuer_base": "http://127.0.0.1:$port"}
def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v
merge(conf, json.loads(sys.argv[2]))
json.dump(conf, open(sys.argv[1], "w"), indent=1)
PY
	python3 "$top_srcdir/tests/idp/fake_idp.py" --config "$i/idp.json" --port "$port" \
		--port-file "$i/port" </dev/null 2>"$i/idp.log" &
	RIG_IDP_PID=$!
	rig_started "the fake IdP" "$RIG_IDP_PID" "$i/port" "$i/idp.log"
	RIG_IDP_URL=http://127.0.0.1:$RIG_STARTED_PORT
}

# rig_idp METHOD PATH [JSON]: a request to the fake IdP; prints the body,
# fails on an HTTP error.
rig_idp() {
	if [ "$1" = GET ]; then
		curl -sS --noproxy '*' -f "$RIG_IDP_URL$2"
	else
		curl -sS --noproxy '*' -f -X "$1" -H 'Content-Type: application/json' \
			-d "${3:-{\}}" "$RIG_IDP_URL$2"
	fi
}

# rig_json PATH: a value from the JSON on stdin by dotted path ("" when
# absent; numbers as integers).
rig_json() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if k == "":
        continue
    if isinstance(v, list):
        try:
            v = v[int(k)]
        except (ValueError, IndexError):
            v = None
    else:
        v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# rig_idp_stat PATH: a counter of /test/stats ("grant_types.refresh_token",
# "endpoints.token", "errors.70016"), 0 when absent.
rig_idp_stat() {
	local v
	v=$(rig_idp GET /test/stats | rig_json "$1")
	echo "${v:-0}"
}

# rig_idp_user_code [N]: waits for a pending device code (the Nth, default
# the newest) and prints it.
rig_idp_user_code() {
	local deadline=$((SECONDS + RIG_TIMEOUT)) c
	while [ $SECONDS -lt $deadline ]; do
		c=$(rig_idp GET /test/pending | rig_json "${1:--1}.user_code" 2>/dev/null)
		[ -n "$c" ] && { echo "$c"; return 0; }
		# A background login that ended will not start a code.
		[ -n "${RIG_BG_PID:-}" ] && ! rig_pid_alive "$RIG_BG_PID" && return 1
		sleep 0.2
	done
	return 1
}

# rig_idp_approve USER_CODE [USER]
rig_idp_approve() {
	rig_idp POST /test/approve "{\"user_code\": \"$1\", \"user\": \"${2:-$RIG_USER}\"}" >/dev/null
}

# rig_write_oauth_conf FILE [KEY=VALUE...]: rig_write_conf for an OAuth
# account "office" (auth xoauth2, no password_file, the server's port
# RIG_IMAPS_PORT) with an oauth group for the fake IdP.  oauth.KEY=VALUE
# sets a key of the oauth group; oauth=TEXT replaces the whole group.
rig_write_oauth_conf() {
	local file=$1 kv k items=() args=() group=
	shift
	local -A og=(
		[provider]='"microsoft"' [tenant]="\"$RIG_TENANT\""
		[client_id]="\"$RIG_CLIENT_ID\"" [authority]="\"$RIG_IDP_URL\""
	)
	local order=(provider tenant client_id authority)
	for kv in "$@"; do
		case $kv in
		oauth=*) group=${kv#oauth=} ;;
		oauth.*)
			k=${kv%%=*}
			k=${k#oauth.}
			[ -n "${og[$k]+x}" ] || order+=("$k")
			og[$k]=${kv#*=}
			;;
		*) args+=("$kv") ;;
		esac
	done
	if [ -z "$group" ]; then
		for k in "${order[@]}"; do
			[ -n "${og[$k]}" ] && items+=("$k = ${og[$k]};")
		done
		group="{ ${items[*]} }"
	fi
	rig_write_conf "$file" name='"office"' auth='"xoauth2"' password_file= \
		oauth="$group" "${args[@]}"
}

# rig_oauth ARGS...: $MAIL2CUPS_OAUTH -c $RIG_CONF ARGS...; RIG_RC,
# RIG_OUT, RIG_ERR as rig_run.
rig_oauth() {
	local conf=${RIG_RUN_CONF:-$RIG_CONF}
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	local o=$RIG_DIR/run$RIG_RUN_N
	timeout 60 "$MAIL2CUPS_OAUTH" -c "$conf" "$@" >"$o.out" 2>"$o.err" </dev/null
	RIG_RC=$?
	RIG_OUT=$(cat "$o.out")
	RIG_ERR=$(cat "$o.err")
	rig_log "run $RIG_RUN_N: mail2cups-oauth -c $conf $* -> $RIG_RC"
}

# rig_oauth_bg ARGS...: mail2cups-oauth ARGS in the background, stdin from
# the fifo RIG_BG_IN (write to it with rig_oauth_paste), output in
# RIG_BG_OUT / RIG_BG_ERR files; rig_oauth_wait collects it.
rig_oauth_bg() {
	local conf=${RIG_RUN_CONF:-$RIG_CONF}
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	RIG_BG_OUT=$RIG_DIR/run$RIG_RUN_N.out
	RIG_BG_ERR=$RIG_DIR/run$RIG_RUN_N.err
	RIG_BG_IN=$RIG_DIR/run$RIG_RUN_N.in
	mkfifo "$RIG_BG_IN"
	timeout 120 "$MAIL2CUPS_OAUTH" -c "$conf" "$@" >"$RIG_BG_OUT" 2>"$RIG_BG_ERR" <"$RIG_BG_IN" &
	RIG_BG_PID=$!
	RIG_PIDS+=("$RIG_BG_PID")
	# Hold the fifo open for writing so the program's stdin opens at once.
	exec {RIG_BG_FD}>"$RIG_BG_IN"
	rig_log "run $RIG_RUN_N (background pid $RIG_BG_PID): mail2cups-oauth -c $conf $*"
}

# rig_oauth_paste LINE: writes LINE to the background program's stdin.
rig_oauth_paste() {
	printf '%s\n' "$1" >&"$RIG_BG_FD"
}

# rig_oauth_bg_grep REGEX: waits until the background program's stdout or
# stderr matches REGEX (extended), prints the first matching part.
rig_oauth_bg_grep() {
	local deadline=$((SECONDS + RIG_TIMEOUT))
	while [ $SECONDS -lt $deadline ]; do
		grep -ohE "$1" "$RIG_BG_OUT" "$RIG_BG_ERR" 2>/dev/null | head -1 | grep . && return 0
		rig_pid_alive "$RIG_BG_PID" || {
			grep -ohE "$1" "$RIG_BG_OUT" "$RIG_BG_ERR" 2>/dev/null | head -1 | grep .
			return
		}
		sleep 0.1
	done
	return 1
}

# rig_oauth_wait [SECONDS]: waits for the background program (default
# RIG_TIMEOUT); RIG_RC (124 when it had to be killed), RIG_OUT, RIG_ERR.
rig_oauth_wait() {
	local deadline=$((SECONDS + ${1:-$RIG_TIMEOUT}))
	while rig_pid_alive "$RIG_BG_PID" && [ $SECONDS -lt $deadline ]; do
		sleep 0.1
	done
	if rig_pid_alive "$RIG_BG_PID"; then
		rig_kill_pid "$RIG_BG_PID"
		RIG_RC=124
	else
		wait "$RIG_BG_PID"
		RIG_RC=$?
	fi
	exec {RIG_BG_FD}>&-
	RIG_OUT=$(cat "$RIG_BG_OUT")
	RIG_ERR=$(cat "$RIG_BG_ERR")
	rig_log "background run -> $RIG_RC"
}

# expect_out REGEX DESC: the last run's stdout+stderr match (ignoring case).
expect_out() {
	local m=1
	shopt -s nocasematch
	[[ "$RIG_OUT
$RIG_ERR" =~ $1 ]] && m=0
	shopt -u nocasematch
	if [ $m = 0 ]; then
		ok "$2"
	else
		not_ok "$2" "output does not match: $1" "stdout: $RIG_OUT"
		rig_show_run
	fi
}

# rig_token_file [ACCOUNT]: the account's token file.
rig_token_file() {
	echo "$RIG_STATE/tokens/${1:-office}.json"
}

# rig_token_field FIELD [ACCOUNT]: a field of the (plain JSON) token file.
rig_token_field() {
	rig_json "$1" <"$(rig_token_file "${2:-office}")" 2>/dev/null
}

# rig_start_dovecot_oauth ms|gmail [INTROSPECTION_URL [USERNAME_ATTRIBUTE]]:
# rig_start_dovecot with a passdb oauth2 introspecting the fake IdP (or
# INTROSPECTION_URL) for XOAUTH2 (ms: "plain login xoauth2", as Microsoft
# 365) or XOAUTH2 and OAUTHBEARER (gmail); passwords stay for PLAIN/LOGIN.
rig_start_dovecot_oauth() {
	local mechs url=${2:-$RIG_IDP_URL/introspect} attr=${3:-username}
	case $1 in
	ms) mechs="plain login xoauth2" ;;
	gmail) mechs="plain login xoauth2 oauthbearer" ;;
	*) bail "rig_start_dovecot_oauth: ms or gmail, not $1" ;;
	esac
	RIG_OAUTH_DOVECOT="$mechs|$url|$attr"
	# rig_start_dovecot writes the config, then starts `dovecot -F ... &`:
	# patch the config there (exec: RIG_DOVECOT_PID stays Dovecot's pid).
	dovecot() {
		[ -n "${RIG_OAUTH_DOVECOT:-}" ] && rig_patch_dovecot_oauth
		exec dovecot "$@"
	}
	rig_start_dovecot
	unset -f dovecot
	RIG_OAUTH_DOVECOT=
}

rig_patch_dovecot_oauth() {
	local mechs=${RIG_OAUTH_DOVECOT%%|*} rest=${RIG_OAUTH_DOVECOT#*|}
	local url=${rest%%|*} attr=${rest#*|} d=$RIG_DIR/dovecot
	cat >"$d/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $url
force_introspection = yes
username_attribute = $attr
active_attribute = active
active_value = true
EOF
	chmod 0644 "$d/oauth2.conf.ext"
	sed -i -e "s/^auth_mechanisms = .*/auth_mechanisms = $mechs\nauth_verbose = yes/" \
		-e '/^passdb {$/,/^}$/s/^  driver = passwd-file$/&\n  mechanisms = plain login/' \
		"$RIG_DOVECONF"
	cat >>"$RIG_DOVECONF" <<EOF
passdb {
  driver = oauth2
  mechanisms = ${mechs#plain login }
  args = $d/oauth2.conf.ext
}
EOF
	grep -q "^auth_mechanisms = $mechs\$" "$RIG_DOVECONF" &&
		grep -q '^  mechanisms = plain login$' "$RIG_DOVECONF" ||
		bail "could not turn the rig's Dovecot config into an OAuth one"
}

# rig_setup_oauth ms|gmail [IDP-JSON]: rig_setup with the fake IdP and an
# OAuth Dovecot; the mailbox is RIG_USER (set it to an address first).
rig_setup_oauth() {
	rig_require_oauth
	rig_require_program
	rig_init
	rig_start_idp "${2:-}"
	rig_start_cups
	rig_start_printer
	rig_add_queue "$RIG_QUEUE"
	rig_start_dovecot_oauth "$1"
	rig_add_user "$RIG_USER" "$RIG_PASS"
	rig_write_oauth_conf "$RIG_CONF"
	RIG_STARTUP=$(awk -v a="$RIG_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
	diag "oauth rig up in ${RIG_STARTUP}s ($RIG_DIR, IdP $RIG_IDP_URL)"
}

# rig_device_login [USER [ACCOUNT]]: a complete device login approved as
# USER (default RIG_USER); RIG_RC etc. of the login.
rig_device_login() {
	local code
	rig_oauth_bg login "${2:-office}" --no-qr
	if code=$(rig_idp_user_code); then
		rig_idp_approve "$code" "${1:-$RIG_USER}" || diag "approving $code failed"
	else
		diag "no pending device code appeared"
	fi
	rig_oauth_wait
}

# rig_oidc_modules: oidc-provider's node_modules (tests/idp/oidc, or
# $OIDC_NODE_PATH for a read-only source tree) must be the pinned version.
# make check never downloads: scripts/install-deps.sh runs `npm ci` there.
# Missing, the test is skipped (under CI=true it fails).
rig_oidc_modules() {
	local here=$top_srcdir/tests/idp/oidc home pinned have why
	home=${OIDC_NODE_PATH:-$here}
	rig_require node
	pinned=$(node -p 'require(process.argv[1]).dependencies["oidc-provider"]' \
		"$here/package.json" 2>/dev/null)
	have=$(node -p 'require(process.argv[1]).version' \
		"$home/node_modules/oidc-provider/package.json" 2>/dev/null)
	[ -n "$pinned" ] && [ "$have" = "$pinned" ] && return 0
	why="oidc-provider $pinned is not installed in $home (have '${have:-nothing}'): run scripts/install-deps.sh (npm ci there), or set OIDC_NODE_PATH to a folder that has it"
	[ "${CI:-}" = true ] && bail "$why"
	skip_all "$why"
}

# rig_start_oidc [server.mjs ARGS...]: the real OpenID provider
# (tests/idp/oidc/server.mjs, oidc-provider) on a free port, polling
# interval 1 s; sets RIG_OIDC_URL (the issuer) and RIG_OIDC_SECRET (the
# dovecot client's secret, for introspection).
rig_start_oidc() {
	local o=$RIG_DIR/oidc
	rig_oidc_modules
	mkdir -p "$o"
	RIG_OIDC_SECRET=dovecot-secret-${RIG_DIR##*.}
	node "$top_srcdir/tests/idp/oidc/server.mjs" \
		--port 0 --port-file "$o/port" --interval 1 \
		--dovecot-secret "$RIG_OIDC_SECRET" "$@" </dev/null >"$o/server.log" 2>&1 &
	RIG_OIDC_PID=$!
	rig_started "server.mjs (oidc-provider)" "$RIG_OIDC_PID" "$o/port" "$o/server.log"
	RIG_OIDC_URL=http://127.0.0.1:$RIG_STARTED_PORT
}

# rig_token_expire_soon [ACCOUNT]: rewrites the (plain) token file so that
# its access token has 60 s left, inside the 5-minute refresh margin.
rig_token_expire_soon() {
	python3 - "$(rig_token_file "${1:-office}")" <<'PY'
import json, os, sys, time
p = sys.argv[1]
t = json.load(open(p))
t["expires_at"] = int(time.time()) + 60
fd = os.open(p + ".t", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(t).encode())
os.close(fd)
os.replace(p + ".t", p)
PY
	rig_svc_own_state
}

# ================================================================== issue 5
# Helpers for the tests of sender trust, routing, print options, hold,
# users, body printing, conversion and replies (owner: tests).

# rig_job_attrs ID: the job's print options as CUPS holds them
# (get-job-opts.test), one "name=value" a line (enums by name:
# "job-state=pending-held", "orientation-requested=landscape").
rig_job_attrs() {
	ipptool -tv "ipp://127.0.0.1:$RIG_CUPS_PORT/jobs/$1" "$RIG_LIB/get-job-opts.test" 2>/dev/null |
		python3 -c '
import re, sys
seen = False
for line in sys.stdin:
    if "status-code" in line:
        seen = True
        continue
    m = re.match(r"\s+(\S+) \([^)]*\) = (.*)$", line)
    if seen and m and m.group(1) not in ("requested-attributes", "attributes-charset",
                                          "attributes-natural-language"):
        print("%s=%s" % (m.group(1), m.group(2)))
'
}

# rig_job_attr ID NAME: one attribute's value ("" when the job has none).
rig_job_attr() {
	rig_job_attrs "$1" | awk -v n="$2" 'index($0, n "=") == 1 { print substr($0, length(n) + 2); exit }'
}

# rig_job_id NAME [QUEUE]: the id of the (last) job named NAME on QUEUE.
rig_job_id() {
	local n=$1
	shift
	rig_jobs "$@" | awk -F'\t' -v n="$n" '$4 == n { id = $1 } END { print id }'
}

# expect_job_attrs ID "NAME=VALUE..." DESC: the job has each attribute with
# that value; "NAME=" means the job must not have NAME, "NAME!=VALUE" that
# it is absent or any other value.
expect_job_attrs() {
	local id=$1 want=$2 desc=$3 attrs kv k v got bad=()
	if [ -z "$id" ]; then
		not_ok "$desc" "no such job" "$(rig_jobs)"
		return 0
	fi
	attrs=$(rig_job_attrs "$id")
	for kv in $want; do
		if [[ $kv == *!=* ]]; then
			k=${kv%%!=*}
			v=${kv#*!=}
		else
			k=${kv%%=*}
			v=${kv#*=}
		fi
		got=$(printf '%s\n' "$attrs" | awk -v n="$k" 'index($0, n "=") == 1 { print substr($0, length(n) + 2); exit }')
		if [[ $kv == *!=* ]]; then
			[ "$got" != "$v" ] || bad+=("$k is $got, want anything else")
		else
			[ "$got" = "$v" ] || bad+=("$k is '$got', want '$v'")
		fi
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "job $id:" "${bad[@]}" "all: $(printf '%s\n' "$attrs" | paste -sd ' ')"
	fi
}

# rig_job_state ID: "pending", "pending-held", "processing", "completed"...
rig_job_state() {
	rig_job_attr "$1" job-state
}

# rig_job_done ID: the job completed (for rig_wait_for).
rig_job_done() {
	[ "$(rig_job_state "$1")" = completed ]
}

# rig_release ID: releases a held job the CUPS way (lp -i ID -H resume).
rig_release() {
	rig_cups lp -i "$1" -H resume
}

# rig_printed_doc ID: the document the printer received for CUPS job ID,
# found by the job's name (ippeveprinter names its files "<its own job
# id>-NAME.EXT" with NAME cleaned up: compared on letters and digits only);
# "" when none.
rig_printed_doc() {
	local name
	name=$(rig_job_attr "$1" job-name)
	[ -n "$name" ] || return 0
	rig_printed_files | python3 -c '
import os, re, sys
def key(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())
want = key(sys.argv[1])
for f in sys.stdin.read().split("\n"):
    base = os.path.basename(f).split("-", 1)[-1]
    if f and (key(base) == want or key(os.path.splitext(base)[0]) == want):
        print(f)
        break
' "$name"
}

# rig_conf_global_text FILE KEY VALUE: like rig_conf_global, for a multi-line
# VALUE (routing rules, users, converters): joined into one line.
rig_conf_global_text() {
	rig_conf_global "$1" "$2" "$(printf '%s' "$3" | tr '\n\t' '  ')"
}

# ------------------------------------------------------------------ SMTP sink
# rig_start_smtp [sink.py ARGS...]: the SMTP sink (tests/smtp/sink.py) on a
# free port with the rig's certificate for STARTTLS; every message it
# accepts lands in RIG_SMTP_DIR as N.eml and N.json.  Sets RIG_SMTP_PORT.
# Stopped by rig_stop_smtp or rig_stop_all.
rig_start_smtp() {
	local s=$RIG_DIR/smtp
	rig_require python3
	[ -f "$top_srcdir/tests/smtp/sink.py" ] || bail "tests/smtp/sink.py is missing"
	[ -f "$RIG_CERT" ] || rig_make_certs
	RIG_SMTP_DIR=$s/mail
	mkdir -p "$RIG_SMTP_DIR"
	rm -f "$s/port"
	python3 "$top_srcdir/tests/smtp/sink.py" --dir "$RIG_SMTP_DIR" --port-file "$s/port" \
		--tls-cert "$RIG_CERT" --tls-key "$RIG_DIR/key.pem" "$@" \
		</dev/null >"$s/sink.log" 2>&1 &
	RIG_SMTP_PID=$!
	rig_started "the SMTP sink" "$RIG_SMTP_PID" "$s/port" "$s/sink.log"
	RIG_SMTP_PORT=$RIG_STARTED_PORT
}

rig_stop_smtp() {
	[ -n "${RIG_SMTP_PID:-}" ] || return 0
	rig_kill_pid "$RIG_SMTP_PID"
	RIG_SMTP_PID=
}

# rig_smtp_files: the messages the sink received, N.eml paths in order
# (only complete ones: the sink writes N.json last).
rig_smtp_files() {
	find "$RIG_SMTP_DIR" -maxdepth 1 -name '[0-9]*.json' -printf '%f\n' 2>/dev/null |
		sort -n | sed -e 's|\.json$|.eml|' -e "s|^|$RIG_SMTP_DIR/|"
}

rig_smtp_count() {
	rig_smtp_files | grep -c . || true
}

# rig_smtp_to ADDR: the messages whose envelope recipients include ADDR,
# N.eml paths in order.
rig_smtp_to() {
	local f
	for f in $(rig_smtp_files); do
		rig_smtp_json "$f" rcpt_to | grep -qixF "$1" && echo "$f"
	done
	return 0
}

# rig_smtp_json N.eml KEY: a field of the message's N.json (lists one item
# a line).
rig_smtp_json() {
	python3 - "${1%.eml}.json" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
if isinstance(v, list):
    print("\n".join(str(x) for x in v))
elif v is not None:
    print(str(v).lower() if isinstance(v, bool) else v)
PY
}

# rig_smtp_header N.eml NAME: the header's value, unfolded and decoded
# (RFC 2047); every occurrence, one a line.
rig_smtp_header() {
	python3 - "$1" "$2" <<'PY'
import sys
from email import message_from_binary_file
from email.policy import default
m = message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for v in m.get_all(sys.argv[2]) or []:
    print(" ".join(str(v).split()))
PY
}

# rig_smtp_body N.eml: the message's text (every text/* part, decoded).
rig_smtp_body() {
	python3 - "$1" <<'PY'
import sys
from email import message_from_binary_file
from email.policy import default
m = message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for part in m.walk():
    if part.get_content_maintype() == "text":
        print(part.get_content())
PY
}

# rig_conf_smtp FILE [KEY=VALUE...]: a global smtp group for the sink
# (STARTTLS with the rig's certificate, no authentication); KEY=VALUE as
# rig_write_conf ("auth=" drops auth).
rig_conf_smtp() {
	local file=$1 kv k items=()
	shift
	local -A g=([host]='"127.0.0.1"' [port]=$RIG_SMTP_PORT [security]='"starttls"'
		[ca_file]="\"$RIG_CERT\"" [auth]='"none"')
	local order=(host port security ca_file auth)
	for kv in "$@"; do
		k=${kv%%=*}
		[ -n "${g[$k]+x}" ] || order+=("$k")
		g[$k]=${kv#*=}
	done
	for k in "${order[@]}"; do
		[ -n "${g[$k]}" ] && items+=("$k = ${g[$k]};")
	done
	rig_conf_global "$file" smtp "{ ${items[*]} }"
}

# ------------------------------------------------------------------ HTTP trap
# rig_start_http_trap: a listener on a free port that answers nothing but
# notes every connection in RIG_HTTP_HITS (one line each).  Sets
# RIG_HTTP_PORT.  A remote image URL pointing there proves nothing was
# fetched when RIG_HTTP_HITS stays empty.
rig_start_http_trap() {
	local h=$RIG_DIR/http
	mkdir -p "$h"
	RIG_HTTP_HITS=$h/hits
	: >"$RIG_HTTP_HITS"
	python3 - "$h/port" "$RIG_HTTP_HITS" <<'PY' >"$h/trap.log" 2>&1 &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
tmp = sys.argv[1] + ".t"
with open(tmp, "w") as f:
    f.write(str(s.getsockname()[1]))
os.replace(tmp, sys.argv[1])
while True:
    c, peer = s.accept()
    c.settimeout(2)
    try:
        first = c.recv(200).split(b"\r\n")[0].decode("latin-1")
    except OSError:
        first = ""
    with open(sys.argv[2], "a") as f:
        f.write("%s %s\n" % (peer[0], first))
    c.close()
PY
	RIG_HTTP_PID=$!
	rig_started "the HTTP trap" "$RIG_HTTP_PID" "$h/port" "$h/trap.log"
	RIG_HTTP_PORT=$RIG_STARTED_PORT
}

# rig_stderr_lines REGEX...: the lines of the last run's stderr that match
# every REGEX (extended, ignoring case).
rig_stderr_lines() {
	local lines=$RIG_ERR r
	for r in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -Ei -- "$r")
	done
	printf '%s' "$lines"
}

# expect_stderr_line DESC REGEX...: one line of the last run's stderr
# matches every REGEX (extended, ignoring case).
expect_stderr_line() {
	local desc=$1 lines
	shift
	lines=$(rig_stderr_lines "$@")
	if [ -n "$lines" ]; then
		ok "$desc"
	else
		not_ok "$desc" "no stderr line matches all of: $*"
		rig_show_run
	fi
}

# expect_no_stderr_line DESC REGEX...: no line of the last run's stderr
# matches every REGEX (extended, ignoring case).
expect_no_stderr_line() {
	local desc=$1 lines
	shift
	lines=$(rig_stderr_lines "$@")
	if [ -z "$lines" ]; then
		ok "$desc"
	else
		not_ok "$desc" "stderr has: $lines"
	fi
}

# ------------------------------------------------------------------ exactly once
# rig_expect_backlog NAME MB BASE N AFTER [QUEUE]: the outcome of a backlog
# made by rig_make_backlog into $RIG_DIR/MB and delivered to mailbox MB:
# the printer received each of the N PDFs exactly once (content hashes),
# CUPS holds N completed jobs above id BASE on QUEUE (default fast), each
# message is in exactly one folder (\Seen in MB, or in MB-printed with
# AFTER = move; none in MB-failed), the state database says done, scratch
# is empty.
rig_expect_backlog() {
	local name=$1 mb=$2 base=$3 n=$4 after=$5 q=${6:-fast} got want jobs files
	rig_wait_for 60 rig_no_pending_jobs || diag "CUPS still has pending jobs"
	# The printer writes a document before the job completes; a lost one
	# never comes, so this waits for a count with a cap, then judges.
	rig_wait_for 10 _rig_printed_at_least "$n"
	want=$(rig_sha256_list "$RIG_DIR/$mb"/doc*.pdf)
	mapfile -t files < <(rig_printed_files)
	got=$(rig_sha256_list "${files[@]}")
	is "$(printf '%s\n' "$got" | grep -c .)" "$n" "$name: the printer received $n documents"
	RIG_TWICE=$(printf '%s\n' "$got" | uniq -d | grep -c .)
	RIG_LOST=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got" | uniq) | grep -c .)
	if [ "$got" = "$want" ]; then
		ok "$name: each of the $n PDFs exactly once (content hashes)"
	else
		not_ok "$name: each of the $n PDFs exactly once (content hashes)" \
			"received twice: $RIG_TWICE" "missing: $RIG_LOST"
	fi
	jobs=$(rig_jobs_since "$base" "$q")
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 == "completed"' | grep -c .)" "$n" \
		"$name: CUPS has $n completed jobs"
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 != "completed" && $2 != "canceled"' | paste -sd ';')" \
		"" "$name: no other job is left (only half-sent ones, canceled)"
	is "$(printf '%s\n' "$jobs" | awk -F'\t' '$2 == "completed" { print $4 }' | sort | uniq -d | paste -sd ' ')" \
		"" "$name: no document name printed twice"
	if [ "$after" = move ]; then
		is "$(rig_folder_count "$RIG_USER" "$mb")/$(rig_folder_count "$RIG_USER" "$mb-printed")/$(rig_folder_count "$RIG_USER" "$mb-failed")" \
			"0/$n/0" "$name: every message moved to $mb-printed, once (mailbox/printed/failed)"
		is "$(rig_unseen_count "$RIG_USER" "$mb-printed")" 0 "$name: all \\Seen in $mb-printed"
	else
		is "$(rig_folder_count "$RIG_USER" "$mb")/$(rig_unseen_count "$RIG_USER" "$mb")/$(rig_folder_count "$RIG_USER" "$mb-failed")" \
			"$n/0/0" "$name: every message \\Seen in place (messages/unseen/failed)"
	fi
	is "$(rig_db "SELECT status, count(*) FROM messages WHERE mailbox = '$mb' GROUP BY status" | paste -sd ';')" \
		"done $n" "$name: every message row says done"
	is "$(rig_db "SELECT status, count(*), count(DISTINCT job_id) FROM parts WHERE mailbox = '$mb' GROUP BY status" | paste -sd ';')" \
		"submitted $n $n" "$name: every part row submitted, with its own job id"
	is "$(rig_scratch_files | paste -sd ' ')" "" "$name: nothing left in scratch"
}

_rig_printed_at_least() {
	[ "$(rig_printed_count)" -ge "$1" ]
}

# rig_start_daemon [ENV=VALUE...]: starts "mail2cups run" in the background
# in its own process group (so a test can kill the supervisor alone, as the
# OOM killer does, or the whole group); RIG_DAEMON_PID is its pid, its
# stderr $RIG_DIR/runN.err (RIG_DAEMON_ERR).
rig_start_daemon() {
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	RIG_DAEMON_ERR=$RIG_DIR/run$RIG_RUN_N.err
	env "$@" setsid "$MAIL2CUPS" -c "${RIG_RUN_CONF:-$RIG_CONF}" run \
		>"$RIG_DIR/run$RIG_RUN_N.out" 2>"$RIG_DAEMON_ERR" &
	RIG_DAEMON_PID=$!
	RIG_PIDS+=("$RIG_DAEMON_PID")
	rig_log "run $RIG_RUN_N: background daemon, pid $RIG_DAEMON_PID"
}

# rig_daemon_says REGEX [SECONDS]: the running daemon's log (RIG_DAEMON_ERR)
# matches REGEX, now or within SECONDS.
rig_daemon_says() {
	rig_wait_for "${2:-0}" grep -Eq -- "$1" "$RIG_DAEMON_ERR"
}

# rig_pids_gone PID...: none of them is running any more.
rig_pids_gone() {
	local p
	for p in "$@"; do
		rig_pid_alive "$p" && return 1
	done
	return 0
}

# ------------------------------------------------------------------ Dovecot plugin
# Helpers for tests/integration/plugin-*.sh (owner: plugin).

RIG_PLUGIN_SO=${RIG_PLUGIN_SO:-$top_builddir/plugin/.libs/lib20_mail2cups_plugin.so}

# rig_require_plugin: the Dovecot plugin was built (configure found
# dovecot-dev) and dovecot-lda is there; else skip (fail under CI=true).
rig_require_plugin() {
	if [ ! -f "$RIG_PLUGIN_SO" ]; then
		[ "${CI:-}" = true ] && bail "the Dovecot plugin was not built ($RIG_PLUGIN_SO): install dovecot-dev and configure again"
		skip_all "the Dovecot plugin was not built (install dovecot-dev and configure again)"
	fi
	if [ ! -x /usr/lib/dovecot/dovecot-lda ]; then
		[ "${CI:-}" = true ] && bail "missing /usr/lib/dovecot/dovecot-lda (dovecot-core)"
		skip_all "missing /usr/lib/dovecot/dovecot-lda (dovecot-core)"
	fi
}

# rig_plugin_dovecot_conf SETTINGS: the dovecot.conf lines that load the
# plugin from the build tree (a module folder of symbolic links: the
# system's notify plugin and ours), serve LMTP, and give the plugin {}
# block SETTINGS (one "key = value" a line).  For RIG_DOVECOT_EXTRA.
rig_plugin_dovecot_conf() {
	local mods=$RIG_DIR/modules
	mkdir -p "$mods"
	chmod 0755 "$mods"
	ln -sf /usr/lib/dovecot/modules/lib15_notify_plugin.so "$mods/"
	ln -sf "$(cd "$(dirname "$RIG_PLUGIN_SO")" && pwd)/$(basename "$RIG_PLUGIN_SO")" "$mods/"
	printf 'protocols = imap lmtp\nmail_plugin_dir = %s\nmail_plugins = $mail_plugins notify mail2cups\nplugin {\n%s\n}\n' \
		"$mods" "$1"
}

# rig_init_wake: rig_init for a test of the plugin's wake-ups: the service
# user is the mail uid (as a mail2cups user in the vmail group would be, so
# it may give wake_socket to that group); RIG_WAKE_SOCK is
# $RIG_DIR/run/wake.sock, in a folder that user may write.
rig_init_wake() {
	RIG_SVC_UID=$RIG_UID
	rig_init
	install -d -m 0755 -o "$RIG_SVC_UID" -g "$RIG_SVC_UID" "$RIG_DIR/run"
	RIG_WAKE_SOCK=$RIG_DIR/run/wake.sock
}

# rig_setup_plugin SETTINGS [MASTER]: a test of the plugin's wake-ups
# (skipped, or failed under CI, without the program or the plugin):
# rig_init_wake, and RIG_DOVECOT_EXTRA loads the plugin with
# mail2cups_socket = RIG_WAKE_SOCK and SETTINGS (more plugin {} lines),
# and with MASTER a Dovecot master user of that name
# (rig_master_dovecot_conf).  Start the rig with rig_start_all.
rig_setup_plugin() {
	rig_require_all
	rig_require_program
	rig_require_plugin
	rig_init_wake
	RIG_DOVECOT_EXTRA=$(rig_plugin_dovecot_conf "  mail2cups_socket = $RIG_WAKE_SOCK
$1")
	[ -z "${2:-}" ] || RIG_DOVECOT_EXTRA="$RIG_DOVECOT_EXTRA
$(rig_master_dovecot_conf "$2")"
}

# rig_conf_wake FILE [INTERVAL]: appends wake_socket (RIG_WAKE_SOCK), its
# group (the mail uid's) and wake_interval (default 1) to a config.
rig_conf_wake() {
	printf 'wake_socket = "%s";
wake_socket_group = "%s";
wake_interval = %s;
' \
		"$RIG_WAKE_SOCK" "$RIG_UID" "${2:-1}" >>"$1"
}

# rig_imap_move USER PASSWORD FROM TO: an IMAP client (Python's imaplib,
# over IMAPS) signs in as USER and UID MOVEs every message of FROM to TO;
# prints the server's answer ("OK [...]").
rig_imap_move() {
	python3 - "$RIG_IMAPS_PORT" "$@" <<'PY' 2>&1
import imaplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
c.login(sys.argv[2], sys.argv[3])
c.select(sys.argv[4])
typ, data = c.uid("MOVE", "1:*", sys.argv[5])
print(typ, data)
c.logout()
PY
}

# rig_lmtp USER FILE...: delivers each FILE to USER over LMTP in one
# session (one Dovecot lmtp process); fails unless every one was accepted.
rig_lmtp() {
	local user=$1
	shift
	python3 - "$RIG_DIR/dovecot/run/lmtp" "$user" "$@" <<'PY'
import smtplib, sys
sock, user, files = sys.argv[1], sys.argv[2], sys.argv[3:]
c = smtplib.LMTP(sock)
for f in files:
    with open(f, "rb") as fh:
        refused = c.sendmail("sender@example.com", [user], fh.read())
    if refused:
        sys.exit("LMTP refused %s: %r" % (f, refused))
c.quit()
PY
}

# rig_lda USER FILE [CONF]: delivers FILE with dovecot-lda (CONF: another
# dovecot.conf, by default the rig's); sets RIG_LDA_RC and RIG_LDA_ERR.
rig_lda() {
	RIG_LDA_ERR=$(/usr/lib/dovecot/dovecot-lda -c "${3:-$RIG_DOVECONF}" -d "$1" \
		-f sender@example.com <"$2" 2>&1)
	RIG_LDA_RC=$?
}

# rig_dovecot_log_count REGEX: lines of Dovecot's log matching REGEX.
rig_dovecot_log_count() {
	grep -Ec -- "$1" "$RIG_DIR/dovecot/dovecot.log" 2>/dev/null
}

# ------------------------------------------------------------------ Print folders
# Helpers for tests/integration/print-folders.sh and bench/print-folders.sh
# (owner: folders).

# rig_master_dovecot_conf NAME [PASSWORD]: a Dovecot master user NAME (a
# passdb with master = yes; pass = yes, so the user signed in for must
# exist in the ordinary passdb): prints the dovecot.conf text (for
# RIG_DOVECOT_EXTRA) and writes its password to $RIG_DIR/NAME.pass (the
# service user's, 0600) for mail2cups' password_file.
rig_master_dovecot_conf() {
	local name=$1 pw=${2:-master-pw}
	mkdir -p "$RIG_DIR/dovecot"
	printf '%s:{PLAIN}%s\n' "$name" "$pw" >"$RIG_DIR/dovecot/masters"
	chmod 0644 "$RIG_DIR/dovecot/masters"
	printf '%s' "$pw" >"$RIG_DIR/$name.pass"
	rig_svc_secret "$RIG_DIR/$name.pass"
	printf 'passdb {\n  driver = passwd-file\n  master = yes\n  pass = yes\n  args = scheme=PLAIN %s\n}\n' \
		"$RIG_DIR/dovecot/masters"
}

# rig_write_folders_conf FILE MASTER [KEY=VALUE...]: a mail2cups config
# with one print_folders account "folders" on the rig's Dovecot, signing
# in as MASTER; each KEY=VALUE adds an account setting (libconfig text).
# The global settings: state_dir, cups_server, timeout, log_level debug.
rig_write_folders_conf() {
	local file=$1 master=$2 kv
	shift 2
	{
		printf 'state_dir = "%s";\ncups_server = "%s";\ntimeout = 10;\n' \
			"$RIG_STATE" "$RIG_CUPS_SOCK"
		printf 'log_level = "debug";\nbackoff_max = 1;\nshutdown_timeout = 10;\n'
		printf 'accounts = (\n  { name = "folders";\n    print_folders = true;\n'
		printf '    host = "127.0.0.1";\n    port = %s;\n    security = "ssl";\n' \
			"$RIG_IMAPS_PORT"
		printf '    ca_file = "%s";\n    login_user = "%s";\n' "$RIG_CERT" "$master"
		printf '    password_file = "%s";\n    printer = "%s";\n' "$RIG_DIR/$master.pass" \
			"$RIG_QUEUE"
		for kv in "$@"; do
			printf '    %s = %s;\n' "${kv%%=*}" "${kv#*=}"
		done
		printf '  }\n);\n'
	} >"$file"
}

# rig_wake MAILBOX USER...: one wake-up datagram (wake.h) for each USER to
# RIG_WAKE_SOCK, as the Dovecot plugin sends them, naming UID 1 of
# UIDVALIDITY 1 (a hint only); waits while the socket's queue is full.
rig_wake() {
	python3 - "$RIG_WAKE_SOCK" "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for u in sys.argv[3:]:
    d = ("mail2cups-wake 1\nuser %s\nmailbox %s\nuidvalidity 1\nuids 1\n"
         % (u, sys.argv[2])).encode()
    while True:
        try:
            s.sendto(d, sys.argv[1])
            break
        except (BlockingIOError, OSError):
            time.sleep(0.01)
PY
}
