#!/bin/bash
# script-ms-not-connected.sh - Exchange Online signs the token in, then
# answers SELECT with "BAD User is authenticated but not connected.": exit
# 77 (map_reply classifies it: credentials refused), stderr says the
# token's user cannot open the mailbox, and the fix line (advice.c) says to
# sign in as the mailbox's user with mail2cups-oauth -c FILE login office,
# or to give a shared mailbox's user Full Access and set login_user.
# No refresh is tried (the token is fine; its owner is wrong).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
is_setup
is_seed_tokens --access-token 'EwBoA8l6BAAUbDba3x2OMJElkF7gJ4z.token-of-someone-else'
ir=$(is_xoauth2 "$IS_USER" "$IS_TOKEN")
is_start_server ms-not-connected -D ir="$ir"
is_write_conf

is_run once --dry-run
expect_rc 77 "once exits 77 (sign-in required)"
is_expect_server_done "the server played its whole script"
is_expect_transcript ms-not-connected "one connection: sign-in, SELECT, nothing after the BAD" \
	-D ir="$ir"
expect_stderr 'User is authenticated but not connected' "stderr quotes the server"
expect_stderr 'cannot open this mailbox' "stderr: the token's user cannot open the mailbox"
expect_stderr 'fix: sign in as printer@contoso\.com: mail2cups-oauth -c [^ ]+ login office' \
	"stderr: sign in as the mailbox's user, with the config's -c"
expect_stderr 'fix: .*Add-MailboxPermission -Identity printer@contoso\.com.*login_user' \
	"stderr: the shared-mailbox case (Full Access and login_user)"
tap_done
