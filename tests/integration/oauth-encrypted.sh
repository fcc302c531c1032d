#!/bin/bash
# oauth-encrypted.sh - tokens encrypted at rest (token_encryption_key_file):
# the file holds no token in clear, token/sasl and the poller read it, a
# wrong key is refused (exit 78) without damaging the file, and a plain file
# written before the key was set is still read and encrypted at the next
# save (migration).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
d=$RIG_DIR
tf=$(rig_token_file)
openssl rand -hex 32 >"$d/token.key"
openssl rand -hex 32 >"$d/other.key"
rig_svc_secret "$d/token.key" "$d/other.key"
with_key() {
	rig_write_oauth_conf "$RIG_CONF"
	printf 'token_encryption_key_file = "%s";\n' "$1" >>"$RIG_CONF"
}

# --- migration: a plain sign-in, then the key is set --------------------
rig_device_login
expect_rc 0 "login without a key exits 0"
at0=$(rig_token_field access_token)
with_key "$d/token.key"
rig_oauth token office
expect_rc 0 "with a key set, the plain file is still read"
is "$RIG_OUT" "$at0" "token prints the stored token"
rig_token_expire_soon
rig_oauth token office
expect_rc 0 "a refresh with the key set exits 0"
at1=$RIG_OUT
is "$(rig_json enc <"$tf")" A256GCM "after the save the file is encrypted (enc A256GCM)"
if [ -z "$at1" ] || grep -qF -- "${at1:0:40}" "$tf" || grep -qF -- "${at0:0:40}" "$tf"; then
	not_ok "the file holds no access token in clear"
else
	ok "the file holds no access token in clear"
fi
grep -q refresh_token "$tf" && not_ok "no field names in clear" "$(head -c 300 "$tf")" ||
	ok "no field names in clear"
is "$(stat -c %a "$tf")" 600 "the encrypted file is 0600"

# --- the poller reads it ------------------------------------------------
rig_deliver_pdf "$d/a.pdf" --from bob@example.com
rig_run once
expect_rc 0 "once exits 0 with encrypted tokens"
expect_printed "the PDF printed" "$d/a.pdf"
rig_oauth sasl office
is "$RIG_OUT" "$(printf 'user=%s\001auth=Bearer %s\001\001' "$RIG_USER" "$at1" | base64 -w0)" \
	"sasl works with encrypted tokens"

# --- a wrong key --------------------------------------------------------
before=$(sha256sum <"$tf")
with_key "$d/other.key"
rig_oauth token office
expect_rc 78 "a wrong key exits 78"
expect_out "decrypt|key" "the message says the key does not fit"
is "$RIG_OUT" "" "no token printed"
rig_run once
expect_rc 78 "once with a wrong key exits 78"
is "$(sha256sum <"$tf")" "$before" "the token file was left as it was"

# --- a key file others can read -----------------------------------------
chmod 0644 "$d/token.key"
with_key "$d/token.key"
rig_oauth token office
expect_rc 78 "a key file others can read is refused (exit 78)"
expect_out "chmod 600" "the message says chmod 600"
tap_done
