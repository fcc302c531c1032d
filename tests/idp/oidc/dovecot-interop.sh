#!/bin/bash
# shellcheck disable=SC2317 # functions run from traps and check()
# Interop: a private Dovecot whose oauth2 passdb validates tokens issued by
# the local OpenID provider (server.mjs) through RFC 7662 introspection,
# as the dovecot client with HTTP Basic credentials in introspection_url.
# Logs in over IMAP with OAUTHBEARER (curl) and XOAUTH2 (python3 imaplib).
# Output is TAP; "1..0 # SKIP" when not root or Dovecot is missing.
#
#   dovecot-interop.sh            (as root, from any directory)
#
# Needs node_modules installed (scripts/install-deps.sh runs `npm ci`).
# KEEP_WORK=1 keeps the instance folder (configuration, logs) for a look.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# everything is on loopback: no proxy from the environment, ever
NO_PROXY='*'
no_proxy='*'
export NO_PROXY no_proxy
secret=interop-dovecot-secret
client=mail2cups-test
device_grant=urn:ietf:params:oauth:grant-type:device_code

# skip_all (tests/rig/tap.sh): a failure under CI=true
skip() {
	. "$here/../../rig/tap.sh"
	skip_all "$*"
}
[ "$(id -u)" = 0 ] || skip "needs root to run a private Dovecot"
command -v dovecot >/dev/null || skip "dovecot is not installed"
command -v doveadm >/dev/null || skip "doveadm is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v node >/dev/null || skip "node is not installed"
[ -d "${OIDC_NODE_PATH:-$here}/node_modules/oidc-provider" ] ||
	skip "node_modules missing: run scripts/install-deps.sh (npm ci) for ${OIDC_NODE_PATH:-$here}"

# short path: Dovecot's UNIX sockets live under base_dir (108-byte limit)
work=$(mktemp -d /tmp/dvo.XXXXXX)
chmod 0755 "$work"
. "$here/testlib.sh"
bail_log=$work/dovecot.log
bail_label=dovecot
dovecot_up=0
cleanup() {
	if [ "$dovecot_up" = 1 ]; then
		doveadm -c "$work/dovecot.conf" stop 2>/dev/null
	fi
	stop_oidc 2>/dev/null
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- the OpenID provider -----------------------------------------------------------
start_oidc "$work/oidc" --dovecot-secret "$secret"
oport=$port
ok "OpenID provider at $issuer"

# sign_in LOGIN SCOPE: a device flow approved for LOGIN; tokens in $work/tokens
sign_in() {
	curl -sS -o "$work/da" -d "client_id=$client" --data-urlencode "scope=$2" \
		"$issuer/device/auth" || return 1
	"$here/approve-device.sh" "$(jget "$work/da" user_code)" "$1" "$issuer" \
		>"$work/approve.log" 2>&1 || return 1
	curl -sS -o "$work/tokens" -d "client_id=$client" -d "grant_type=$device_grant" \
		-d "device_code=$(jget "$work/da" device_code)" "$issuer/token" || return 1
	jget "$work/tokens" access_token >/dev/null
}

# --- a private Dovecot ---------------------------------------------------------------
iport=$(free_port)
mkdir -p "$work/run" "$work/state" "$work/home"
chown 5000:5000 "$work/home"
cat >"$work/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = http://dovecot:$secret@127.0.0.1:$oport/token/introspection
force_introspection = yes
username_attribute = sub
active_attribute = active
active_value = true
EOF
cat >"$work/dovecot.conf" <<EOF
instance_name = m2c-oidc-$$
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 1000
mail_location = maildir:~/Maildir
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $work/dovecot-oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=5000 gid=5000 home=$work/home/%u
}
# no auth penalty: failed logins must not slow the next ones (2, 4, 8 s...)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $iport
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
doveconf -c "$work/dovecot.conf" -n >"$work/doveconf.out" 2>&1 ||
	bail "doveconf rejects the configuration: $(cat "$work/doveconf.out")"
dovecot -c "$work/dovecot.conf" 2>"$work/dovecot.err" ||
	bail "dovecot did not start: $(cat "$work/dovecot.err")"
dovecot_up=1
i=0
until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
	"$iport" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && bail "dovecot does not listen on 127.0.0.1:$iport"
	sleep 0.1
done
ok "private Dovecot $(dovecot --version | cut -d' ' -f1) (oauth2 passdb) on 127.0.0.1:$iport"

# curl_oauthbearer USER TOKEN: LIST with AUTHENTICATE OAUTHBEARER
curl_oauthbearer() {
	curl -sS --max-time 20 --login-options AUTH=OAUTHBEARER --oauth2-bearer "$2" \
		-u "$1:" "imap://127.0.0.1:$iport/" >"$work/imap.out" 2>&1
}

