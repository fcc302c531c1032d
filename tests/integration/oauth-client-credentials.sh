#!/bin/bash
# oauth-client-credentials.sh - app-only access (client credentials) against
# the fake IdP: with a client secret from a 0600 file, login and token work
# and the token is an app token that Dovecot accepts for the mailbox; a
# wrong secret is AADSTS7000215 with the fix (exit 78); a certificate made
# now (client assertion JWT) is accepted signed PS256 (default, x5t#S256)
# and RS256 (x5t); an unregistered certificate is AADSTS700027.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
printf '%s\n' "$RIG_APP_SECRET" >"$d/app.secret"
printf '%s\n' 'not-the-secret' >"$d/wrong.secret"
rig_svc_secret "$d/app.secret" "$d/wrong.secret"
rig_make_app_cert other	# not registered at the IdP
cc() {
	rig_write_oauth_conf "$RIG_CONF" oauth.flow='"client_credentials"' \
		oauth.client_id="\"$RIG_APP_ID\"" "$@"
}
grants() {
	rig_idp_stat grant_types.client_credentials
}
# claim NAME: a claim of the stored access token (a JWT).
claim() {
	rig_token_field access_token | python3 -c '
import base64, json, sys
p = sys.stdin.read().strip().split(".")[1]
v = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))).get(sys.argv[1])
print("" if v is None else v)' "$1"
}

# --- a client secret ----------------------------------------------------
cc oauth.client_secret_file="\"$d/app.secret\""
rig_oauth login office
expect_rc 0 "login with a client secret exits 0"
expect_out "Application credentials work" "login says the application credentials work"
is "$(grants)" 1 "one client_credentials grant"
is "$(claim idtyp)" app "the token is app-only (idtyp app)"
like "$(claim roles)" 'IMAP.AccessAsApp' "the token carries the IMAP.AccessAsApp role"
like "$(claim aud)" 'outlook\.office365\.com' "the token is for outlook.office365.com"
at=$(rig_token_field access_token)
rig_oauth token office
expect_rc 0 "token exits 0"
is "$RIG_OUT/$(grants)" "$at/1" "token prints the cached app token without a new grant"
rig_deliver_pdf "$d/a.pdf" --from bob@example.com
rig_run once
expect_rc 0 "once with the app token exits 0"
expect_printed "the PDF printed with app-only access" "$d/a.pdf"
rig_oauth logout office

# Without stored tokens, token gets one itself (no person needed).
rig_oauth token office
expect_rc 0 "token without a login gets an app token"
is "$(grants)" 2 "with a second client_credentials grant"
rig_oauth logout office

# --- a wrong secret -----------------------------------------------------
cc oauth.client_secret_file="\"$d/wrong.secret\""
rig_oauth login office
expect_rc 78 "a wrong client secret exits 78"
expect_out "AADSTS7000215" "the message names AADSTS7000215"
expect_out "secret" "the message says what to fix (the client secret)"
[ -e "$(rig_token_file)" ] && [ -n "$(rig_token_field access_token)" ] &&
	not_ok "nothing saved" || ok "nothing saved"

# --- a certificate ------------------------------------------------------
cc oauth.certificate_file="\"$d/app.pem\"" oauth.private_key_file="\"$d/app.key\""
rig_oauth login office
expect_rc 0 "a certificate with the default PS256 assertion is accepted"
is "$(claim idtyp)" app "the token is app-only"
rig_oauth logout office
cc oauth.certificate_file="\"$d/app.pem\"" oauth.private_key_file="\"$d/app.key\"" \
	oauth.assertion_alg='"RS256"'
rig_oauth login office
expect_rc 0 "a certificate with assertion_alg RS256 is accepted"
rig_oauth logout office
cc oauth.certificate_file="\"$d/other.pem\"" oauth.private_key_file="\"$d/other.key\""
rig_oauth login office
[ "$RIG_RC" != 0 ] && ok "an unregistered certificate is refused (exit $RIG_RC)" ||
	not_ok "an unregistered certificate is refused"
expect_out "AADSTS700027" "the message names AADSTS700027"
chmod 0644 "$d/app.key"
cc oauth.certificate_file="\"$d/app.pem\"" oauth.private_key_file="\"$d/app.key\""
rig_oauth login office
expect_rc 78 "a private key others can read is refused (exit 78)"
expect_out "chmod 600" "the message says chmod 600"
tap_done
