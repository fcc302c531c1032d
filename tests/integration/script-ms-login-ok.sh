#!/bin/bash
# script-ms-login-ok.sh - Exchange Online with a fresh token: CAPABILITY,
# AUTHENTICATE XOAUTH2 with the initial response on the command line
# (SASL-IR), CAPABILITY again after sign-in (RFC 3501 6.2: it may change;
# here MOVE appears), SELECT, UID SEARCH UNSEEN, LOGOUT, and nothing else.
# The token is in the token store, so no identity provider is asked.
# Plain (security = "none", loopback only), then again over implicit TLS.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
is_setup
is_seed_tokens --access-token 'EwBoA8l6BAAUbDba3x2OMJElkF7gJ4z.known-token'
ir=$(is_xoauth2 "$IS_USER" "$IS_TOKEN")
is_start_server ms-login-ok -D ir="$ir"
is_write_conf

is_run once --dry-run
expect_rc 0 "once exits 0"
is_expect_server_done "the server played its whole script"
is_expect_transcript ms-login-ok "the client sent exactly the expected lines" -D ir="$ir"
is_expect_summary 'office: nothing new' "summary: nothing fetched"

# The same over implicit TLS (port 993 style), with a certificate made now.
if command -v openssl >/dev/null 2>&1; then
	rig_make_certs
	is_start_server ms-login-ok -D ir="$ir" --tls-cert "$RIG_CERT" --tls-key "$RIG_DIR/key.pem"
	is_write_conf security='"ssl"' ca_file="\"$RIG_CERT\""
	is_run once --dry-run
	expect_rc 0 "TLS: once exits 0"
	is_expect_server_done "TLS: the server played its whole script"
	is_expect_transcript ms-login-ok "TLS: the client sent exactly the expected lines" -D ir="$ir"
else
	skip "TLS: the same over implicit TLS" "openssl not found"
fi
tap_done
