#!/bin/bash
# daemon-signin.sh - sign-in inside the daemon: an OAuth account with no
# tokens starts the device flow itself and shows the code in the log and in
# `mail2cups status`; once someone approves it, mail prints.  When the
# refresh token is revoked, the account goes back to waiting-to-sign-in
# with a new code, the daemon keeps running, and a second approval brings
# it back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
printf 'backoff_max = 1;\nkeepalive_interval = 10;\nshutdown_timeout = 10;\n' >>"$RIG_CONF"

"$MAIL2CUPS" -c "$RIG_CONF" run 2>"$d/daemon.err" &
dpid=$!
RIG_PIDS+=("$dpid")
log_has() { grep -Eq "$1" "$d/daemon.err"; }
printed_at_least() { [ "$(rig_printed_count)" -ge "$1" ]; }

code=$(rig_idp_user_code)
if [ -n "$code" ]; then ok "the daemon started a device sign-in by itself"
else not_ok "the daemon started a device sign-in by itself" "$(cat "$d/daemon.err")"; fi
rig_wait_for 10 log_has "enter $code"
like "$(cat "$d/daemon.err")" "office: sign-in required: .*account office.*devicelogin and enter $code.*alice@contoso\.com" \
	"the log names the account, the user, the address and the code"
like "$(cat "$d/daemon.err")" "mail2cups-oauth -c $RIG_CONF login office" \
	"the log's command names the config file the daemon was given"
rig_run status
expect_rc 1 "status exits 1 while waiting to sign in"
like "$RIG_OUT" "office: waiting-to-sign-in .*enter $code" "status shows the code"

rig_idp_approve "$code"
if rig_wait_for 20 log_has 'office: signed in as alice@contoso\.com'; then ok "approved: the daemon signed in"
else not_ok "approved: the daemon signed in" "$(cat "$d/daemon.err")"; fi
rig_deliver_pdf "$d/one.pdf" --from bob@example.com
if rig_wait_for 20 printed_at_least 1; then ok "then mail prints"
else not_ok "then mail prints" "$(cat "$d/daemon.err")"; fi
rig_run status
expect_rc 0 "status exits 0 once signed in"
like "$RIG_OUT" "office: ok " "status says ok"

# The refresh token is revoked and the current access token refused: the
# next connection cannot sign in, and the account waits for a person again.
rig_idp POST /test/revoke "{\"user\": \"$RIG_USER\"}" >/dev/null
rig_idp POST /test/expire-access "{\"user\": \"$RIG_USER\"}" >/dev/null
rig_kick "$RIG_USER"
code2=
for _ in $(seq 100); do
	code2=$(rig_idp GET /test/pending | rig_json "-1.user_code" 2>/dev/null)
	[ -n "$code2" ] && [ "$code2" != "$code" ] && break
	code2=
	sleep 0.2
done
if [ -n "$code2" ]; then ok "after the revocation the daemon started a new sign-in"
else not_ok "after the revocation the daemon started a new sign-in" "$(cat "$d/daemon.err")"; fi
like "$(cat "$d/daemon.err")" "AADSTS50173" "the log says why (AADSTS50173, revoked)"
rig_run status
expect_rc 1 "status: waiting to sign in again"
like "$RIG_OUT" "enter $code2" "... with the new code"
check "the daemon is still running" rig_pid_alive "$dpid"

rig_idp_approve "$code2"
rig_deliver_pdf "$d/two.pdf" --from bob@example.com
if rig_wait_for 30 printed_at_least 2; then ok "signed in again: mail prints again"
else not_ok "signed in again: mail prints again" "$(cat "$d/daemon.err")"; fi

kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "SIGTERM: exit 0"
expect_printed "each document printed exactly once" "$d/one.pdf" "$d/two.pdf"
tap_done
