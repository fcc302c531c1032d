#!/bin/bash
# script-ms-auth-failed.sh - Exchange Online answers "NO AUTHENTICATE
# failed." to a token that looked valid: the client refreshes it exactly
# once (one refresh_token grant at the fake IdP), tries the NEW token on a
# NEW connection, is refused again, and stops with exit 77 and an
# explanation with the usual causes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
is_setup
is_start_idp
is_seed_tokens --idp
old=$IS_TOKEN
ir=$(is_xoauth2 "$IS_USER" "$old")
is_start_server ms-auth-failed -D ir="$ir"
is_write_conf

is_run once --dry-run
expect_rc 77 "once exits 77 (sign-in required)"
is_expect_server_done "the server played its whole script"
is "$(is_idp_grants refresh_token)" 1 "exactly one refresh_token grant at the identity provider"
new=$(is_stored_token)
if [ -n "$new" ] && [ "$new" != "$old" ]; then
	ok "the refreshed access token was saved"
else
	not_ok "the refreshed access token was saved" "token file still holds the old token"
fi
is_expect_transcript ms-auth-failed \
	"the second AUTHENTICATE, on a new connection, sends the new token" \
	-D ir="$ir" -D ir2="$(is_xoauth2 "$IS_USER" "$new")"
expect_stderr 'refreshing it and trying again' "stderr: the refresh is logged"
expect_stderr '"AUTHENTICATE failed\."' "stderr quotes the server's refusal"
if [[ $RIG_ERR == *password* ]]; then
	not_ok "stderr does not talk about a password (this account has none)" "$RIG_ERR"
else
	ok "stderr does not talk about a password (this account has none)"
fi
# What to do: the causes Exchange Online has for this answer, from the
# advice (advice.c), for this account (a delegated sign-in, not a shared
# mailbox), with a command that can be pasted as printed (-c FILE).
expect_stderr 'refused the access token for printer@contoso\.com' \
	"stderr: the server refused the token (not a password) for the mailbox"
expect_stderr 'fix: .*Set-CASMailbox -Identity printer@contoso\.com -ImapEnabled \$true' \
	"stderr: IMAP may be turned off for the mailbox (Set-CASMailbox)"
expect_stderr 'fix: .*another account.*sign in as printer@contoso\.com: mail2cups-oauth -c [^ ]+ login office' \
	"stderr: the token may be another account's; how to sign in again"
if [[ $RIG_ERR == *New-ServicePrincipal* ]]; then
	not_ok "stderr: no app-only advice for a delegated sign-in" "$RIG_ERR"
else
	ok "stderr: no app-only advice for a delegated sign-in"
fi
tap_done
