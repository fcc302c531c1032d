#!/bin/bash
# oauth-identity.sh - the identity check after sign-in: a person who signs
# in as someone other than the mailbox user is refused at once (exit 77),
# naming both accounts and the error the mailbox would give later, and
# nothing is saved; for a shared mailbox, login_user names the delegate,
# whose sign-in is accepted.  Only the fake IdP is needed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_require_oauth
rig_require_program
rig_init
rig_make_certs	# the account's ca_file
rig_start_idp
rig_write_oauth_conf "$RIG_CONF"
tf=$(rig_token_file)

# --- the wrong person signs in -----------------------------------------
rig_device_login bob@contoso.com
expect_rc 77 "signing in as bob for alice's mailbox exits 77"
expect_out "alice@contoso\.com" "the message names the mailbox user"
expect_out "bob@contoso\.com" "the message names who signed in"
expect_out "User is authenticated but not connected" \
	"the message quotes what the mailbox would answer"
if [ -e "$tf" ] && [ -n "$(rig_token_field access_token)$(rig_token_field refresh_token)" ]; then
	not_ok "no tokens were saved" "$(cat "$tf")"
else
	ok "no tokens were saved"
fi
rig_oauth token office
expect_rc 77 "token still says sign-in required"

# The right person then signs in.
rig_device_login alice@contoso.com
expect_rc 0 "signing in as alice works"
is "$(rig_token_field identity)" alice@contoso.com "the stored identity is alice"
rig_oauth logout office
expect_rc 0 "logout exits 0"
[ -e "$tf" ] && not_ok "logout removed the token file" || ok "logout removed the token file"

# Case does not matter: Microsoft's UPNs are case-insensitive.
rig_write_oauth_conf "$RIG_CONF" username='"Alice@Contoso.COM"'
rig_device_login alice@contoso.com
expect_rc 0 "a username differing only in case is accepted"
rig_oauth logout office

# --- a shared mailbox read by a delegate -------------------------------
rig_write_oauth_conf "$RIG_CONF" username='"shared@contoso.com"' login_user='"delegate@contoso.com"'
rig_device_login alice@contoso.com
expect_rc 77 "for a shared mailbox, a sign-in as someone else than login_user is refused"
expect_out "delegate@contoso\.com" "the message names login_user"
# (logout drops the refused code: whether login does so by itself is
# checked above, by "signing in as alice works")
rig_oauth logout office
rig_device_login delegate@contoso.com
expect_rc 0 "the delegate named by login_user is accepted"
expect_out "Signed in as delegate@contoso\.com" "login says the delegate signed in"
is "$(rig_token_field identity)" delegate@contoso.com "the stored identity is the delegate"
rig_oauth sasl office
at=$(rig_token_field access_token)
is "$RIG_OUT" "$(printf 'user=%s\001auth=Bearer %s\001\001' shared@contoso.com "$at" | base64 -w0)" \
	"XOAUTH2 names the shared mailbox, with the delegate's token"
tap_done
