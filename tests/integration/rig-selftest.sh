#!/bin/bash
# rig-selftest.sh - proves the test rig itself (no mail2cups needed): cupsd,
# ippeveprinter behind a raw queue, Dovecot over TLS, the helpers, and a
# teardown that leaves nothing running.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_all
rig_require curl

rig_init
rig_start_all
d=$RIG_DIR

# --- CUPS and the printer: exact bytes, job name and user
check "cupsd answers on its socket" rig_cups_up
like "$(CUPS_SERVER=127.0.0.1:$RIG_CUPS_PORT lpstat -r 2>&1)" "^scheduler is running" "cupsd answers on 127.0.0.1:$RIG_CUPS_PORT"
is "$(rig_cups lpstat -v "$RIG_QUEUE" 2>&1)" "device for $RIG_QUEUE: $RIG_PRINTER_URI" "raw queue points at ippeveprinter"
rig_mkmail pdf "$d/doc.pdf" "rig self-test"
check "lp accepts a PDF (held)" rig_cups lp -d "$RIG_QUEUE" -H hold -t "Rig Test.pdf" -U carol@example.com "$d/doc.pdf"
if command -v lpq >/dev/null 2>&1; then
	like "$(rig_cups lpq -P "$RIG_QUEUE" 2>&1)" "carol@e[^ ]* +1 +Rig Test\.pdf" "lpq shows the held job's user and name"
else
	skip "lpq shows the held job's user and name" "lpq not installed (cups-bsd)"
fi
check "the job is released" rig_cups lp -i "$RIG_QUEUE-1" -H resume
check "the job completes" rig_wait_jobs_done
got=$(rig_printed_files)
is "$(rig_printed_count)" 1 "ippeveprinter received one document"
check "the document is byte-identical" cmp "$d/doc.pdf" "$got"
is "$(rig_jobs)" "1	completed	carol@example.com	Rig Test.pdf" "ipptool shows job name and user"
like "$(rig_cups lpstat -W completed -o "$RIG_QUEUE")" "^$RIG_QUEUE-1 +carol@example.com" "lpstat lists the completed job"

# --- CUPS down and back
rig_stop_cups
if rig_cups_up; then not_ok "cupsd is down after rig_stop_cups"; else ok "cupsd is down after rig_stop_cups"; fi
rig_start_cups
check "cupsd is back" rig_cups_up
check "the queue survived the restart" rig_queue_ready "$RIG_QUEUE"
is "$(rig_job_count)" 1 "the job history survived the restart"

# --- Dovecot: unseen delivery, TLS, folders
rig_mkmail mail "$d/m.eml" --subject "rig mail" --attach "$d/doc.pdf"
rig_deliver alice "$d/m.eml"
is "$(rig_flags alice INBOX)" "1" "delivered message is unseen (no flags)"
is "$(rig_folder_count alice INBOX)" 1 "INBOX holds one message"
is "$(rig_unseen_count alice INBOX)" 1 "INBOX has one unseen message"
is "$(rig_folder_count alice 'Print Failed')" 0 "a missing folder counts 0"
imaps="imaps://127.0.0.1:$RIG_IMAPS_PORT/INBOX"
out=$(curl -sS --max-time 10 --cacert "$RIG_CERT" -u alice:pw "$imaps" \
	-X 'SEARCH SUBJECT "rig mail"' 2>&1)
like "$out" "SEARCH 1" "curl over IMAPS (verified) finds the message by subject"
out=$(curl -sS --max-time 10 --cacert "$RIG_CERT" -u alice:pw "imaps://localhost:$RIG_IMAPS_PORT/INBOX" -X 'SEARCH UNSEEN' 2>&1)
like "$out" "SEARCH 1" "the cert verifies for localhost too, message still unseen"
out=$(curl -sS --max-time 10 -u alice:pw "$imaps" -X 'SEARCH ALL' 2>&1)
like "$out" "certificate" "without the CA the certificate does not verify"
out=$(curl -sS --max-time 10 --cacert "$RIG_CERT" -u alice:wrong "$imaps" -X 'SEARCH ALL' 2>&1)
like "$out" "[Ll]ogin denied|Access denied|AUTHENTICATIONFAILED|authentication failed" "a wrong password is refused"
out=$(curl -sS --max-time 10 --cacert "$RIG_CERT" -u alice:pw "$imaps" -X 'SEARCH ALL' 2>&1)
like "$out" "SEARCH 1" "a good login right after a failed one works"
# No failure delay and no anvil penalty, read from the running config (a
# timing check here would fail on a loaded machine).
delay=$(doveconf -c "$RIG_DOVECONF" -h auth_failure_delay 2>&1)
penalty=$(doveconf -c "$RIG_DOVECONF" -h service/anvil/unix_listener/anvil-auth-penalty/mode 2>&1)
like "$delay/$penalty" "^0/0+$" "no auth failure delay, no anvil penalty (auth_failure_delay/anvil-auth-penalty mode)"
out=$(curl -sS --max-time 10 -u alice:pw "imap://127.0.0.1:$RIG_IMAP_PORT/INBOX" -X 'SEARCH ALL' 2>&1)
like "$out" "SEARCH 1" "plain imap port answers too"
check "doveadm creates a folder" rig_doveadm mailbox create -u alice "Print Failed"
check "doveadm moves a message" rig_doveadm move -u alice "Print Failed" mailbox INBOX all
is "$(rig_folder_count alice INBOX)/$(rig_folder_count alice 'Print Failed')" "0/1" "folder counts follow the move"
# rig_kick cuts a live session.
exec 4<>"/dev/tcp/127.0.0.1/$RIG_IMAP_PORT"
read -r -t 5 line <&4
printf 'a LOGIN alice pw\r\n' >&4
read -r -t 5 line <&4
like "$line" "^a OK" "a raw IMAP session logs in"
check "rig_kick cuts the session" rig_kick alice
like "$(timeout 5 cat <&4)" "BYE" "the session got BYE"
exec 4>&-
is "$(rig_flags alice 'Print Failed')" "1" "still unseen after all that"

# --- the second certificate does not match this host
if openssl x509 -in "$RIG_OTHER_CERT" -noout -ext subjectAltName 2>/dev/null | grep -q .; then
	not_ok "other-cert.pem has no subjectAltName"
else
	ok "other-cert.pem has no subjectAltName"
fi

# --- teardown leaves nothing running
pids="${RIG_PIDS[*]} $RIG_DOVECOT_PID $(pgrep -P "$RIG_DOVECOT_PID" | tr '\n' ' ')"
diag "pids: $pids"
t0=$(date +%s.%N)
rig_stop_all
diag "teardown took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')s"
left=
for p in $pids; do
	rig_pid_alive "$p" && left="$left $p($(ps -o comm= -p "$p"))"
done
is "$left" "" "no rig process is left running"
is "$(pgrep -f "$d" | tr '\n' ' ')" "" "no process mentions the rig folder"
if [ -e "$d" ] && [ "${KEEP_RIG:-0}" != 1 ]; then not_ok "the rig folder is removed"; else ok "the rig folder is removed"; fi
tap_done
