#!/bin/bash
# oauth-refresh.sh - refresh with rotation against the fake IdP: an access
# token with under 5 minutes left is refreshed exactly once, the rotated
# refresh token is stored and the old one is refused; 20 concurrent `token`
# calls make exactly one refresh request; a token Dovecot refuses is
# refreshed once by the poller; a revoked refresh token means "sign in
# again" (exit 77, AADSTS50173), and the mail stays unseen.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
LIFE=345	# the 5-minute margin is reached 45 s after issue (room for a slow, sanitized run)
rig_setup_oauth ms "{\"access_token_lifetime\": $LIFE}"
d=$RIG_DIR
tf=$(rig_token_file)

refreshes() {
	rig_idp_stat grant_types.refresh_token
}

rig_device_login
expect_rc 0 "login exits 0"
issued=$SECONDS
at0=$(rig_token_field access_token)
rt0=$(rig_token_field refresh_token)

rig_oauth token office
expect_rc 0 "token exits 0 while the fresh token is outside the margin"
is "$RIG_OUT/$(refreshes)" "$at0/0" "a token with over 5 minutes left is used as is"

# Wait until the real lifetime reaches the 5-minute margin.
w=$((LIFE - 300 + 1 - (SECONDS - issued)))
[ $w -gt 0 ] && sleep $w
rig_oauth token office
expect_rc 0 "token exits 0 when the token is inside the margin"
is "$(refreshes)" 1 "exactly one refresh request"
at1=$(rig_token_field access_token)
rt1=$(rig_token_field refresh_token)
is "$RIG_OUT" "$at1" "token prints the new access token, which is stored"
[ -n "$at1" ] && [ "$at1" != "$at0" ] && ok "the access token changed" ||
	not_ok "the access token changed"
[ -n "$rt1" ] && [ "$rt1" != "$rt0" ] && ok "the rotated refresh token was stored" ||
	not_ok "the rotated refresh token was stored"
is "$(stat -c %a "$tf")" 600 "the token file is still 0600"
rig_oauth token office
is "$RIG_OUT/$(refreshes)" "$at1/1" "the next token call uses the new token, no refresh"

body=$(curl -sS --noproxy '*' "$RIG_IDP_URL/$RIG_TENANT/oauth2/v2.0/token" \
	-d grant_type=refresh_token -d "client_id=$RIG_CLIENT_ID" --data-urlencode "refresh_token=$rt0" \
	--data-urlencode "scope=https://outlook.office.com/IMAP.AccessAsUser.All offline_access")
like "$body" 'AADSTS70000' "the old refresh token is refused by the IdP (AADSTS70000)"

# 20 concurrent token calls, the IdP slowed down so that they overlap.
rig_token_expire_soon
rig_idp POST /test/delay '{"endpoint": "token", "ms": 500}' >/dev/null
r0=$(refreshes)
pids=()
for i in $(seq 20); do
	timeout 60 "$MAIL2CUPS_OAUTH" -c "$RIG_CONF" token office >"$d/c$i.out" 2>"$d/c$i.err" &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do
	wait "$p" || fails=$((fails + 1))
done
rig_idp POST /test/delay '{"endpoint": "token", "ms": 0}' >/dev/null
is "$fails" 0 "20 concurrent token calls all exit 0"
is "$(( $(refreshes) - r0 ))" 1 "20 concurrent token calls make exactly one refresh request"
at2=$(rig_token_field access_token)
is "$(cat "$d"/c*.out | sort -u)" "$at2" "all 20 print the same, stored, new token"
[ "$at2" != "$at1" ] && ok "that token is new" || not_ok "that token is new"

# Dovecot refuses a token that still looks valid: one refresh, one retry.
rig_deliver_pdf "$d/a.pdf" --from bob@example.com
rig_idp POST /test/expire-access "{\"user\": \"$RIG_USER\"}" >/dev/null
r0=$(refreshes)
rig_run once
expect_rc 0 "once exits 0 after the server refused the cached token"
is "$(( $(refreshes) - r0 ))" 1 "once refreshed exactly once"
expect_printed "the mail printed after the retry" "$d/a.pdf"

# A revoked refresh token: sign in again.
rig_idp POST /test/revoke "{\"user\": \"$RIG_USER\"}" >/dev/null
rig_token_expire_soon
rig_oauth token office
expect_rc 77 "token exits 77 with a revoked refresh token"
expect_out "AADSTS50173" "the message carries AADSTS50173"
expect_out "mail2cups-oauth -c $RIG_CONF login office" "the message says to sign in again, with the config it was given"
is "$RIG_OUT" "" "token prints no token"
rig_deliver_pdf "$d/b.pdf" --from bob@example.com
rig_run once
expect_rc 77 "once exits 77 with a revoked refresh token"
expect_stderr "fix: .*mail2cups-oauth -c $RIG_CONF login office" "once says to sign in again"
expect_printed "the new mail was not printed" "$d/a.pdf"
expect_flags "$RIG_USER" INBOX '1 \Seen;2' "the new mail stays unseen"
tap_done
