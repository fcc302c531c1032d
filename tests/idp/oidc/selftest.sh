#!/bin/bash
# shellcheck disable=SC2016,SC2317 # check eval '...' expands late on purpose
# Self-test of the local OpenID provider (server.mjs): HTTP with curl (node
# only reads JSON), the same exchanges mail2cups' generic OAuth client
# makes. Output is TAP.
#
#   selftest.sh            (from any directory)
#
# Needs node_modules (scripts/install-deps.sh runs `npm ci` here; missing,
# the test is skipped, under CI=true it fails), here or, when OIDC_NODE_PATH
# is set, in that folder (server.mjs then loads oidc-provider from there). The expiry tests run a second server
# with 2-second access tokens and a 1-second polling interval, and a third
# with 5-second device codes, and wait for them.

set -u

here=$(cd "$(dirname "$0")" && pwd)
ttl=60
short_ttl=2
device_ttl=5
secret=selftest-dovecot-secret
client=mail2cups-test
device_grant=urn:ietf:params:oauth:grant-type:device_code

work=$(mktemp -d "${TMPDIR:-/tmp}/oidc-selftest.XXXXXX")
. "$here/testlib.sh"
bail_log=$work/s1/server.log
bail_label=server
cleanup() {
	stop_oidc 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "last response: $(head -c 400 "$work/body" 2>/dev/null)"
	fi
}

# http METHOD URL [curl args...]: body to $work/body, HTTP status on stdout
http() {
	method=$1
	url=$2
	shift 2
	curl -sS --noproxy '*' --max-time 20 -X "$method" -o "$work/body" -w '%{http_code}' \
		"$@" "$url" 2>"$work/curl.err" || echo "curl-failed"
}

# is FIELD VALUE: the last response's JSON FIELD equals VALUE
is() {
	[ "$(jget "$work/body" "$1")" = "$2" ]
}

# token GRANT-ARGS...: POST the token endpoint as the public client
token() {
	http POST "$token_ep" -d "client_id=$client" "$@"
}

introspect() {
	http POST "$introspection_ep" -u "dovecot:$secret" --data-urlencode "token=$1"
}

# --- dependencies -----------------------------------------------------------
command -v node >/dev/null || bail "node is not installed"
command -v curl >/dev/null || bail "curl is not installed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
	bail "node $(node --version) is too old: oidc-provider 8 needs Node 18 or later"
# node_modules here, or under $OIDC_NODE_PATH (for a read-only source tree)
modules_home=${OIDC_NODE_PATH:-$here}
pinned=$(jget "$here/package.json" dependencies.oidc-provider)
have=$(jget "$modules_home/node_modules/oidc-provider/package.json" version || true)
# make check never downloads: scripts/install-deps.sh runs `npm ci` here.
if [ "$have" != "$pinned" ]; then
	why="oidc-provider $pinned is not installed in $modules_home (have '${have}'): run scripts/install-deps.sh (npm ci there)"
	[ "${CI:-}" = true ] && bail "$why"
	echo "1..0 # SKIP $why"
	exit 0
fi
ok "oidc-provider $pinned installed ($(node --version))"

# --- server -----------------------------------------------------------------
start_oidc "$work/s1" --access-ttl "$ttl" --dovecot-secret "$secret"
ok "server listens at $issuer"

# --- discovery --------------------------------------------------------------
# discover: fetch the discovery document, set the endpoint variables
discover() {
	code=$(http GET "$issuer/.well-known/openid-configuration")
	[ "$code" = 200 ] || bail "discovery: HTTP $code"
	cp "$work/body" "$work/discovery"
	device_ep=$(jget "$work/discovery" device_authorization_endpoint)
	token_ep=$(jget "$work/discovery" token_endpoint)
	introspection_ep=$(jget "$work/discovery" introspection_endpoint)
	revocation_ep=$(jget "$work/discovery" revocation_endpoint)
	userinfo_ep=$(jget "$work/discovery" userinfo_endpoint)
	jwks_uri=$(jget "$work/discovery" jwks_uri)
}
discover
if is issuer "$issuer" && [ -n "$device_ep" ] && [ -n "$token_ep" ] &&
	[ -n "$introspection_ep" ] && [ -n "$revocation_ep" ] &&
	jget "$work/discovery" grant_types_supported | grep -q "$device_grant"; then
	ok "discovery document: issuer and device/token/introspection/revocation endpoints"
else
	not_ok "discovery document" "$(cat "$work/discovery")"
fi

