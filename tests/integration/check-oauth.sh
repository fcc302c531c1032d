#!/bin/bash
# check-oauth.sh - an OAuth (XOAUTH2, client credentials) account against
# the fake Microsoft identity platform (tests/idp/fake_idp.py) and a Dovecot
# that introspects its tokens: with the identity provider down the sign-in
# line fails (69) and IMAP is skipped; up, every line is ok with the
# token's lifetime; with a wrong client secret the provider's AADSTS error
# and the fix (78: a setting is wrong).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_all
rig_require_program
rig_init
rig_start_all
d=$RIG_DIR
CID=aaaaaaaa-0000-0000-0000-000000000003
read -r IDP_PORT <<<"$(rig_free_ports 1)"
cat >"$d/idp.json" <<JSON
{
  "tenants": {
    "contoso.onmicrosoft.com": {
      "apps": {
        "$CID": {"name": "daemon", "secret": "s3cr3t~value", "app_only_username": "alice"}
      },
      "users": {}
    }
  },
  "issuer_base": "http://127.0.0.1:$IDP_PORT"
}
JSON
printf '%s\n' 's3cr3t~value' >"$d/secret"
printf '%s\n' 'not-the-secret' >"$d/wrong-secret"
rig_svc_secret "$d/secret" "$d/wrong-secret"
oauth_conf() {	# oauth_conf SECRET_FILE
	rig_write_conf "$RIG_CONF" auth='"xoauth2"' password_file= \
		oauth="{ provider = \"microsoft\"; tenant = \"contoso.onmicrosoft.com\"; client_id = \"$CID\"; client_secret_file = \"$1\"; flow = \"client_credentials\"; authority = \"http://127.0.0.1:$IDP_PORT\"; }"
}
oauth_conf "$d/secret"

# Dovecot: XOAUTH2 checked by introspection at the fake provider.
rig_stop_dovecot
cat >"$d/dovecot/oauth2.conf" <<EOF2
introspection_mode = post
introspection_url = http://127.0.0.1:$IDP_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
EOF2
cat >>"$RIG_DOVECONF" <<EOF2
auth_mechanisms = plain login xoauth2
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/dovecot/oauth2.conf
}
EOF2
dovecot -F -c "$RIG_DOVECONF" </dev/null >>"$d/dovecot/stdout" 2>&1 &
RIG_DOVECOT_PID=$!
rig_wait_for "$RIG_TIMEOUT" rig_dovecot_ready ||
	bail "dovecot did not start: $(tail -5 "$d/dovecot/dovecot.log" 2>/dev/null)"
rig_deliver_pdf "$d/doc.pdf"

# 1. The identity provider is not running.
rig_run check
expect_rc 69 "provider down: check exits 69"
like "$RIG_OUT" "test: sign-in \.+ FAILED: " "provider down: the sign-in line fails"
like "$RIG_OUT" $'sign-in [^\n]*\n    fix: let this machine reach the identity provider' "provider down: the fix says to reach it"
like "$RIG_OUT" "test: IMAP \.+ skipped" "provider down: IMAP skipped"
like "$RIG_OUT" "test: CUPS queue \.+ ok" "provider down: CUPS still checked"

python3 "$top_srcdir/tests/idp/fake_idp.py" --config "$d/idp.json" --port "$IDP_PORT" \
	--port-file "$d/idp.port" 2>"$d/idp.log" &
RIG_PIDS+=("$!")
rig_wait_for "$RIG_TIMEOUT" test -s "$d/idp.port" || bail "the fake identity provider did not start"

# 2. All good.
rig_run check
expect_rc 0 "check exits 0"
like "$RIG_OUT" "test: sign-in \.+ ok \(token valid for (59|60) min; app-only token" "sign-in ok, with the token's lifetime"
like "$RIG_OUT" "test: IMAP \.+ ok \(127\.0\.0\.1:$RIG_IMAPS_PORT, ssl, XOAUTH2\)" "IMAP ok with XOAUTH2"
like "$RIG_OUT" "test: mailbox \.+ ok \(INBOX: 1 message, 1 unseen" "mailbox ok, 1 unseen"
expect_flags alice INBOX '1' "the message is still unseen"
expect_nothing_printed "nothing printed"

# 3. A wrong client secret: the provider's words and the fix.
oauth_conf "$d/wrong-secret"
rm -rf "$RIG_STATE/tokens"
rig_run check
expect_rc 78 "wrong secret: check exits 78 (a setting is wrong)"
like "$RIG_OUT" "test: sign-in \.+ FAILED: .*AADSTS7000215" "wrong secret: AADSTS7000215 quoted"
like "$RIG_OUT" $'sign-in [^\n]*\n    fix: fix the oauth settings' "wrong secret: the fix points at the oauth settings"
tap_done
