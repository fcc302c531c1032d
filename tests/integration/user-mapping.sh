#!/bin/bash
# user-mapping.sh - the global users table maps senders to CUPS user names
# (job-originating-user-name): an exact address to a name, a wildcard to
# "%l" (the local part); an unmapped sender keeps its full address.  The
# From line picks a name only when the provider authenticated it (#10-3):
# the README's set-up ("*@domain" -> "%l") with a forged ceo@ (no verdict,
# or dmarc=fail) prints as mail2cups-unverified, never as "ceo"; the
# genuine ceo@ prints as "ceo"; a mapping to a reserved name (root@ -> root)
# never gives it.  With trust_unauthenticated_from = true the From line
# alone maps again.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup allow_senders='[ "*@example.com", "*@staff.example.com" ]' \
	authserv_id='"mx.rig.test"'
users='( { sender = "bob@example.com"; user = "bob"; }, { sender = "*@staff.example.com"; user = "%l"; } )'
rig_conf_global "$RIG_CONF" users "$users"
d=$RIG_DIR
pass() { printf 'Authentication-Results: mx.rig.test; dkim=pass header.d=%s; dmarc=pass header.from=%s' "$1" "$1"; }
fail='Authentication-Results: mx.rig.test; spf=fail smtp.mailfrom=staff.example.com; dmarc=fail header.from=staff.example.com'

rig_deliver_pdf "$d/bob.pdf" --from 'Bob <bob@example.com>' --header "$(pass example.com)"
rig_deliver_pdf "$d/carol.pdf" --from carol@staff.example.com --header "$(pass staff.example.com)"
rig_deliver_pdf "$d/dave.pdf" --from dave@example.com --header "$(pass example.com)"
rig_deliver_pdf "$d/ceo.pdf" --from ceo@staff.example.com --header "$(pass staff.example.com)"
rig_deliver_pdf "$d/ceo-forged.pdf" --from ceo@staff.example.com
rig_deliver_pdf "$d/ceo-dmarcfail.pdf" --from ceo@staff.example.com --header "$fail"
rig_deliver_pdf "$d/ceo-planted.pdf" --from ceo@staff.example.com \
	--header 'Received: from laptop.evil.example by smtp.evil.example; Mon, 1 Jan 2024 00:00:00 +0000' \
	--header "$(pass staff.example.com)"
rig_deliver_pdf "$d/bob-forged.pdf" --from bob@example.com
rig_deliver_pdf "$d/root.pdf" --from root@staff.example.com --header "$(pass staff.example.com)"

rig_run once
expect_rc 0 "once exits 0"
expect_printed "all nine printed (authenticated_senders_only is off)" "$d/bob.pdf" \
	"$d/carol.pdf" "$d/dave.pdf" "$d/ceo.pdf" "$d/ceo-forged.pdf" "$d/ceo-dmarcfail.pdf" \
	"$d/ceo-planted.pdf" "$d/bob-forged.pdf" "$d/root.pdf"
user() { rig_job_attr "$(rig_job_id "$1")" job-originating-user-name; }
is "$(user bob.pdf)" bob "authenticated bob@example.com is mapped to bob"
is "$(user carol.pdf)" carol "*@staff.example.com maps an authenticated carol@ to her local part"
is "$(user dave.pdf)" dave@example.com "an unmapped sender keeps the full address"
is "$(user ceo.pdf)" ceo "the authenticated ceo@ prints as ceo"
is "$(user ceo-forged.pdf)" mail2cups-unverified "a forged ceo@ (no verdict) does not print as ceo"
is "$(user ceo-dmarcfail.pdf)" mail2cups-unverified "a forged ceo@ (dmarc=fail) does not either"
is "$(user ceo-planted.pdf)" mail2cups-unverified \
	"nor one with a pass planted below its own Received header"
is "$(user bob-forged.pdf)" mail2cups-unverified "an exact entry needs authentication too"
is "$(user root.pdf)" mail2cups-unverified "a mapping never gives a reserved name (root)"
expect_stderr "did not authenticate that sender, so the job's user is mail2cups-unverified" \
	"the log says why a forged sender got mail2cups-unverified"
expect_stderr "reserved or system user name" "the log says why root@ got mail2cups-unverified"

# The admin who knows only trusted people reach the mailbox can opt in.
sed -i 's/^\(    authserv_id = .*\)$/\1\n    trust_unauthenticated_from = true;/' "$RIG_CONF"
grep -q 'trust_unauthenticated_from = true' "$RIG_CONF" || bail "config not rewritten"
rig_deliver_pdf "$d/ceo-optin.pdf" --from ceo@staff.example.com
rig_run once
expect_rc 0 "once with trust_unauthenticated_from exits 0"
is "$(user ceo-optin.pdf)" ceo "with trust_unauthenticated_from = true the From line maps"
RIG_RUN_CONF=$RIG_CONF rig_run check
unlike_warning=$(grep -c 'no way to judge' <<<"$RIG_OUT" || true)
is "$unlike_warning" 0 "check: no warning when the account opted in"

# check warns when the users table maps senders and nothing judges them,
# and about an entry that names a reserved user.
sed -e '/authserv_id/d' -e '/trust_unauthenticated_from/d' \
	-e 's/user = "bob"/user = "root"/' "$RIG_CONF" >"$d/nojudge.conf"
RIG_RUN_CONF=$d/nojudge.conf rig_run check
expect_rc 0 "check passes (warnings only)"
like "$RIG_OUT" "warning: the users table maps senders to CUPS users, but this account has no way to judge who sent a message" \
	"check warns that the users table has no way to judge senders"
like "$RIG_OUT" "warning: users: \"bob@example.com\" maps to \"root\", a reserved" \
	"check warns about a users entry naming root"
tap_done