# --- device authorization -----------------------------------------------------
# start_device SCOPE: POST the device authorization endpoint, sets dc and uc
start_device() {
	code=$(http POST "$device_ep" -d "client_id=$client" --data-urlencode "scope=$1")
	dc=$(jget "$work/body" device_code)
	uc=$(jget "$work/body" user_code)
	[ "$code" = 200 ] && [ -n "$dc" ] && [ -n "$uc" ] &&
		is verification_uri "$issuer/device" &&
		jget "$work/body" expires_in >/dev/null
}
check "device authorization: device_code, user_code, verification_uri" \
	start_device "openid email offline_access"

code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "token poll before approval: 400 authorization_pending" \
	eval '[ "$code" = 400 ] && is error authorization_pending'

code=$(http POST "$device_ep" -d client_id=nobody -d scope=openid)
check "device authorization for an unknown client: 401 invalid_client" \
	eval '[ "$code" = 401 ] && is error invalid_client'

if "$here/approve-device.sh" "$uc" alice "$issuer" >"$work/approve.log" 2>&1; then
	ok "approve-device.sh completes the browser side (login alice, consent)"
else
	not_ok "approve-device.sh" "$(cat "$work/approve.log")"
fi

code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
cp "$work/body" "$work/tokens1"
at1=$(jget "$work/tokens1" access_token)
rt1=$(jget "$work/tokens1" refresh_token)
idt=$(jget "$work/tokens1" id_token)
check "token poll after approval: access, refresh and ID token, Bearer, expires_in $ttl" \
	eval '[ "$code" = 200 ] && [ -n "$at1" ] && [ -n "$rt1" ] && [ -n "$idt" ] &&
	is token_type Bearer && is expires_in "$ttl" &&
	jget "$work/body" scope | grep -q offline_access'

# the ID token: RS256 signature against jwks_uri, iss/aud/sub/email
http GET "$jwks_uri" >/dev/null
cp "$work/body" "$work/jwks"
verify_id_token() {
	node -e '
const crypto = require("crypto");
const fs = require("fs");
const [jwt, jwksFile, iss, aud, sub, email] = process.argv.slice(1);
const [h, p, s] = jwt.split(".");
const header = JSON.parse(Buffer.from(h, "base64url"));
const claims = JSON.parse(Buffer.from(p, "base64url"));
const jwk = JSON.parse(fs.readFileSync(jwksFile, "utf8")).keys.find((k) => k.kid === header.kid);
const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
const good = header.alg === "RS256" &&
  crypto.verify("sha256", Buffer.from(h + "." + p), key, Buffer.from(s, "base64url")) &&
  claims.iss === iss && claims.aud === aud && claims.sub === sub &&
  claims.email === email && claims.exp > Date.now() / 1000;
if (!good) { console.error(JSON.stringify({ header, claims })); process.exit(1); }
' "$idt" "$work/jwks" "$issuer" "$client" alice alice@example.test
}
check "ID token: RS256 signature by jwks_uri, iss, aud, sub alice, email" verify_id_token

code=$(http GET "$userinfo_ep" -H "Authorization: Bearer $at1")
check "userinfo with the access token: sub alice, email alice@example.test" \
	eval '[ "$code" = 200 ] && is sub alice && is email alice@example.test'

# --- introspection (what Dovecot's oauth2 passdb does) ------------------------
code=$(introspect "$at1")
check "introspection as dovecot: active, sub and username alice, client_id" \
	eval '[ "$code" = 200 ] && is active true && is sub alice &&
	is username alice && is client_id "$client" && is token_type Bearer'

# storage is not a small LRU: 1200 more device authorizations (2400 stored
# entries; oidc-provider's own memory adapter keeps about 2000) must not
# evict alice's live token
flood() {
	node -e '
const [url, client, count] = process.argv.slice(1);
(async () => {
  for (let done = 0; done < Number(count); done += 100) {
    const replies = await Promise.all(Array.from({ length: 100 }, () =>
      fetch(url, { method: "POST", body: new URLSearchParams({ client_id: client, scope: "openid" }) })
        .then((r) => r.status)));
    if (replies.some((s) => s !== 200)) process.exit(1);
  }
})().catch(() => process.exit(1));
' "$device_ep" "$client" 1200 && [ "$(introspect "$at1")" = 200 ] && is active true
}
check "1200 device authorizations later the access token is still active" flood

code=$(http POST "$introspection_ep" -u "dovecot:wrong" --data-urlencode "token=$at1")
check "introspection with a wrong client secret: 401 invalid_client" \
	eval '[ "$code" = 401 ] && is error invalid_client'

code=$(introspect "not-a-token")
check "introspection of an unknown token: active false" \
	eval '[ "$code" = 200 ] && is active false'

