#!/bin/bash
# backend-direct.sh - the mail2cups backend run by hand, as CUPS's
# testbackend would: discovery with no arguments, usage with the wrong
# number, a missing PRINTER, bad device URIs, an unknown account, the job's
# owner as the recipient, stdin or a file, an oversize job cancelled with
# the limit, a 4xx retried, the send from a switched-to service uid, and a
# backend that cannot reach state_dir (installed 0755, run as lp) held with
# the fix.  Only the SMTP sink is started (no cupsd).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
: "${MAIL2CUPS_BACKEND:=$top_builddir/cups-backend/mail2cups}"
SVC_UID=5001

rig_require python3 openssl cmp
[ "$(id -u)" -eq 0 ] || skip_all "switching users needs root"
[ -x "$MAIL2CUPS_BACKEND" ] || bail "backend not built: $MAIL2CUPS_BACKEND"
rig_init
d=$RIG_DIR
rig_make_certs
chmod 0644 "$RIG_CERT"
rig_start_smtp --fail-rcpt busy@example.org --fail-code 451
rig_write_conf "$RIG_CONF" name='"home"' username='"home@example.com"'
rig_conf_smtp "$RIG_CONF" max_message_size='"200K"'
chmod 0644 "$RIG_CONF"
printf 'pw\n' >"$d/$RIG_USER.pass" && chmod 0600 "$d/$RIG_USER.pass"
chown "$SVC_UID:$SVC_UID" "$RIG_STATE"
rig_mkmail pdf "$d/doc.pdf" "A document" || bail "mkmail pdf failed"

# bk ENV... -- ARGS...: runs the backend with only ENV (as cupsd does);
# RIG_RC, RIG_OUT, RIG_ERR.
bk() {
	local env=(MAIL2CUPS_CONF="$RIG_CONF")
	while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	RIG_RUN_N=$(( ${RIG_RUN_N:-0} + 1 ))
	local o=$d/run$RIG_RUN_N
	env -i "${env[@]}" timeout 60 "$MAIL2CUPS_BACKEND" "$@" >"$o.out" 2>"$o.err" <"${BK_IN:-/dev/null}"
	RIG_RC=$?
	RIG_OUT=$(cat "$o.out")
	RIG_ERR=$(cat "$o.err")
}
prefixed() {	# every stderr line has a filter(7) prefix
	! printf '%s\n' "$RIG_ERR" | grep -qvE '^(ERROR|WARNING|INFO|DEBUG|STATE|ATTR): |^Usage: |^$'
}

bk --
expect_rc 0 "no arguments: discovery exits 0"
is "$RIG_OUT" 'network mail2cups://home/home@example.com "mail2cups" "Email through home (home@example.com)" "MFG:mail2cups;MDL:email;" ""' \
	"... one line per account that can send mail"
bk MAIL2CUPS_CONF=/nonexistent --
expect_rc 0 "discovery without a config: still 0"
is "$RIG_OUT" "" "... and lists nothing"

bk -- 1 2 3
expect_rc 1 "three arguments: CUPS_BACKEND_FAILED"
expect_stderr_line "... with the usage" "^Usage: .* job-id user title copies options \[file\]"
bk -- 1 2 3 4 5 6 7
expect_rc 1 "eight arguments: CUPS_BACKEND_FAILED"

BK_IN=$d/doc.pdf
bk DEVICE_URI=mail2cups://home/print@example.org -- 1 alice t 1 ''
expect_rc 3 "no PRINTER: the job is held (never a code that stops the queue)"
expect_stderr_line "... saying PRINTER is not set" "^ERROR: .*PRINTER is not set"
for uri in 'ipp://home/print@example.org' 'mail2cups://' 'mail2cups://home' \
	'mail2cups://home/not-an-address' 'mail2cups://ho%me/x@example.org' \
	'mail2cups://home?to=owner&color=red' 'mail2cups://home/a%4@example.org'; do
	bk PRINTER=q DEVICE_URI="$uri" -- 1 alice t 1 ''
	expect_rc 3 "device URI $uri: held"
	expect_stderr_line "... with what is wrong and the URI's shape" "^ERROR: job held: .*device URI.*mail2cups://ACCOUNT/RECIPIENT@DOMAIN.*lp -i 1 -H resume"
done
bk PRINTER=q DEVICE_URI=mail2cups://nosuch/print@example.org -- 1 alice t 1 ''
expect_rc 3 "an account not in the config: held"
expect_stderr_line "... naming it" "^ERROR: job held: .*account \"nosuch\""
bk PRINTER=q DEVICE_URI=mail2cups://home/print@example.org -- x alice t 1 ''
expect_rc 3 "a job id that is not a number: held"
prefixed && ok "every stderr line so far has a filter(7) prefix" ||
	not_ok "every stderr line so far has a filter(7) prefix" "$RIG_ERR"

