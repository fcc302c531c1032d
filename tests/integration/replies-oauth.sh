#!/bin/bash
# replies-oauth.sh - a Microsoft 365 account (signed in at the fake IdP,
# XOAUTH2 to Dovecot) sends its replies with its own OAuth token (XOAUTH2 to
# the SMTP sink, as to smtp.office365.com).  When the SMTP server refuses
# the access token though it looked valid (revoked), mail2cups refreshes it
# at the identity provider and tries once more, as its IMAP sign-in does:
# the reply goes out with the new token.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
: >"$d/revoked"
rig_start_smtp --xoauth2-reject-file "$d/revoked"
rig_write_oauth_conf "$RIG_CONF" reply='[ "accepted" ]' allow_senders='[ "*@example.com" ]'
rig_conf_smtp "$RIG_CONF" auth='"xoauth2"'
rig_device_login
[ "$RIG_RC" = 0 ] || bail "device login failed: $RIG_ERR"
rig_oauth token office
[ "$RIG_RC" = 0 ] && [ -n "$RIG_OUT" ] || bail "no token: $RIG_ERR"
old=$RIG_OUT
# The SMTP server no longer takes the token IMAP still does.
printf '%s\n' "$old" >"$d/revoked"

ms_pass='Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100'
rig_deliver_pdf "$d/doc.pdf" --from bob@example.com --header "$ms_pass" --subject 'Report'
rig_run once
expect_rc 0 "once exits 0"
expect_printed "the document printed" "$d/doc.pdf"
expect_stderr "refused the access token.*refreshing it" "the refusal is logged, with the refresh"
f=$(rig_smtp_to bob@example.com | head -1)
if [ -n "$f" ]; then ok "the accepted reply went out"; else not_ok "the accepted reply went out" "$RIG_ERR"; fi
is "$(rig_smtp_json "$f" auth_mech)" XOAUTH2 "... signed in with XOAUTH2"
is "$(rig_smtp_json "$f" auth_user)" "$RIG_USER" "... as the account's own mailbox"
rig_oauth token office
new=$RIG_OUT
[ -n "$new" ] && [ "$new" != "$old" ] && ok "the token was refreshed at the identity provider" ||
	not_ok "the token was refreshed at the identity provider"
is "$(rig_smtp_json "$f" auth_token_sha256)" "$(printf '%s' "$new" | sha256sum | cut -d' ' -f1)" \
	"... and the reply was sent with the new one"
expect_no_secret() {
	if grep -qF -- "$1" "$d"/run*.err 2>/dev/null; then not_ok "$2"; else ok "$2"; fi
}
expect_no_secret "$old" "the refused token is in no log"
tap_done
