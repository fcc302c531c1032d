#!/bin/bash
# oauth-errors.sh - every AADSTS error mail2cups maps, injected into a token
# refresh at the fake IdP: `mail2cups-oauth token` exits with the right
# class (77 when a person must sign in, 78 when the configuration or app
# registration must change), names the code, says what to do (with the
# account's name filled in), and keeps the provider's trace id for the log;
# the stored tokens survive.  Only the fake IdP is needed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_require_oauth
rig_require_program
rig_init
rig_make_certs	# the account's ca_file
rig_start_idp
rig_write_oauth_conf "$RIG_CONF"
rig_device_login
expect_rc 0 "login exits 0"
rt=$(rig_token_field refresh_token)

# CODE EXIT ADVICE (extended regex, case-insensitive)
while read -r code want advice; do
	rig_token_expire_soon
	rig_idp POST /test/fail "{\"code\": $code, \"grant_type\": \"refresh_token\"}" >/dev/null ||
		bail "the fake IdP does not know AADSTS$code"
	rig_oauth token office
	if [ "$RIG_RC" = "$want" ]; then
		ok "AADSTS$code: token exits $want"
	else
		not_ok "AADSTS$code: token exits $want" "exit $RIG_RC" "$RIG_ERR"
	fi
	expect_out "AADSTS$code" "AADSTS$code: the message names the code"
	expect_out "$advice" "AADSTS$code: the message says what to do ($advice)"
	if [[ $RIG_ERR == *"login NAME"* ]]; then
		not_ok "AADSTS$code: the advice names the account" "$RIG_ERR"
	else
		ok "AADSTS$code: the advice names the account"
	fi
done <<'TABLE'
7000218 78 Allow public client flows
70000 77 mail2cups-oauth -c [^ ]*/m2c\.conf login office
65001 78 admin consent
50076 77 multi-factor|MFA
50079 77 multi-factor|MFA
53003 78 Conditional Access.*authcode
50011 78 http://localhost
700016 78 client_id.*tenant
90002 78 tenant
50194 78 tenant
7000215 78 secret
7000222 78 secret.*expired|expired.*secret
700027 78 certificate
500011 78 service principal|resource
700082 77 mail2cups-oauth -c [^ ]*/m2c\.conf login office
50173 77 mail2cups-oauth -c [^ ]*/m2c\.conf login office
70043 77 mail2cups-oauth -c [^ ]*/m2c\.conf login office
TABLE

like "$RIG_ERR" 'trace_id [0-9a-f-]{36}' "the provider's trace id is kept (for the log)"
like "$RIG_ERR" 'correlation_id [0-9a-f-]{36}' "the provider's correlation id is kept"
is "$(rig_token_field refresh_token)" "$rt" "the stored refresh token survived every failure"
rig_token_expire_soon
rig_oauth token office
expect_rc 0 "with no failure injected, the refresh works again"
tap_done