# A job from stdin, as root: sent as the service uid.
bk PRINTER=q DEVICE_URI=mail2cups://home/print@example.org CONTENT_TYPE=application/pdf \
	FINAL_CONTENT_TYPE=application/pdf -- 7 alice 'Minutes [draft] #3' 1 'sides=one-sided'
expect_rc 0 "a job on stdin: sent"
f=$(rig_smtp_files | tail -1)
is "$(rig_smtp_header "$f" Subject)" "Minutes (draft) ＃3 [simplex]" \
	"the title's brackets and hashtag cannot be read as tags"
is "$(stat -c %u "$RIG_STATE/state.db")" "$SVC_UID" "state.db was made by the service uid"
prefixed && ok "every stderr line has a filter(7) prefix" || not_ok "every stderr line has a filter(7) prefix" "$RIG_ERR"
bk PRINTER=q DEVICE_URI=mail2cups://home/print@example.org CONTENT_TYPE=application/pdf \
	-- 7 alice 'Minutes [draft] #3' 1 'sides=one-sided'
expect_rc 0 "the same job again (CUPS retrying it)"
expect_stderr_line "... is not sent twice" "^INFO: job 7 was sent already"
is "$(rig_smtp_count)" 1 "... one mail"

# A file argument (raw queue), the owner as recipient, with domain=.
BK_IN=/dev/null
bk PRINTER=q DEVICE_URI='mail2cups://home?to=owner&domain=example.org' \
	CONTENT_TYPE=application/pdf -- 8 bob 'report' 2 '' "$d/doc.pdf"
expect_rc 0 "a file argument, to the job's owner"
f=$(rig_smtp_files | tail -1)
is "$(rig_smtp_json "$f" rcpt_to)" bob@example.org "... owner bob with domain=example.org"
python3 - "$f" "$d/got.pdf" >"$d/att.txt" <<'PY'
import sys
from email import message_from_binary_file
from email.policy import default
m = message_from_binary_file(open(sys.argv[1], "rb"), policy=default)
for part in m.iter_attachments():
    open(sys.argv[2], "wb").write(part.get_content())
    print(part.get_content_type(), part.get_filename())
PY
is "$(cat "$d/att.txt")" "application/pdf report.pdf" "... the attachment named report.pdf"
cmp -s "$d/doc.pdf" "$d/got.pdf" && ok "... byte-identical" || not_ok "... byte-identical"
bk PRINTER=q DEVICE_URI='mail2cups://home?to=owner' -- 9 bob 'report' 1 '' "$d/doc.pdf"
expect_rc 5 "an owner that is no address, no domain=: cancelled"
expect_stderr_line "... saying what to add" "^ERROR: not sent, job cancelled: .*domain=example.org"

# Over the limit (smtp.max_message_size = 200K): cancelled with the limit.
head -c 300000 /dev/urandom >"$d/big.bin"
bk PRINTER=q DEVICE_URI=mail2cups://home/print@example.org -- 10 alice big 1 '' "$d/big.bin"
expect_rc 5 "a job over the limit: cancelled"
expect_stderr_line "... with the limit" "^ERROR: not sent, job cancelled: .*limit is 204800 bytes .*smtp.max_message_size"
is "$(find "$RIG_STATE/scratch" -type f | wc -l)" 0 "no scratch file left behind"

# A 451 for the recipient: retry.
bk PRINTER=q DEVICE_URI=mail2cups://home/busy@example.org -- 11 alice t 1 '' "$d/doc.pdf"
expect_rc 6 "a 451: CUPS_BACKEND_RETRY"
expect_stderr_line "... will retry, with the server's words" "^ERROR: will retry: .*451"

# Installed 0755, CUPS runs it as lp: it cannot reach state_dir: held with the fix.
mkdir -p "$d/lp" && cp "$MAIL2CUPS_BACKEND" "$d/lp/mail2cups" && chmod 0755 "$d/lp" "$d/lp/mail2cups"
RIG_RUN_N=$((RIG_RUN_N + 1))
setpriv --reuid=lp --regid=lp --clear-groups env -i MAIL2CUPS_CONF="$RIG_CONF" PRINTER=q \
	DEVICE_URI=mail2cups://home/print@example.org "$d/lp/mail2cups" 13 alice t 1 '' \
	</dev/null >"$d/lp.out" 2>"$d/lp.err"
RIG_RC=$?
RIG_ERR=$(cat "$d/lp.err")
expect_rc 3 "run as lp (installed 0755): held"
expect_stderr_line "... saying to install it 0700" "^ERROR: job held: .*mode 0700"
tap_done
