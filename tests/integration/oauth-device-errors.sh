#!/bin/bash
# oauth-device-errors.sh - the device flow's unhappy paths against the fake
# IdP: slow_down is honoured (interval + 5 s) and the login still succeeds;
# an expired code is replaced by a fresh one that then works; a declined
# sign-in, an app without "Allow public client flows" (AADSTS7000218) and
# an unreachable identity provider are clear errors with their exit codes.
# No Dovecot or CUPS is needed: only the fake IdP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_require_oauth
rig_require_program
rig_init
rig_make_certs	# the account's ca_file
# The fake answers slow_down to a poll sooner than interval - 0.5 s after
# the previous one: the client's own polls (every 1 s) never are, so any
# slow_down here is the test's (/test/slow-down).
rig_start_idp '{"poll_tolerance": 0.5}'
rig_write_oauth_conf "$RIG_CONF"
d=$RIG_DIR
tf=$(rig_token_file)
idplog=$d/idp/idp.log
polls() {
	grep -c 'oauth2/v2.0/token -> .*device_code' "$idplog"
}
polls_gt() {
	[ "$(polls)" -gt "$1" ]
}
# The fake's view of the newest pending code: its interval, its last poll.
idp_interval_is() {
	[ "$(rig_idp GET /test/pending | rig_json -1.interval)" = "$1" ]
}
idp_last_poll() {
	rig_idp GET /test/pending | rig_json -1.last_poll
}
idp_last_poll_not() {
	local t
	t=$(idp_last_poll) && [ -n "$t" ] && [ "$t" != "$1" ]
}
stored_interval_is() {
	[ "$(rig_token_field pending.interval)" = "$1" ]
}

# --- slow_down ---------------------------------------------------------
rig_oauth_bg login office --no-qr
code=$(rig_idp_user_code) || bail "no device code appeared"
# The client's next poll is answered slow_down (as a poll that came too
# soon would be): the fake's test hook, so no race decides it.
# The gap is measured where the polls arrive (the fake's last_poll).
rig_wait_for 10 test -s "$tf"
n=$(polls)
rig_wait_for 10 polls_gt "$n" || bail "the client does not poll: $(cat "$RIG_BG_ERR")"
rig_idp POST /test/slow-down "{\"user_code\": \"$code\"}" >/dev/null
rig_wait_for 20 idp_interval_is 6 || bail "no poll was answered slow_down"
last1=$(idp_last_poll)
rig_wait_for 20 stored_interval_is 6
is "$(rig_token_field pending.interval)" 6 "after slow_down the client stored interval 1 + 5 s"
rig_wait_for 20 idp_last_poll_not "$last1"
gap=$(awk -v a="$last1" -v b="$(idp_last_poll)" 'BEGIN { printf "%.1f", b - a }')
awk -v g="$gap" 'BEGIN { exit !(g >= 5.5) }' && ok "the next poll came after the longer interval (${gap} s)" ||
	not_ok "the next poll came after the longer interval (6 s)" "it came after ${gap} s"
rig_idp_approve "$code"
rig_oauth_wait 15
expect_rc 0 "login still succeeds after slow_down"
expect_out "Signed in as alice@contoso\.com" "login says who signed in"
is "$(rig_idp GET /test/pending)" "[]" "no code is left pending"
rig_oauth logout office

# --- an expired code is replaced ---------------------------------------
rig_oauth_bg login office --no-qr
code1=$(rig_idp_user_code) || bail "no device code appeared"
rig_idp POST /test/expire-device "{\"user_code\": \"$code1\"}" >/dev/null
code2=
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && rig_pid_alive "$RIG_BG_PID"; do
	code2=$(rig_idp GET /test/pending | rig_json -1.user_code)
	[ -n "$code2" ] && [ "$code2" != "$code1" ] && break
	code2=
	sleep 0.2
done
if [ -n "$code2" ]; then
	ok "after the code expired, login started a new one"
	like "$(cat "$RIG_BG_OUT")" "expired.*$code2|$code2" "login showed the new code $code2"
	rig_idp_approve "$code2"
else
	not_ok "after the code expired, login started a new one" \
		"login output: $(cat "$RIG_BG_OUT" "$RIG_BG_ERR")"
	not_ok "login showed the new code"
fi
rig_oauth_wait 15
expect_rc 0 "login succeeds with the new code"
rig_oauth logout office

# --- declined ----------------------------------------------------------
rig_oauth_bg login office --no-qr
code=$(rig_idp_user_code) || bail "no device code appeared"
rig_idp POST /test/decline "{\"user_code\": \"$code\"}" >/dev/null
rig_oauth_wait 10
expect_rc 77 "a declined sign-in exits 77"
expect_out "declined" "the message says declined"
[ -e "$tf" ] && [ -n "$(rig_token_field access_token)" ] &&
	not_ok "no tokens saved" || ok "no tokens saved"
# A new login must not show the declined code again.
rig_oauth_bg login office --no-qr
code3=$(rig_oauth_bg_grep 'enter the code [A-Z0-9]+' | awk '{print $4}')
rig_oauth_wait 1
[ -n "$code3" ] && [ "$code3" != "$code" ] && ok "the next login offers a fresh code, not the declined one" ||
	not_ok "the next login offers a fresh code, not the declined one" "declined $code, shown '$code3'" \
		"$RIG_OUT" "$RIG_ERR"
rig_oauth logout office

# --- AADSTS7000218: public client flows not allowed ---------------------
rig_idp POST /test/fail '{"code": 7000218, "endpoint": "token"}' >/dev/null
rig_oauth_bg login office --no-qr
rig_idp_user_code >/dev/null
rig_oauth_wait 10
expect_rc 78 "AADSTS7000218 exits 78 (a configuration problem)"
expect_out "Allow public client flows" "the message says to turn on Allow public client flows"
expect_out "AADSTS7000218|7000218" "the message names the AADSTS code"
rig_oauth logout office

# --- unreachable identity provider -------------------------------------
read -r closed <<<"$(rig_free_ports 1)"
rig_write_oauth_conf "$RIG_CONF" oauth.authority="\"http://127.0.0.1:$closed\""
rig_oauth login office --no-qr
expect_rc 69 "an unreachable IdP exits 69"
expect_out "127\.0\.0\.1.*$closed|$closed.*127\.0\.0\.1" "the message names host and port"
tap_done
