#!/bin/bash
# oauth-device-pending.sh - a pending device sign-in is kept in the token
# store: `status` shows its code, a second `login` started meanwhile shows
# the same code instead of starting a rival one (one devicecode request),
# and once the code is approved both logins end well and one set of tokens
# is stored.  Only the fake IdP is needed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_require_oauth
rig_require_program
rig_init
rig_make_certs	# the account's ca_file
rig_start_idp
rig_write_oauth_conf "$RIG_CONF"

rig_oauth_bg login office --no-qr
first_pid=$RIG_BG_PID first_out=$RIG_BG_OUT first_err=$RIG_BG_ERR first_fd=$RIG_BG_FD
code=$(rig_oauth_bg_grep 'enter the code [A-Z0-9]+' | awk '{print $4}')
like "$code" '^[A-Z0-9]{9}$' "the first login shows a code"

rig_oauth status office
expect_rc 77 "status exits 77 while the sign-in is pending"
expect_out "waiting to sign in.*$code" "status shows the pending code"

rig_oauth_bg login office --no-qr
code2=$(rig_oauth_bg_grep 'enter the code [A-Z0-9]+' | awk '{print $4}')
is "$code2" "$code" "a second login shows the same code"
like "$(cat "$RIG_BG_OUT")" "already waiting" "it says a sign-in is already waiting"
is "$(rig_idp_stat endpoints.devicecode)" 1 "only one devicecode request"

rig_idp_approve "$code"
rig_oauth_wait
expect_rc 0 "the second login ends well"
RIG_BG_PID=$first_pid RIG_BG_OUT=$first_out RIG_BG_ERR=$first_err RIG_BG_FD=$first_fd
rig_oauth_wait
expect_rc 0 "the first login ends well"
rig_oauth status office
expect_rc 0 "status: signed in"
expect_out "signed in as alice@contoso\.com" "status names the user"
is "$(rig_idp GET /test/pending)" "[]" "nothing left pending at the IdP"
is "$(rig_token_field pending)" "" "nothing left pending in the token file"
tap_done
