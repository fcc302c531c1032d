#!/bin/bash
# oauth-oidc-interop.sh - the generic provider against a real, independent
# OpenID provider (oidc-provider 8.8.1, tests/idp/oidc/server.mjs): OpenID
# discovery from the issuer, device login completed in its HTML forms by
# approve-device.sh, `mail2cups once` prints a mail over XOAUTH2 through a
# Dovecot whose oauth2 passdb introspects oidc-provider's opaque tokens;
# then, with a short access token lifetime, the token is refreshed (and
# the refresh token rotated) and a second mail prints.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@example.test	# oidc-provider: sub = email = the login name
TTL=345				# inside the 5-minute refresh margin after 45 s (room for a slow, sanitized run)
rig_require_oauth
rig_require node
rig_require_program
rig_init
rig_start_oidc --access-ttl "$TTL"
rig_start_cups
rig_start_printer
rig_add_queue "$RIG_QUEUE"
rig_start_dovecot_oauth ms \
	"http://dovecot:$RIG_OIDC_SECRET@127.0.0.1:${RIG_OIDC_URL##*:}/token/introspection" sub
rig_add_user "$RIG_USER" "$RIG_PASS"
rig_write_oauth_conf "$RIG_CONF" oauth="{ provider = \"generic\"; issuer = \"$RIG_OIDC_URL\";
      client_id = \"mail2cups-test\";
      scopes = [ \"openid\", \"email\", \"profile\", \"offline_access\", \"imap\" ]; }"
d=$RIG_DIR
diag "rig with oidc-provider at $RIG_OIDC_URL ($(node --version))"

rig_oauth_bg login office --no-qr
code=$(rig_oauth_bg_grep 'enter the code [^ ]+' | awk '{print $4}')
like "$code" '^[A-Z0-9-]{4,}$' "login shows oidc-provider's user code"
like "$(cat "$RIG_BG_OUT")" "${RIG_OIDC_URL//./\\.}/device" "login shows oidc-provider's verification URI"
check "approve-device.sh signs in at oidc-provider's forms" \
	"$top_srcdir/tests/idp/oidc/approve-device.sh" "$code" "$RIG_USER" "$RIG_OIDC_URL"
rig_oauth_wait
expect_rc 0 "device login at oidc-provider exits 0"
expect_out "Signed in as alice@example\.test" "login says who signed in"
issued=$SECONDS
at0=$(rig_token_field access_token)
rt0=$(rig_token_field refresh_token)
[ -n "$rt0" ] && ok "a refresh token was stored (offline_access)" ||
	not_ok "a refresh token was stored (offline_access)"

rig_deliver_pdf "$d/first.pdf" --from bob@example.com
rig_run once
expect_rc 0 "once exits 0 with the oidc-provider token"
expect_printed "the first PDF printed over XOAUTH2" "$d/first.pdf"
like "$(grep -E 'imap-login: Info: Login: user=<alice@example.test>' "$d/dovecot/dovecot.log" | tail -1)" \
	'method=XOAUTH2' "Dovecot logged method=XOAUTH2 (token introspected at oidc-provider)"
is "$(rig_token_field access_token)" "$at0" "no refresh yet"

w=$((TTL - 300 + 1 - (SECONDS - issued)))
[ $w -gt 0 ] && sleep $w
rig_deliver_pdf "$d/second.pdf" --from bob@example.com
rig_run once
expect_rc 0 "once exits 0 once the token is inside the refresh margin"
at1=$(rig_token_field access_token)
rt1=$(rig_token_field refresh_token)
[ -n "$at1" ] && [ "$at1" != "$at0" ] && ok "the access token was refreshed" ||
	not_ok "the access token was refreshed"
[ -n "$rt1" ] && [ "$rt1" != "$rt0" ] && ok "the rotated refresh token was stored" ||
	not_ok "the rotated refresh token was stored"
expect_printed "the second PDF printed with the refreshed token" "$d/first.pdf" "$d/second.pdf"
rig_oauth token office
is "$RIG_OUT" "$at1" "token prints the refreshed token"
tap_done
