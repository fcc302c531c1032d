#!/bin/bash
# test-smtp.sh - smtp.c and reply_flush against a real SMTP server,
# tests/smtp/sink.py, through the test-smtp driver (tests/unit/test-smtp.c):
# plain SMTP to loopback, STARTTLS and implicit TLS verified with the test
# CA (ca_file), a certificate from the wrong CA, AUTH PLAIN and LOGIN with
# a password file, XOAUTH2 with a token from the account's token store
# (seeded, so no identity provider is needed), the rate limit, a refused
# recipient, a temporary refusal and max_attempts.  No secret may reach
# the debug log.
#
# Needs python3 and openssl; without them the test is skipped, except under
# CI=true where that is a failure.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
prog=${top_builddir:-.}/tests/unit/test-smtp
sink=$top_srcdir/tests/smtp/sink.py

rig_require python3 openssl
rig_init
rig_make_certs
CA=$RIG_CERT
WRONG_CA=$RIG_OTHER_CERT
KEY=$RIG_DIR/key.pem
PASSWORD=pw-Secret-4711
TOKEN=tok-Good-0123456789
printf '%s\n' "$PASSWORD" >"$RIG_DIR/pass"
printf '%s\n' "$TOKEN" >"$RIG_DIR/token"
chmod 0600 "$RIG_DIR/pass" "$RIG_DIR/token"

# start_sink NAME ARGS...: a sink in $RIG_DIR/NAME; sets PORT.
start_sink() {
	local name=$1 d=$RIG_DIR/$1
	shift
	mkdir -p "$d"
	python3 "$sink" --dir "$d/out" --port-file "$d/port" "$@" 2>"$d/stderr" &
	rig_started "sink $name" $! "$d/port" "$d/stderr"
	PORT=$RIG_STARTED_PORT
}

# run NAME ARGS...: runs the driver; OUT (stdout) and LOG (stderr, the
# log), also kept in $RIG_DIR/NAME.out and NAME.log (KEEP_RIG=1).
run() {
	local name=$1
	shift
	OUT=$("$prog" "$@" 2>"$RIG_DIR/$name.log" | tee "$RIG_DIR/$name.out")
	LOG=$(cat "$RIG_DIR/$name.log")
}

# meta SINK N KEY: a field of SINK's N.json, as JSON.
meta() {
	python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
		"$RIG_DIR/$1/out/$2.json" "$3" 2>/dev/null
}

no_secret() {
	if [[ $LOG == *"$PASSWORD"* || $LOG == *"$TOKEN"* || $OUT == *"$TOKEN"* ]]; then
		not_ok "$1: no secret in the log" "$LOG"
	else
		ok "$1: no secret in the log"
	fi
}

# ---- plain SMTP to loopback, no auth
start_sink plain
P_PLAIN=$PORT
run plain send port=$PORT security=none auth=none
like "$OUT" "rc=0 ok" "plain: sent"
is "$(meta plain 1 tls)" false "plain: no TLS"
is "$(meta plain 1 rcpt_to)" '["bob@example.org"]' "plain: RCPT TO the sender"
is "$(meta plain 1 mail_from)" '"print@example.org"' "plain: MAIL FROM the account"
eml=$(cat "$RIG_DIR/plain/out/1.eml" 2>/dev/null)
like "$eml" $'\r\nAuto-Submitted: auto-replied\r\n' "plain: Auto-Submitted header"
like "$eml" $'\r\nIn-Reply-To: <orig.1@example.org>\r\n' "plain: In-Reply-To"
like "$eml" $'\r\nSubject: Your print: =\\?UTF-8\\?' "plain: non-ASCII subject encoded"
like "$eml" $'\r\n\\.\r\n\\.\\. dots stay\r\n' "plain: lines with dots arrive as written"
if grep -q $'[^\r]$' "$RIG_DIR/plain/out/1.eml"; then
	not_ok "plain: CRLF line ends only"
else
	ok "plain: CRLF line ends only"
fi

# ---- STARTTLS, verified with ca_file; AUTH PLAIN and LOGIN
start_sink tls --tls-cert "$CA" --tls-key "$KEY" --require-auth \
	--user alice --password-file "$RIG_DIR/pass"
run tls-plain send port=$PORT security=starttls ca="$CA" auth=plain smtp_user=alice \
	password_file="$RIG_DIR/pass"
like "$OUT" "rc=0 ok" "starttls + plain: sent"
is "$(meta tls 1 tls)" true "starttls: TLS"
is "$(meta tls 1 auth_mech)" '"PLAIN"' "starttls: AUTH PLAIN"
is "$(meta tls 1 auth_user)" '"alice"' "starttls: as alice"
no_secret "starttls + plain"
run tls-login send port=$PORT security=starttls ca="$CA" auth=login smtp_user=alice \
	password_file="$RIG_DIR/pass"
like "$OUT" "rc=0 ok" "starttls + login: sent"
is "$(meta tls 2 auth_mech)" '"LOGIN"' "starttls: AUTH LOGIN"
no_secret "starttls + login"
printf 'wrong\n' >"$RIG_DIR/wrongpass"
chmod 0600 "$RIG_DIR/wrongpass"
run tls-wrongpw send port=$PORT security=starttls ca="$CA" auth=plain smtp_user=alice \
	password_file="$RIG_DIR/wrongpass"
