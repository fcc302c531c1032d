#!/bin/bash
# oauth-authcode.sh - the authorization code flow with PKCE against the
# fake IdP: (a) the loopback redirect (curl plays the browser: it opens the
# printed URL, and follows the IdP's redirect back to the listener), (b)
# headless, the redirected URL pasted on stdin, (c) a pasted URL with a
# wrong state is refused.  Then `once` prints a mail with the token.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
rig_write_oauth_conf "$RIG_CONF" oauth.flow='"authcode"'
url_re='http://127\.0\.0\.1:[0-9]+/[^ ]*/oauth2/v2\.0/authorize\?[^ ]*'

# location URL: the IdP's redirect for URL (the browser signing in).
location() {
	curl -sS --noproxy '*' -o /dev/null -w '%{http_code} %{redirect_url}' "$1"
}

# --- (a) loopback ------------------------------------------------------
rig_oauth_bg login office
url=$(rig_oauth_bg_grep "$url_re")
like "$url" 'code_challenge_method=S256' "login prints an authorize URL with PKCE S256"
like "$url" 'redirect_uri=http%3A%2F%2Flocalhost%3A[0-9]+' "the redirect URI is http://localhost:PORT"
loc=$(location "$url")
like "$loc" '^302 http://localhost:[0-9]+/?\?.*code=' "the IdP redirects to the loopback listener with a code"
back=$(curl -sS --noproxy '*' -o "$d/back.html" -w '%{http_code}' "${loc#302 }")
is "$back" 200 "the listener answers the browser's return with 200"
rig_oauth_wait
expect_rc 0 "loopback login exits 0"
expect_out "Signed in as alice@contoso\.com" "login says who signed in"
like "$(cat "$d/back.html")" '[Ss]igned in|close|mail2cups' "the browser is shown a page"
is "$(rig_idp_stat grant_types.authorization_code)" 1 "one authorization_code grant"
[ -n "$(rig_token_field refresh_token)" ] && ok "a refresh token was stored" ||
	not_ok "a refresh token was stored"
rig_deliver_pdf "$d/a.pdf" --from bob@example.com
rig_run once
expect_rc 0 "once works with the authcode sign-in"
expect_printed "the PDF printed" "$d/a.pdf"
rig_oauth logout office

# --- (b) headless: paste the redirected URL ---------------------------
rig_oauth_bg login office --headless
url=$(rig_oauth_bg_grep "$url_re")
like "$url" 'redirect_uri=http%3A%2F%2Flocalhost(&|$)' "headless: the redirect URI is http://localhost"
loc=$(location "$url")
like "$loc" '^302 http://localhost/?\?.*code=' "the IdP redirects to http://localhost/?code="
rig_oauth_bg_grep 'paste it here' >/dev/null
rig_oauth_paste "${loc#302 }"
rig_oauth_wait
expect_rc 0 "headless login with the pasted URL exits 0"
expect_out "Signed in as alice@contoso\.com" "login says who signed in"
is "$(rig_idp_stat grant_types.authorization_code)" 2 "a second authorization_code grant"
rig_oauth logout office

# --- (c) a pasted URL with a wrong state -------------------------------
rig_oauth_bg login office --headless
url=$(rig_oauth_bg_grep "$url_re")
loc=$(location "$url")
loc=${loc#302 }
bad=$(sed -E 's/([?&]state=)[^&]*/\1forged0state/' <<<"$loc")
[ "$bad" != "$loc" ] || diag "no state in $loc"
rig_oauth_paste "$bad"
rig_oauth_wait
[ "$RIG_RC" != 0 ] && ok "a wrong state is refused (exit $RIG_RC)" ||
	not_ok "a wrong state is refused" "login exited 0"
expect_out "state" "the message names the state"
is "$(rig_idp_stat grant_types.authorization_code)" 2 "the code was not redeemed"
[ -e "$(rig_token_file)" ] && [ -n "$(rig_token_field access_token)" ] &&
	not_ok "no tokens saved" || ok "no tokens saved"
tap_done
