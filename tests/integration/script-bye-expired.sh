#!/bin/bash
# script-bye-expired.sh - Exchange Online answers AUTHENTICATE with
# "* BYE Session invalidated - AccessTokenExpired" and hangs up: the client
# refreshes once (one refresh_token grant at the fake IdP), signs in with
# the new token on a new connection, and the pass completes (exit 0).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
is_setup
is_start_idp
is_seed_tokens --idp
old=$IS_TOKEN
ir=$(is_xoauth2 "$IS_USER" "$old")
is_start_server bye-expired -D ir="$ir"
is_write_conf

is_run once --dry-run
expect_rc 0 "once exits 0 after the refresh"
is_expect_server_done "the server played both connections"
is "$(is_idp_grants refresh_token)" 1 "exactly one refresh_token grant at the identity provider"
new=$(is_stored_token)
if [ -n "$new" ] && [ "$new" != "$old" ]; then
	ok "the refreshed access token was saved"
else
	not_ok "the refreshed access token was saved" "token file still holds the old token"
fi
is_expect_transcript bye-expired "the second connection signs in with the new token and completes" \
	-D ir="$ir" -D ir2="$(is_xoauth2 "$IS_USER" "$new")"
expect_stderr 'refreshing it and trying again' "stderr: the refresh is logged"
is_expect_summary 'office: nothing new' "summary: the pass completed"
tap_done