like "$OUT" "rc=-7 " "wrong password: M2C_E_AUTH"
like "$OUT" "password_file" "wrong password: says what to check"
run tls-noauth send port=$PORT security=starttls ca="$CA" auth=none
like "$OUT" "rc=-7 " "no auth where required (530): M2C_E_AUTH"
like "$OUT" "set smtp.auth" "no auth where required: says what to set"
like "$OUT" "530 5.7.57" "no auth: the server's words"
run tls-noca send port=$PORT security=starttls auth=plain smtp_user=alice \
	password_file="$RIG_DIR/pass"
like "$OUT" "rc=-9 " "starttls without the CA: TLS error (the system store does not know it)"
run tls-wrongca send port=$PORT security=starttls ca="$WRONG_CA" auth=plain smtp_user=alice \
	password_file="$RIG_DIR/pass"
like "$OUT" "rc=-9 " "starttls with the wrong CA: TLS error"
like "$OUT" "ca_file" "TLS error: mentions ca_file"
run tls-check check port=$PORT security=starttls ca="$CA" auth=plain smtp_user=alice \
	password_file="$RIG_DIR/pass"
like "$OUT" "rc=0 ok" "check: the server takes the sign-in"
like "$OUT" "where=127.0.0.1:$PORT, starttls, PLAIN" "check: says where and how"
no_secret "check"
run tls-check-wrongpw check port=$PORT security=starttls ca="$CA" auth=plain smtp_user=alice \
	password_file="$RIG_DIR/wrongpass"
like "$OUT" "rc=-7 " "check with a wrong password: M2C_E_AUTH"
run plain-starttls send port=$P_PLAIN security=starttls ca="$CA" auth=none
like "$OUT" "rc=-9 " "starttls required, server without STARTTLS: TLS error"
is "$(ls "$RIG_DIR/tls/out" | grep -c '\.json$')" 2 "only the two good sessions delivered (a check sends nothing)"

# ---- implicit TLS
start_sink ssl --tls-cert "$CA" --tls-key "$KEY" --implicit-tls
run ssl send port=$PORT security=ssl ca="$CA" auth=none
like "$OUT" "rc=0 ok" "implicit TLS: sent"
is "$(meta ssl 1 tls)" true "implicit TLS: TLS"
run ssl-wrongca send port=$PORT security=ssl ca="$WRONG_CA" auth=none
like "$OUT" "rc=-9 " "implicit TLS with the wrong CA: TLS error"

# ---- XOAUTH2 with the account's stored token
start_sink oauth --tls-cert "$CA" --tls-key "$KEY" --require-auth \
	--xoauth2-token-file "$RIG_DIR/token"
mkdir -m 0700 "$RIG_DIR/st-oauth"
run oauth send state="$RIG_DIR/st-oauth" port=$PORT security=starttls ca="$CA" \
	auth=xoauth2 user=print@example.org token="$TOKEN"
like "$OUT" "rc=0 ok" "xoauth2: sent"
is "$(meta oauth 1 auth_mech)" '"XOAUTH2"' "xoauth2: AUTH XOAUTH2"
is "$(meta oauth 1 auth_user)" '"print@example.org"' "xoauth2: user= the account"
like "$LOG" "smtp: C: \\[redacted\\]" "xoauth2: the AUTH line is traced redacted"
no_secret "xoauth2"
run oauth-bad send state="$RIG_DIR/st-oauth" port=$PORT security=starttls ca="$CA" \
	auth=xoauth2 user=print@example.org token=tok-Revoked-999
like "$OUT" "rc=-7 " "xoauth2 refused: M2C_E_AUTH"
like "$OUT" "535 5.7.3" "xoauth2 refused: the server's words"
like "$OUT" "mail2cups-oauth login acct" "xoauth2 refused: says to sign in again"
mkdir -m 0700 "$RIG_DIR/st-none"
run oauth-none send state="$RIG_DIR/st-none" port=$PORT security=starttls ca="$CA" \
	auth=xoauth2 user=print@example.org
like "$OUT" "rc=-16 " "xoauth2 without tokens: M2C_E_SIGNIN (sign-in required)"
like "$OUT" "sign-in required" "xoauth2 without tokens: sign-in required"

# ---- Exchange Online with SMTP AUTH turned off
start_sink ms --tls-cert "$CA" --tls-key "$KEY" --require-auth \
	--xoauth2-token-file "$RIG_DIR/wrongpass" --auth-failure \
	"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
run ms send state="$RIG_DIR/st-oauth" port=$PORT security=starttls ca="$CA" \
	auth=xoauth2 user=print@example.org
like "$OUT" "rc=-7 " "SMTP AUTH disabled: M2C_E_AUTH"
like "$OUT" "Set-CASMailbox -Identity print@example.org -SmtpClientAuthenticationDisabled [$]false" \
	"SMTP AUTH disabled: the PowerShell fix"
