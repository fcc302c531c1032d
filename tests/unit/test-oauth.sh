#!/bin/bash
# test-oauth.sh - run tests/unit/test-oauth against the fake identity
# provider (tests/idp/fake_idp.py) on a loopback port.  TAP.
# Needs python3 with python3-cryptography, and openssl; without them the
# test is skipped, except in CI (CI=true), where that is a failure.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/rig/tap.sh"

# skip_all: a failure under CI=true
missing() {
	skip_all "$1"
}
command -v python3 >/dev/null 2>&1 || missing "python3 not found"
python3 -c 'import cryptography' 2>/dev/null ||
	missing "python3-cryptography not found (apt-get install python3-cryptography)"
command -v openssl >/dev/null 2>&1 || missing "openssl not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/m2c-oauth.XXXXXX") || exit 99
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkcert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$work/$1.key" -out "$work/$1.pem" >/dev/null 2>&1 || exit 99
	chmod 600 "$work/$1.key"
}
mkcert app
mkcert other
printf '%s\n' 's3cr3t~value' >"$work/secret"
printf '%s\n' 'not-the-secret' >"$work/wrong-secret"
chmod 600 "$work/secret" "$work/wrong-secret"

# The issuer in discovery documents names the port: choose it first.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TID=11111111-2222-3333-4444-555555555555
cat >"$work/idp.json" <<JSON
{
  "tenants": {
    "contoso.onmicrosoft.com": {
      "id": "$TID",
      "default_user": "alice@contoso.com",
      "apps": {
        "aaaaaaaa-0000-0000-0000-000000000001": {"name": "mail2cups", "public_client": true,
          "redirect_uris": ["http://localhost"]},
        "aaaaaaaa-0000-0000-0000-000000000003": {"name": "daemon", "secret": "s3cr3t~value",
          "certificates": ["$work/app.pem"], "app_only_username": "printer@contoso.com"}
      },
      "users": {
        "alice@contoso.com": {"name": "Alice"},
        "bob@contoso.com": {"name": "Bob"}
      }
    }
  },
  "interval": 1,
  "issuer_base": "http://127.0.0.1:$port"
}
JSON

python3 "$top_srcdir/tests/idp/fake_idp.py" --config "$work/idp.json" --port "$port" \
	--port-file "$work/port" 2>"$work/idp.log" &
pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "Bail out! the fake identity provider did not start"
		sed 's/^/# /' "$work/idp.log"
		exit 99
	fi
	sleep 0.1
done

IDP_URL="http://127.0.0.1:$(cat "$work/port")"
IDP_TID=$TID
IDP_WORK=$work
export IDP_URL IDP_TID IDP_WORK
"$top_builddir/tests/unit/test-oauth" | tee "$work/tap"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] || grep -q '^not ok' "$work/tap"; then
	echo "# fake IdP log:"
	tail -n 40 "$work/idp.log" | sed 's/^/# /'
fi
exit $rc
