#!/bin/bash
# oauth-0644.sh - a token file others can read (0644), or a token folder
# they can enter (0755), is refused with the fix, by mail2cups-oauth and by
# mail2cups; nothing is printed, nothing is sent to the identity provider.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
tf=$(rig_token_file)

rig_device_login
expect_rc 0 "login exits 0"
rig_deliver_pdf "$d/report.pdf" --from bob@example.com
s0=$(rig_idp GET /test/stats)

chmod 0644 "$tf"
rig_oauth token office
expect_rc 78 "token refuses a 0644 token file (exit 78, configuration)"
expect_out "chmod 600" "token says chmod 600"
expect_out "${tf//./\\.}" "token names the file"
is "$RIG_OUT" "" "token prints no token"
rig_run once
expect_rc 78 "once refuses a 0644 token file (exit 78)"
expect_stderr "chmod 600" "once says chmod 600"
expect_nothing_printed "nothing printed"
expect_flags "$RIG_USER" INBOX '1' "the message stays unseen"
is "$(stat -c %a "$tf")" 644 "the file's mode was not changed behind the admin's back"

chmod 0600 "$tf"
chmod 0755 "${tf%/*}"
rig_oauth token office
expect_rc 78 "token refuses a 0755 token folder (exit 78)"
expect_out "chmod 700" "token says chmod 700"
rig_run once
expect_rc 78 "once refuses a 0755 token folder (exit 78)"
is "$(rig_idp GET /test/stats)" "$s0" "no request to the identity provider"

chmod 0700 "${tf%/*}"
rig_run once
expect_rc 0 "with 0600 in 0700 once works again"
expect_printed "the PDF printed" "$d/report.pdf"
tap_done
