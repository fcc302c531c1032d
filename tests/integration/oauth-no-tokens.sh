#!/bin/bash
# oauth-no-tokens.sh - an OAuth account that was never signed in: `once`
# exits 77 (sign-in required) naming the command to run, makes no request to
# the identity provider, and leaves the mail unseen; status and token of
# mail2cups-oauth exit 77 too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR

rig_deliver_pdf "$d/report.pdf" --from bob@example.com
rig_run once
expect_rc 77 "once exits 77 (sign-in required)"
expect_stderr "fix: .*mail2cups-oauth -c $RIG_CONF login office" "once says to run mail2cups-oauth -c FILE login office"
expect_nothing_printed "nothing printed"
expect_flags "$RIG_USER" INBOX '1' "the message stays unseen"
is "$(rig_idp_stat endpoints.token)/$(rig_idp_stat endpoints.devicecode)" 0/0 \
	"no request to the identity provider"
[ -e "$(rig_token_file)" ] && not_ok "no token file was created" || ok "no token file was created"

rig_oauth status office
expect_rc 77 "status exits 77"
expect_out "not signed in.*mail2cups-oauth -c $RIG_CONF login office" "status says: not signed in, run login"
rig_oauth token office
expect_rc 77 "token exits 77"
expect_out "mail2cups-oauth -c $RIG_CONF login office" "token says to run mail2cups-oauth -c FILE login office"
is "$RIG_OUT" "" "token prints nothing on stdout"
rig_oauth sasl office
expect_rc 77 "sasl exits 77"
tap_done