no_secret "SMTP AUTH disabled"

# ---- reply_flush: rate limit, refused recipient, temporary refusal
start_sink flush --fail-rcpt refused@example.org
mkdir -m 0700 "$RIG_DIR/st-rate" "$RIG_DIR/st-refused"
run flush-rate flush state="$RIG_DIR/st-rate" port=$PORT n=3 rate_limit=2 to=carol@example.org
like "$OUT" "sent=2 due=0 dropped=1" "flush: 2 sent, the third over the rate limit dropped"
like "$OUT" "rc=0 ok" "flush: ok"
like "$LOG" "reply \\(accepted\\) sent to carol@example.org" "flush: each send logged"
like "$LOG" "dropped: rate limit" "flush: the drop logged"
is "$(ls "$RIG_DIR/flush/out" | grep -c '\.json$')" 2 "flush: two messages arrived"
run flush-refused flush state="$RIG_DIR/st-refused" port=$PORT to=refused@example.org
like "$OUT" "sent=0 due=0 dropped=1" "flush: a refused recipient is dropped"
like "$LOG" "550 5.1.1" "flush: with the server's reason"
start_sink temp --fail-rcpt later@example.org --fail-code 451
mkdir -m 0700 "$RIG_DIR/st-temp"
run flush-temp flush state="$RIG_DIR/st-temp" port=$PORT to=later@example.org n=2 max_attempts=2
like "$OUT" "sent=0 due=2 dropped=0" "flush: 451 keeps the replies"
like "$OUT" "rc=-6 " "flush: 451 is a temporary failure"
run flush-temp2 flush state="$RIG_DIR/st-temp" port=$PORT to=later@example.org n=0 max_attempts=2
like "$OUT" "sent=0 due=1 dropped=1" "flush: the first dropped after max_attempts, the flush stops"
run closed send port=1 security=none auth=none
like "$OUT" "rc=-5 " "closed port: service unavailable"

# ---- printed replies wait for their CUPS jobs (the rig's private cupsd)
why=
for c in cupsd lpadmin lp lpstat cancel ippeveprinter dbus-daemon; do
	command -v "$c" >/dev/null 2>&1 || why="${why:+$why, }$c"
done
[ -z "$why" ] || why="missing $why"
[ "$(id -u)" -eq 0 ] || why="not root (cupsd changes users)"
if [ -n "$why" ]; then
	skip "printed replies against a private cupsd" "$why"
	tap_done
fi
rig_start_cups
rig_start_printer
rig_add_queue
printf 'hello\n' >"$RIG_DIR/doc.txt"
# held_job: submits a held job, prints its id.
held_job() {
	rig_cups lp -d "$RIG_QUEUE" -H indefinite -o raw "$RIG_DIR/doc.txt" |
		sed -n 's/^request id is [^ ]*-\([0-9][0-9]*\) .*/\1/p'
}
start_sink printed
mkdir -m 0700 "$RIG_DIR/st-printed" "$RIG_DIR/st-cancel"
J1=$(held_job)
like "$J1" '^[0-9]+$' "a held job to reply about"
run printed1 flush state="$RIG_DIR/st-printed" port=$PORT kind=printed jobs="$J1" held=1 \
	cups="$RIG_CUPS_SOCK"
like "$OUT" "sent=0 due=0 dropped=0 waiting=1" "printed: waits while the job is held"
rig_cups lp -i "$J1" -H resume >/dev/null 2>&1
rig_wait_jobs_done || diag "job $J1 did not finish"
run printed2 flush state="$RIG_DIR/st-printed" port=$PORT n=0 cups="$RIG_CUPS_SOCK"
like "$OUT" "sent=1 due=0 dropped=0 waiting=0" "printed: sent once the job completed"
like "$OUT" "reply=printed " "printed: as a printed reply"
eml=$(cat "$RIG_DIR/printed/out/1.eml" 2>/dev/null)
like "$eml" "lp -i $J1 -H resume" "printed: the held reply says how to release the job"
like "$eml" "as office-$J1\\." "printed: names the job"
J2=$(held_job)
run cancel1 flush state="$RIG_DIR/st-cancel" port=$PORT kind=printed jobs="$J2" \
	cups="$RIG_CUPS_SOCK"
like "$OUT" "waiting=1" "cancel: waits for the job"
rig_cups cancel "$J2" >/dev/null 2>&1
run cancel2 flush state="$RIG_DIR/st-cancel" port=$PORT n=0 cups="$RIG_CUPS_SOCK"
like "$OUT" "sent=1 due=0 dropped=0 waiting=0" "cancel: a reply is sent"
like "$OUT" "reply=failed " "cancel: it became a failed reply"
eml=$(cat "$RIG_DIR/printed/out/2.eml" 2>/dev/null)
like "$eml" "as office-$J2" "cancel: the reply says which job"
# Why, for the sender, is plain words and a reference the admin finds in
# the log (CUPS's own words stay in the log: issue 10, finding 5).
like "$eml" "Reason: .*\(ref [0-9]{8}-[0-9a-f]{6}" "cancel: the reply says why, with a log reference"

tap_done