# credentials in the URL, as in Dovecot's introspection_url
code=$(http POST "http://dovecot:$secret@127.0.0.1:$port/token/introspection" \
	--data-urlencode "token=$at1")
check "introspection with user:password in the URL (Basic): active" \
	eval '[ "$code" = 200 ] && is active true'

# --- refresh and rotation -----------------------------------------------------
code=$(token -d grant_type=refresh_token --data-urlencode "refresh_token=$rt1")
at2=$(jget "$work/body" access_token)
rt2=$(jget "$work/body" refresh_token)
check "refresh grant: a new access token and a new (rotated) refresh token" \
	eval '[ "$code" = 200 ] && [ -n "$at2" ] && [ "$at2" != "$at1" ] &&
	[ -n "$rt2" ] && [ "$rt2" != "$rt1" ] && is expires_in "$ttl"'

code=$(token -d grant_type=refresh_token --data-urlencode "refresh_token=$rt1")
check "the rotated-out refresh token is refused: 400 invalid_grant" \
	eval '[ "$code" = 400 ] && is error invalid_grant'

# oidc-provider treats reuse of a rotated refresh token as theft and revokes
# the whole grant (RFC 9700 4.14.2): the newer token dies as well
code=$(token -d grant_type=refresh_token --data-urlencode "refresh_token=$rt2")
check "after reuse of a rotated token the whole grant is revoked: 400 invalid_grant" \
	eval '[ "$code" = 400 ] && is error invalid_grant'

code=$(introspect "$at2")
check "an access token of the revoked grant introspects inactive" \
	eval '[ "$code" = 200 ] && is active false'

# --- a second sign-in: revocation, denial ---------------------------------------
start_device "openid email offline_access" &&
	"$here/approve-device.sh" "$uc" bob@example.test "$issuer" >"$work/approve.log" 2>&1
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
at3=$(jget "$work/body" access_token)
rt3=$(jget "$work/body" refresh_token)
code=$(introspect "$at3")
check "a login that is an address is sub and username as is" \
	eval '[ "$code" = 200 ] && is active true && is sub bob@example.test &&
	is username bob@example.test'

code=$(http POST "$revocation_ep" -d "client_id=$client" --data-urlencode "token=$rt3" \
	-d token_type_hint=refresh_token)
check "revocation of the refresh token by the public client: 200" \
	eval '[ "$code" = 200 ]'

code=$(token -d grant_type=refresh_token --data-urlencode "refresh_token=$rt3")
check "a revoked refresh token is refused: 400 invalid_grant" \
	eval '[ "$code" = 400 ] && is error invalid_grant'

start_device openid && "$here/approve-device.sh" --deny "$uc" alice "$issuer" >"$work/approve.log" 2>&1
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "a denied device authorization: 400 access_denied" \
	eval '[ "$code" = 400 ] && is error access_denied'

start_device openid && "$here/approve-device.sh" "$uc" carol "$issuer" >"$work/approve.log" 2>&1
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "without offline_access: an access token but no refresh token" \
	eval '[ "$code" = 200 ] && jget "$work/body" access_token >/dev/null &&
	! jget "$work/body" refresh_token >/dev/null'

# a device code used twice is a replay: refused, and the grant it made revoked
start_device openid && "$here/approve-device.sh" "$uc" dave "$issuer" >"$work/approve.log" 2>&1
token -d "grant_type=$device_grant" -d "device_code=$dc" >/dev/null
at5=$(jget "$work/body" access_token)
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "device code used twice: 400 invalid_grant" \
	eval '[ "$code" = 400 ] && is error invalid_grant'
code=$(introspect "$at5")
check "the access token of a replayed device code introspects inactive" \
	eval '[ -n "$at5" ] && [ "$code" = 200 ] && is active false'

# --- authorization code flow, native loopback redirect on any port ---------------
# pkce: a verifier and its S256 challenge, one per line
pkce() {
	node -e '
const c = require("crypto");
const v = c.randomBytes(32).toString("base64url");
console.log(v);
console.log(c.createHash("sha256").update(v).digest("base64url"));
'
}
# auth_url REDIRECT_URI CHALLENGE: the URL a native client opens
auth_url() {
	printf '%s/auth?client_id=%s&response_type=code&scope=%s&prompt=consent&state=st4te&redirect_uri=%s&code_challenge=%s&code_challenge_method=S256' \
		"$issuer" "$client" "openid%20email%20offline_access" \
		"$(printf '%s' "$1" | sed 's|:|%3A|g; s|/|%2F|g')" "$2"
}
pkce >"$work/pkce"
verifier=$(sed -n 1p "$work/pkce")
challenge=$(sed -n 2p "$work/pkce")
redirect=http://127.0.0.1:49152/
"$here/approve-authcode.sh" --no-deliver "$(auth_url "$redirect" "$challenge")" erin \
	>"$work/redirect" 2>"$work/approve.log"