# py_auth MECH USER TOKEN: AUTHENTICATE MECH with imaplib, then EXAMINE INBOX;
# on a refused token it answers Dovecot's error continuation as RFC 7628 says
py_auth() {
	python3 - "$1" "$2" "$3" "$iport" >"$work/imap.out" 2>&1 <<'EOF'
import imaplib, sys
mech, user, token, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mech == "XOAUTH2":
    first = "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
    after = b""
else:
    first = "n,a=%s,\x01host=127.0.0.1\x01port=%d\x01auth=Bearer %s\x01\x01" % (user, port, token)
    after = b"\x01"
state = {"sent": False}
def answer(challenge):
    if state["sent"]:
        print("server error continuation:", challenge.decode(errors="replace"))
        return after
    state["sent"] = True
    return first.encode()
imap = imaplib.IMAP4("127.0.0.1", port)
try:
    typ, data = imap.authenticate(mech, answer)
    print(typ, data)
    typ, data = imap.select("INBOX", readonly=True)
    print("EXAMINE", typ, data)
    imap.logout()
except imaplib.IMAP4.error as e:
    print("refused:", e)
    sys.exit(1)
EOF
}

# expect_login DESCRIPTION COMMAND...: COMMAND must succeed
expect_login() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "$(cat "$work/imap.out")" "$(tail -n 5 "$work/dovecot.log")"
	fi
}
# expect_refusal DESCRIPTION COMMAND...: COMMAND must fail
expect_refusal() {
	desc=$1
	shift
	if "$@"; then
		not_ok "$desc" "$(cat "$work/imap.out")"
	else
		ok "$desc"
	fi
}

sign_in alice "openid email offline_access imap" || bail "device sign-in for alice failed"
at=$(jget "$work/tokens" access_token)
rt=$(jget "$work/tokens" refresh_token)

expect_login "OAUTHBEARER (curl) with alice's access token: LIST works" \
	curl_oauthbearer alice "$at"
if grep -q 'INBOX' "$work/imap.out"; then
	ok "LIST shows INBOX"
else
	not_ok "LIST shows INBOX" "$(cat "$work/imap.out")"
fi
expect_login "XOAUTH2 (imaplib) with alice's access token: EXAMINE INBOX works" \
	py_auth XOAUTH2 alice "$at"
expect_login "OAUTHBEARER (imaplib) with alice's access token" \
	py_auth OAUTHBEARER alice "$at"

# refresh: the new access token works, as the token helper would use it
curl -sS -o "$work/refreshed" -d "client_id=$client" -d grant_type=refresh_token \
	--data-urlencode "refresh_token=$rt" "$issuer/token"
at2=$(jget "$work/refreshed" access_token || true)
expect_login "XOAUTH2 with the access token from a refresh grant" \
	py_auth XOAUTH2 alice "$at2"

sign_in bob@example.test "openid email" || bail "device sign-in for bob@example.test failed"
bat=$(jget "$work/tokens" access_token)
expect_login "XOAUTH2 for a login that is an address (bob@example.test)" \
	py_auth XOAUTH2 bob@example.test "$bat"

# negative tests (auth_failure_delay = 0 keeps them quick)
expect_refusal "alice's token for user bob@example.test is refused" \
	py_auth XOAUTH2 bob@example.test "$at2"
if grep -q 'AUTHENTICATIONFAILED' "$work/imap.out"; then
	ok "the refusal is NO [AUTHENTICATIONFAILED]"
else
	not_ok "the refusal is NO [AUTHENTICATIONFAILED]" "$(cat "$work/imap.out")"
fi
expect_refusal "a made-up token is refused (XOAUTH2)" \
	py_auth XOAUTH2 alice not-a-real-token
expect_refusal "a made-up token is refused (OAUTHBEARER, curl)" \
	curl_oauthbearer alice not-a-real-token
curl -sS -o /dev/null -d "client_id=$client" --data-urlencode "token=$bat" \
	-d token_type_hint=access_token "$issuer/token/revocation"
expect_refusal "a revoked access token is refused" \
	py_auth XOAUTH2 bob@example.test "$bat"

# the refusals came from introspection, for the right reasons
mismatch=$(grep -c "Username 'bob@example.test' did not match 'alice'" "$work/dovecot.log")
invalid=$(grep -c 'Introspection failed: Provided token is not valid' "$work/dovecot.log")
if [ "$mismatch" = 1 ] && [ "$invalid" = 3 ]; then
	ok "Dovecot's log: 1 username mismatch, 3 tokens not valid (introspected inactive)"
else
	not_ok "Dovecot's log reasons (mismatch $mismatch, not valid $invalid)" \
		"$(grep -i 'oauth2' "$work/dovecot.log" | tail -n 10)"
fi

tap_done
