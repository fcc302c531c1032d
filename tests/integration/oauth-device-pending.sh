#!/bin/bash
# oauth-device-pending.sh - a pending device sign-in is kept in the token
# store: `status` shows its code, a second `login` started meanwhile shows
# the same code instead of starting a rival one (one devicecode request),
# and once the code is approved both logins end well and one set of tokens
# is stored.  On a terminal, login shows a QR code of the URL (when built
# with libqrencode), and --no-qr leaves it out.  Only the fake IdP is needed.
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

# --- on a terminal: a QR code -------------------------------------------
rig_require script
qr_lines() {	# tty_login OUT [ARGS]: lines of QR blocks in a tty login
	rig_oauth logout office
	timeout 30 script -qefc "$MAIL2CUPS_OAUTH -c $RIG_CONF login office $2" "$1" \
		</dev/null >/dev/null 2>&1 &
	local p=$! c
	RIG_BG_PID=	# not a rig_oauth_bg run
	if c=$(rig_idp_user_code); then rig_idp_approve "$c"; fi
	wait "$p" || diag "tty login exited $?"
	grep -c $'\xe2\x96' "$1"
}
n=$(qr_lines "$RIG_DIR/tty.out")
if grep -q '^#define HAVE_QRENCODE 1' "$top_builddir/m2c-config.h" 2>/dev/null; then
	[ "$n" -ge 10 ] && ok "on a terminal, login shows a QR code ($n lines)" ||
		not_ok "on a terminal, login shows a QR code" "$(cat "$RIG_DIR/tty.out")"
else
	is "$n" 0 "built without libqrencode: no QR code"
fi
is "$(qr_lines "$RIG_DIR/tty2.out" --no-qr)" 0 "--no-qr: no QR code on a terminal"
grep -q 'Signed in as' "$RIG_DIR/tty2.out" && ok "the terminal login signed in" ||
	not_ok "the terminal login signed in" "$(cat "$RIG_DIR/tty2.out")"
tap_done
