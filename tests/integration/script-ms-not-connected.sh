#!/bin/bash
# script-ms-not-connected.sh - Exchange Online signs the token in, then
# answers SELECT with "BAD User is authenticated but not connected.": exit
# 77, and stderr says the token belongs to someone who cannot read the
# mailbox, names the mailbox, and says to run mail2cups-oauth login office.
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
expect_stderr '"User is authenticated but not connected"' "stderr quotes the server"
expect_stderr 'will not open mailbox printer@contoso\.com' "stderr names the mailbox"
expect_stderr 'the token belongs to someone who cannot read it' \
	"stderr: the token belongs to someone who cannot read the mailbox"
expect_stderr 'mail2cups-oauth login office' "stderr: run mail2cups-oauth login office"
tap_done
