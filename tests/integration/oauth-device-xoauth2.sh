#!/bin/bash
# oauth-device-xoauth2.sh - device login against the fake Microsoft
# identity provider, then `mail2cups once` prints a mail over XOAUTH2 from a
# Dovecot that, like Microsoft 365, offers PLAIN, LOGIN and XOAUTH2 but not
# OAUTHBEARER, and validates the token by introspection at the fake.  Also
# token, sasl and status from the cached sign-in.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR

rig_device_login
expect_rc 0 "login exits 0 once the code is approved"
expect_out "Signed in as alice@contoso\.com" "login says who signed in"
like "$(cat "$RIG_BG_OUT")" "microsoft\.com/devicelogin" "login showed the verification URL"
tf=$(rig_token_file)
is "$(stat -c %a "$tf" 2>&1)" 600 "the token file is 0600"
is "$(stat -c %a "${tf%/*}" 2>&1)" 700 "the token folder is 0700"
is "$(rig_token_field identity)" alice@contoso.com "the token file names the identity"
is "$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$tf" 2>&1)" \
	"access_token account expires_at id_token identity refresh_token saved_at scope version" \
	"the token file holds the documented fields only (no pending code, no secret)"
at=$(rig_token_field access_token)
[ -n "$at" ] && ok "an access token is stored" || not_ok "an access token is stored"

rig_deliver_pdf "$d/report.pdf" --from bob@example.com
t0=$(rig_idp_stat grant_types.refresh_token)
i0=$(rig_idp_stat endpoints.introspect)
rig_run once
expect_rc 0 "once exits 0 with the OAuth account"
expect_printed "the PDF printed byte for byte over XOAUTH2" "$d/report.pdf"
expect_flags "$RIG_USER" INBOX '1 \Seen' "the message is \Seen"
like "$(grep -E 'imap-login: Info: Login: user=<alice@contoso.com>' "$d/dovecot/dovecot.log" | tail -1)" \
	'method=XOAUTH2' "Dovecot logged method=XOAUTH2"
is "$(rig_idp_stat grant_types.refresh_token)" "$t0" "once used the cached token (no refresh)"
i1=$(rig_idp_stat endpoints.introspect)
[ "$i1" -gt "$i0" ] && ok "Dovecot's oauth2 passdb introspected the token at the fake IdP" ||
	not_ok "Dovecot's oauth2 passdb introspected the token at the fake IdP" "introspections $i0 -> $i1"


s0=$(rig_idp GET /test/stats)
rig_oauth token office
expect_rc 0 "token exits 0"
is "$RIG_OUT" "$at" "token prints the stored access token"
is "$(rig_idp GET /test/stats)" "$s0" "token made no request to the IdP"

# The cached path is a file read: 20 calls make no network request (the
# time is reported, not asserted: bench/token.sh measures it).
t0=$(date +%s%N)
for _ in $(seq 20); do
	"$MAIL2CUPS_OAUTH" -c "$RIG_CONF" token office >/dev/null 2>&1
done
ms=$(( ($(date +%s%N) - t0) / 20000000 ))
diag "mail2cups-oauth token with a valid cached token: ${ms} ms a call (mean of 20)"
is "$(rig_idp GET /test/stats)" "$s0" "20 more token calls made no request to the IdP"

rig_oauth sasl office
expect_rc 0 "sasl exits 0"
want=$(printf 'user=%s\001auth=Bearer %s\001\001' "$RIG_USER" "$at" | base64 -w0)
is "$RIG_OUT" "$want" "sasl prints base64 of the XOAUTH2 initial response"

rig_oauth status office
expect_rc 0 "status exits 0"
expect_out "signed in as alice@contoso\.com" "status names the user"
tap_done