rc=$?
authcode=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' "$work/redirect")
check "authorization code flow: redirect to the loopback port 49152 with code and state" \
	eval '[ "$rc" = 0 ] && [ -n "$authcode" ] &&
	grep -q "^http://127.0.0.1:49152/?.*state=st4te" "$work/redirect"'
code=$(token -d grant_type=authorization_code --data-urlencode "code=$authcode" \
	--data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier")
check "code exchange with the PKCE verifier: access and refresh token" \
	eval '[ "$code" = 200 ] && jget "$work/body" access_token >/dev/null &&
	jget "$work/body" refresh_token >/dev/null'

"$here/approve-authcode.sh" --no-deliver \
	"$(auth_url http://127.0.0.1:49152/elsewhere "$challenge")" erin \
	>"$work/redirect" 2>"$work/approve.log"
rc=$?
check "a loopback redirect_uri with an unregistered path is refused" \
	eval '[ "$rc" = 1 ] && grep -q -i "redirect_uri" "$work/approve.log"'

# delivery to a real loopback listener, as a browser would
node -e '
const http = require("http");
const fs = require("fs");
const s = http.createServer((req, res) => {
  fs.writeFileSync(process.argv[2], req.url);
  res.end("signed in\n");
  s.close();
});
s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[1], String(s.address().port)));
setTimeout(() => process.exit(1), 30000).unref();
' "$work/listener.port" "$work/listener.got" &
listener_pid=$!
i=0
while [ ! -s "$work/listener.port" ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
pkce >"$work/pkce"
redirect=http://127.0.0.1:$(cat "$work/listener.port")/
"$here/approve-authcode.sh" "$(auth_url "$redirect" "$(sed -n 2p "$work/pkce")")" erin \
	>"$work/redirect" 2>"$work/approve.log"
rc=$?
[ "$rc" = 0 ] || kill "$listener_pid" 2>/dev/null
wait "$listener_pid"
check "approve-authcode.sh delivers the code to the client's loopback listener" \
	eval '[ "$rc" = 0 ] && grep -q "^/?code=.*state=st4te" "$work/listener.got"'

# --- expiry: a second server with short-lived access tokens ---------------------
# Its device codes live the default 10 minutes: an approval on a loaded
# machine can take seconds, and must never race the code's expiry (a 5-second
# code here once expired before its approval was through).  The device-code
# expiry has a third server of its own, below.
check "SIGTERM stops the server with status 0" stop_oidc
bail_log=$work/s2/server.log
start_oidc "$work/s2" --access-ttl "$short_ttl" --dovecot-secret "$secret" \
	--interval 1 --enforce-interval
discover
# a device code polled twice in a row, never approved
start_device openid
check "--interval 1: the device authorization response says interval 1" is interval 1
token -d "grant_type=$device_grant" -d "device_code=$dc" >/dev/null
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "--enforce-interval: a second poll within the interval gets 400 slow_down" \
	eval '[ "$code" = 400 ] && is error slow_down'
start_device openid && "$here/approve-device.sh" "$uc" carol "$issuer" >"$work/approve.log" 2>&1
token -d "grant_type=$device_grant" -d "device_code=$dc" >/dev/null
at4=$(jget "$work/body" access_token)
issued=$(date +%s)
code=$(introspect "$at4")
check "a fresh ${short_ttl}-second access token introspects active" \
	eval '[ -n "$at4" ] && [ "$code" = 200 ] && is active true && is sub carol'
# wait until its lifetime is over (plus up to two seconds of rounding)
left=$((issued + short_ttl + 2 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
code=$(introspect "$at4")
check "after ${short_ttl} s it has expired: active false" \
	eval '[ "$code" = 200 ] && is active false'

# --- expiry of a device code: a third server, with 5-second device codes --------
stop_oidc
bail_log=$work/s3/server.log
start_oidc "$work/s3" --device-ttl "$device_ttl"
discover
start_device openid
issued=$(date +%s)
left=$((issued + device_ttl + 1 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
code=$(token -d "grant_type=$device_grant" -d "device_code=$dc")
check "polling a device code after its ${device_ttl} s: 400 expired_token" \
	eval '[ "$code" = 400 ] && is error expired_token'

tap_done
