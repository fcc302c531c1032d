#!/bin/bash
# script-xoauth2-failure-continuation.sh - Gmail (and Dovecot) refuse a
# token with a failure continuation, "+ BASE64(JSON)", before the tagged
# NO.  The client answers it as RFC 7628 3.2.3 and Google say (XOAUTH2: an
# empty line; OAUTHBEARER: AQ==, the byte 0x01), reports the decoded JSON
# in its error, refreshes once, is refused again on a new connection, and
# exits 77.  The account uses provider "google" with the fake IdP's token
# endpoint as its authority (a Google refresh sends no scope).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/imapscript/script.sh"
is_setup
is_start_idp

# run_mech MECH STATUS: one run against data/gmail-MECH-failure.script.
run_mech() {
	local mech=$1 status=$2 old new ir ir2 M=${1^^}
	is_seed_tokens --idp
	old=$IS_TOKEN
	# The OAUTHBEARER IR names the port: the server takes any IR; the
	# transcript comparison checks it.
	is_start_server "gmail-$mech-failure"
	if [ "$mech" = xoauth2 ]; then
		ir=$(is_xoauth2 "$IS_USER" "$old")
	else
		ir=$(is_oauthbearer "$IS_USER" 127.0.0.1 "$IS_PORT" "$old")
	fi
	is_write_conf auth="\"$mech\"" \
		oauth="{ provider = \"google\"; client_id = \"$IS_CLIENT_ID\"; authority = \"$IS_IDP_URL/$IS_TENANT/oauth2/v2.0\"; }"

	is_run once --dry-run
	expect_rc 77 "$M: once exits 77 (sign-in required)"
	is_expect_server_done "$M: the server played both connections"
	is "$(is_idp_grants refresh_token)" 1 "$M: exactly one refresh_token grant"
	new=$(is_stored_token)
	if [ "$mech" = xoauth2 ]; then
		ir2=$(is_xoauth2 "$IS_USER" "$new")
	else
		ir2=$(is_oauthbearer "$IS_USER" 127.0.0.1 "$IS_PORT" "$new")
	fi
	if [ -n "$new" ] && [ "$new" != "$old" ]; then
		ok "$M: the refreshed access token was saved"
	else
		not_ok "$M: the refreshed access token was saved" "token file unchanged"
	fi
	is_expect_transcript "gmail-$mech-failure" \
		"$M: the failure continuation is answered, on both connections" \
		-D ir="$ir" -D ir2="$ir2"
	expect_stderr "Invalid credentials \\(Failure\\)" "$M: stderr quotes the tagged NO"
	expect_stderr "server said: [^)]*$status" "$M: stderr has the decoded error ($status)"
	diag "$M: $(printf '%s\n' "$RIG_ERR" | grep error:)"
}

# The continuations: XOAUTH2 {"status":"401","schemes":"Bearer",...};
# OAUTHBEARER {"status":"invalid_token",...} (RFC 7628 3.2.2).
run_mech xoauth2 401
run_mech oauthbearer invalid_token
tap_done
