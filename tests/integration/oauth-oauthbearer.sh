#!/bin/bash
# oauth-oauthbearer.sh - device login, then `mail2cups once` prints a mail
# over OAUTHBEARER (RFC 7628) from a Gmail-like Dovecot that offers XOAUTH2
# and OAUTHBEARER, validating the token by introspection at the fake IdP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth gmail
d=$RIG_DIR
rig_write_oauth_conf "$RIG_CONF" auth='"oauthbearer"'

rig_device_login
expect_rc 0 "login exits 0 once the code is approved"
expect_out "Signed in as alice@contoso\.com" "login says who signed in"
at=$(rig_token_field access_token)

rig_deliver_pdf "$d/invoice.pdf" --from bob@example.com
i0=$(rig_idp_stat endpoints.introspect)
rig_run once
expect_rc 0 "once exits 0 with auth = oauthbearer"
expect_printed "the PDF printed byte for byte over OAUTHBEARER" "$d/invoice.pdf"
expect_flags "$RIG_USER" INBOX '1 \Seen' "the message is \Seen"
like "$(grep -E 'imap-login: Info: Login: user=<alice@contoso.com>' "$d/dovecot/dovecot.log" | tail -1)" \
	'method=OAUTHBEARER' "Dovecot logged method=OAUTHBEARER"
i1=$(rig_idp_stat endpoints.introspect)
[ "$i1" -gt "$i0" ] && ok "Dovecot introspected the token at the fake IdP" ||
	not_ok "Dovecot introspected the token at the fake IdP" "introspections $i0 -> $i1"
is "$(rig_idp_stat grant_types.refresh_token)" 0 "no refresh was needed"

rig_oauth sasl office
expect_rc 0 "sasl exits 0"
want=$(printf 'n,a=%s,\001host=127.0.0.1\001port=%s\001auth=Bearer %s\001\001' \
	"$RIG_USER" "$RIG_IMAPS_PORT" "$at" | base64 -w0)
is "$RIG_OUT" "$want" "sasl prints base64 of the OAUTHBEARER initial response (RFC 7628)"

# A second mail in a second pass: the cached token works again.
rig_deliver_pdf "$d/second.pdf" --from bob@example.com
rig_run once
expect_rc 0 "a second once exits 0"
expect_printed "both PDFs printed" "$d/invoice.pdf" "$d/second.pdf"
tap_done
