#!/bin/bash
# Self-test of the fake Microsoft identity provider (tests/idp/fake_idp.py).
# Starts it on a free port and drives it with curl.  Output is TAP.
# Needs: python3 (+ python3-cryptography), curl, openssl.

set -u

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fake-idp-selftest.XXXXXX")
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

. "$here/../rig/tap.sh"
# okrc STATUS DESCRIPTION: ok when STATUS (a check's exit status) is 0, else
# not ok with the last response body
okrc() {
	if [ "$1" -eq 0 ]; then
		ok "$2"
	else
		not_ok "$2" "$(head -c 2000 "$work/body" 2>/dev/null)"
	fi
}

# ---- keys and certificates, made fresh for this run ----
mkcert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$work/$1.key" -out "$work/$1.pem" >/dev/null 2>&1
}
mkcert app
mkcert other

TID=11111111-2222-3333-4444-555555555555
PUB=aaaaaaaa-0000-0000-0000-000000000001
CONF=aaaaaaaa-0000-0000-0000-000000000002
DAEMON=aaaaaaaa-0000-0000-0000-000000000003
OLDSECRET=aaaaaaaa-0000-0000-0000-000000000004
SECRET='s3cr3t~value'
OUTLOOK=https://outlook.office.com
SCOPES="$OUTLOOK/IMAP.AccessAsUser.All $OUTLOOK/SMTP.Send offline_access openid profile email"

cat >"$work/config.json" <<EOF
{
  "tenants": {
    "contoso.onmicrosoft.com": {
      "id": "$TID",
      "default_user": "alice@contoso.com",
      "apps": {
        "$PUB": {"name": "mail2cups", "public_client": true,
                 "redirect_uris": ["http://localhost"]},
        "$CONF": {"name": "confidential", "public_client": false},
        "$DAEMON": {"name": "daemon", "secret": "$SECRET",
                    "certificates": ["$work/app.pem"],
                    "app_only_username": "printer@contoso.com"},
        "$OLDSECRET": {"name": "old", "secret": "x", "secret_expired": true}
      },
      "users": {
        "alice@contoso.com": {"name": "Alice"},
        "bob@contoso.com": {"name": "Bob"},
        "carol@contoso.com": {"name": "Carol", "mfa": true},
        "dave@contoso.com": {"fail_code": 53003}
      }
    }
  },
  "access_token_lifetime": 3599,
  "device_code_lifetime": 900,
  "interval": 1
}
EOF

python3 "$here/fake_idp.py" --port 0 --port-file "$work/port" \
	--config "$work/config.json" 2>"$work/server.log" &
pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -s "$work/port" ]; then
	bail "fake_idp.py did not start: $(tail -5 "$work/server.log")"
fi
PORT=$(cat "$work/port")
BASE=http://127.0.0.1:$PORT
TOK=$BASE/contoso.onmicrosoft.com/oauth2/v2.0/token
DEV=$BASE/contoso.onmicrosoft.com/oauth2/v2.0/devicecode

# post URL [curl args...]: body in $work/body, status in $status
post() {
	url=$1
	shift
	: >"$work/body"
	status=$(curl -sS -o "$work/body" -w '%{http_code}' "$@" "$url")
}
tpost() {	# POST JSON to a /test endpoint
	post "$BASE/test/$1" -H 'Content-Type: application/json' -d "$2"
}
# j EXPR: evaluate a Python expression on the JSON body, bound to b
j() {
	python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$work/body" "$1" 2>/dev/null
}
# jt EXPR: exit status 0 when the expression is true
jt() {
	[ "$(j "bool($1)")" = True ]
}
claims() {	# claims JWT-EXPR: decoded payload of a JWT in the body, printed as JSON
	python3 -c '
import base64, json, sys
b = json.load(open(sys.argv[1]))
p = eval(sys.argv[2]).split(".")[1]
print(json.dumps(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))))' \
		"$work/body" "$1"
}
# is_ms_error STATUS ERROR CODE: status and body shaped like Microsoft's
is_ms_error() {
	[ "$status" = "$1" ] && jt "b['error'] == '$2' and b['error_codes'] == [$3] \
		and b['error_description'].startswith('AADSTS$3: ') \
		and '\r\nTrace ID: ' in b['error_description'] \
		and '\r\nCorrelation ID: ' in b['error_description'] \
		and '\r\nTimestamp: ' in b['error_description'] \
		and len(b['trace_id']) == 36 and len(b['correlation_id']) == 36 \
		and len(b['timestamp']) == 20 and b['timestamp'].endswith('Z') \
		and b['error_uri'] == 'https://login.microsoftonline.com/error?code=$3'"
}
device_start() {	# device_start CLIENT: sets $dc and $uc
	post "$DEV" --data-urlencode "client_id=$1" --data-urlencode "scope=$SCOPES"
	dc=$(j "b['device_code']")
	uc=$(j "b['user_code']")
}
poll() {	# poll CLIENT [extra curl args]
	c=$1
	shift
	post "$TOK" --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:device_code" \
		--data-urlencode "client_id=$c" --data-urlencode "device_code=$dc" "$@"
}

# ---- device code flow ----
device_start "$PUB"
[ "$status" = 200 ] && jt "len(b['user_code']) == 9 and b['verification_uri'] == 'https://microsoft.com/devicelogin' \
	and b['expires_in'] == 900 and b['interval'] == 1 and b['user_code'] in b['message'] \
	and b['message'].startswith('To sign in, use a web browser')"
okrc $? "devicecode answers user_code, device_code, verification_uri, expires_in, interval, message"

poll "$PUB"
is_ms_error 400 authorization_pending 70016
okrc $? "first poll: authorization_pending, AADSTS70016, Microsoft error shape"

post "$BASE/test/pending"
jt "'$uc' in [p['user_code'] for p in b]"
okrc $? "/test/pending lists the user code"

tpost approve "{\"user_code\": \"$uc\", \"user\": \"bob@contoso.com\"}"
sleep 1.1
poll "$PUB"
cp "$work/body" "$work/device-tokens"
[ "$status" = 200 ] && jt "b['token_type'] == 'Bearer' and b['expires_in'] == 3599 and b['ext_expires_in'] == 3599 \
	and b['access_token'].count('.') == 2 and b['refresh_token'] and b['id_token'] \
	and b['scope'] == '$OUTLOOK/IMAP.AccessAsUser.All $OUTLOOK/SMTP.Send'"
okrc $? "approved: tokens with Bearer, scope, expires_in, ext_expires_in, refresh_token, id_token"

idc=$(claims "b['id_token']")
echo "$idc" >"$work/body"
jt "b['preferred_username'] == 'bob@contoso.com' and b['email'] == 'bob@contoso.com' \
	and b['aud'] == '$PUB' and b['tid'] == '$TID' and b['ver'] == '2.0' \
	and b['iss'] == 'https://login.microsoftonline.com/$TID/v2.0' and b['name'] == 'Bob' and b['oid']"
okrc $? "id_token carries the approving user (preferred_username, email, aud, iss, tid)"

cp "$work/device-tokens" "$work/body"
atc=$(claims "b['access_token']")
echo "$atc" >"$work/body"
jt "b['aud'] == '$OUTLOOK' and b['upn'] == 'bob@contoso.com' and b['unique_name'] == 'bob@contoso.com' \
	and b['scp'] == 'IMAP.AccessAsUser.All SMTP.Send' and b['iss'] == 'https://sts.windows.net/$TID/' \
	and b['exp'] > b['iat'] and b['appid'] == '$PUB'"
okrc $? "access token claims: aud, iss, upn, unique_name, scp, tid, exp"

sleep 1.1
poll "$PUB"
is_ms_error 400 invalid_grant 70000
okrc $? "a redeemed device code cannot be used twice"

# slow_down: two polls back to back, then the interval grows by 5 s
device_start "$PUB"
poll "$PUB"
poll "$PUB"
is_ms_error 400 slow_down 70016
okrc $? "polling faster than the interval: slow_down"
post "$BASE/test/pending"
jt "[p['interval'] for p in b if p['user_code'] == '$uc'] == [6]"
okrc $? "after slow_down the interval is 5 s longer (/test/pending says 6)"

device_start "$PUB"
tpost decline "{\"user_code\": \"$uc\"}"
poll "$PUB"
[ "$status" = 400 ] && [ "$(j "b['error']")" = authorization_declined ]
okrc $? "declined: authorization_declined"

device_start "$PUB"
tpost expire-device "{\"user_code\": \"$uc\"}"
poll "$PUB"
is_ms_error 400 expired_token 70020
okrc $? "expired: expired_token, AADSTS70020"

for who in carol:50076 dave:53003; do
	device_start "$PUB"
	tpost approve "{\"user_code\": \"$uc\", \"user\": \"${who%%:*}@contoso.com\"}"
	poll "$PUB"
	is_ms_error 400 invalid_grant "${who#*:}"
	okrc $? "user ${who%%:*} is refused with AADSTS${who#*:} (per-user fail_code / mfa)"
done

dc=not-a-device-code
poll "$PUB"
[ "$status" = 400 ] && [ "$(j "b['error']")" = bad_verification_code ]
okrc $? "unknown device code: bad_verification_code"

device_start "$CONF"
poll "$CONF"
is_ms_error 401 invalid_client 7000218
okrc $? "not a public client, no secret: 401 AADSTS7000218"

post "$BASE/nosuch.example/oauth2/v2.0/devicecode" -d "client_id=$PUB" --data-urlencode "scope=$SCOPES"
is_ms_error 400 invalid_request 90002
okrc $? "unknown tenant: AADSTS90002"

post "$DEV" -d "client_id=bbbbbbbb-0000-0000-0000-000000000000" --data-urlencode "scope=$SCOPES"
is_ms_error 400 unauthorized_client 700016
okrc $? "unknown client: AADSTS700016"

post "$BASE/common/oauth2/v2.0/devicecode" -d "client_id=$PUB" --data-urlencode "scope=$SCOPES"
is_ms_error 400 invalid_request 50194
okrc $? "single-tenant app on /common: AADSTS50194"

# ---- refresh with rotation ----
cp "$work/device-tokens" "$work/body"
rt1=$(j "b['refresh_token']")
refresh() {
	post "$TOK" -d grant_type=refresh_token --data-urlencode "client_id=$PUB" \
		--data-urlencode "refresh_token=$1" --data-urlencode "scope=$SCOPES"
}
refresh "$rt1"
rt2=$(j "b['refresh_token']")
[ "$status" = 200 ] && [ -n "$rt2" ] && [ "$rt2" != "$rt1" ]
okrc $? "refresh: new access token and a rotated refresh token"
refresh "$rt1"
is_ms_error 400 invalid_grant 70000
okrc $? "the old refresh token is refused after rotation (AADSTS70000)"
refresh "garbage"
[ "$status" = 400 ] && [ "$(j "b['error']")" = invalid_grant ]
okrc $? "a malformed refresh token is refused"

tpost revoke '{"user": "bob@contoso.com"}'
refresh "$rt2"
is_ms_error 400 invalid_grant 50173
okrc $? "revoked refresh token: AADSTS50173"

# a fresh sign-in for alice, then expire her refresh token
device_start "$PUB"
tpost approve "{\"user_code\": \"$uc\"}"
poll "$PUB"
rt3=$(j "b['refresh_token']")
tpost expire-refresh '{"user": "alice@contoso.com"}'
refresh "$rt3"
is_ms_error 400 invalid_grant 700082
okrc $? "expired refresh token: AADSTS700082"

# ---- client credentials with a secret ----
cc() {	# cc CLIENT [extra curl args]
	c=$1
	shift
	post "$TOK" -d grant_type=client_credentials --data-urlencode "client_id=$c" \
		--data-urlencode "scope=${SCOPE_CC:-https://outlook.office365.com/.default}" "$@"
}
cc "$DAEMON" --data-urlencode "client_secret=$SECRET"
cp "$work/body" "$work/cc"
[ "$status" = 200 ] && jt "'refresh_token' not in b and b['token_type'] == 'Bearer'"
okrc $? "client credentials with a secret: app-only token, no refresh token"
atc=$(claims "b['access_token']")
echo "$atc" >"$work/body"
jt "b['roles'] == ['IMAP.AccessAsApp'] and b['aud'] == 'https://outlook.office365.com' and b['idtyp'] == 'app'"
okrc $? "app-only token has roles IMAP.AccessAsApp"

cc "$DAEMON" --data-urlencode "client_secret=wrong"
is_ms_error 401 invalid_client 7000215
okrc $? "wrong client secret: 401 AADSTS7000215"
cc "$OLDSECRET" --data-urlencode "client_secret=x"
is_ms_error 401 invalid_client 7000222
okrc $? "expired client secret: 401 AADSTS7000222"
SCOPE_CC=https://outlook.office365.com/IMAP.AccessAsApp cc "$DAEMON" --data-urlencode "client_secret=$SECRET"
is_ms_error 400 invalid_scope 1002012
okrc $? "client credentials scope without /.default: AADSTS1002012"

# ---- client credentials with a certificate (client assertion) ----
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# assertion ALG KEYFILE CERTFILE: prints a signed JWT
assertion() {
	alg=$1
	der=$(openssl x509 -in "$3" -outform DER | openssl dgst -"$([ "$alg" = PS256 ] && echo sha256 || echo sha1)" -binary | b64url)
	if [ "$alg" = PS256 ]; then
		hdr="{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"$der\"}"
		sigopt="-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest"
	else
		hdr="{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"$der\"}"
		sigopt=
	fi
	now=$(date +%s)
	pl="{\"aud\":\"$TOK\",\"iss\":\"$DAEMON\",\"sub\":\"$DAEMON\",\"jti\":\"$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')\",\"nbf\":$now,\"iat\":$now,\"exp\":$((now + 600))}"
	input="$(printf '%s' "$hdr" | b64url).$(printf '%s' "$pl" | b64url)"
	# shellcheck disable=SC2086
	sig=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$2" $sigopt -binary | b64url)
	printf '%s.%s' "$input" "$sig"
}
ca() {
	cc "$DAEMON" --data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
		--data-urlencode "client_assertion=$1"
}
ca "$(assertion RS256 "$work/app.key" "$work/app.pem")"
[ "$status" = 200 ] && jt "b['access_token']"
okrc $? "client assertion RS256 with x5t accepted"
ca "$(assertion PS256 "$work/app.key" "$work/app.pem")"
[ "$status" = 200 ] && jt "b['access_token']"
okrc $? "client assertion PS256 with x5t#S256 accepted"
# right thumbprint, signed with another key
ca "$(assertion PS256 "$work/other.key" "$work/app.pem")"
is_ms_error 401 invalid_client 700027 && jt "'invalid signature' in b['error_description']"
okrc $? "assertion with a bad signature: 401 AADSTS700027"
ca "$(assertion RS256 "$work/other.key" "$work/other.pem")"
is_ms_error 401 invalid_client 700027 && jt "'not registered' in b['error_description']"
okrc $? "assertion with an unregistered certificate: 401 AADSTS700027"

# ---- authorization code with PKCE ----
verifier=$(openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n')
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | b64url)
authorize() {	# authorize REDIRECT_URI: sets $location
	status=$(curl -sS -o "$work/body" -w '%{http_code}' -G \
		--data-urlencode "client_id=$PUB" --data-urlencode response_type=code \
		--data-urlencode "redirect_uri=$1" --data-urlencode "scope=$SCOPES" \
		--data-urlencode state=xyz123 --data-urlencode "code_challenge=$challenge" \
		--data-urlencode code_challenge_method=S256 \
		-D "$work/headers" "$BASE/contoso.onmicrosoft.com/oauth2/v2.0/authorize")
	location=$(sed -n 's/^[Ll]ocation: *//p' "$work/headers" | tr -d '\r')
}
qparam() {	# qparam URL NAME
	python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.argv[1]).query).get(sys.argv[2], [""])[0])' "$1" "$2"
}
tpost next-user '{"user": "bob@contoso.com"}'
RURI=http://127.0.0.1:43127/
authorize "$RURI"
code=$(qparam "$location" code)
[ "$status" = 302 ] && [ -n "$code" ] && [ "$(qparam "$location" state)" = xyz123 ] \
	&& case "$location" in "$RURI"\?*) true ;; *) false ;; esac
okrc $? "authorize: 302 to the loopback redirect URI (any port) with code and state"
exchange() {
	post "$TOK" -d grant_type=authorization_code --data-urlencode "client_id=$PUB" \
		--data-urlencode "code=$1" --data-urlencode "redirect_uri=$RURI" \
		--data-urlencode "code_verifier=$2" --data-urlencode "scope=$SCOPES"
}
exchange "$code" "wrong-verifier-wrong-verifier-wrong-verifier-0123"
is_ms_error 400 invalid_grant 501481
okrc $? "code exchange with the wrong code_verifier: AADSTS501481"
authorize "$RURI"
code=$(qparam "$location" code)
exchange "$code" "$verifier"
[ "$status" = 200 ] && [ "$(claims "b['id_token']" | python3 -c 'import json,sys; print(json.load(sys.stdin)["preferred_username"])')" = bob@contoso.com ]
okrc $? "code exchange with the right code_verifier: tokens for the signed-in user"
cp "$work/body" "$work/code-tokens"
exchange "$code" "$verifier"
is_ms_error 400 invalid_grant 54005
okrc $? "an authorization code is redeemed only once"

authorize "https://evil.example/cb"
[ "$status" = 400 ] && grep -q 'AADSTS50011' "$work/body" && [ -z "$location" ]
okrc $? "unregistered redirect URI: HTML error page AADSTS50011, no redirect"

tpost fail '{"code": 53003, "endpoint": "authorize"}'
authorize "$RURI"
[ "$status" = 302 ] && [ "$(qparam "$location" error)" = invalid_grant ] \
	&& [ "$(qparam "$location" state)" = xyz123 ] \
	&& case "$(qparam "$location" error_description)" in AADSTS53003:*) true ;; *) false ;; esac
okrc $? "injected error at authorize: redirect with error, error_description and state"

# ---- injected errors ----
tpost fail '{"code": 65001, "endpoint": "token", "count": 1}'
cp "$work/device-tokens" "$work/body"
refresh "$rt2"
is_ms_error 400 invalid_grant 65001 && jt "b.get('suberror') == 'consent_required'"
okrc $? "injected AADSTS65001: Microsoft error shape"
for code in 7000218 70020 70000 65001 50076 50079 53003 700016 90002 50194 \
	7000215 7000222 700027 500011 700082 50173 70043; do
	tpost fail "{\"code\": $code, \"endpoint\": \"token\"}"
	refresh "$rt2"
	is_ms_error "$status" "$(j "b['error']")" "$code" || break
done
[ "$code" = 70043 ]
okrc $? "every mapped error can be injected at the token endpoint (stopped at $code)"
tpost fail '{"code": 53003, "endpoint": "devicecode"}'
post "$DEV" -d "client_id=$PUB" --data-urlencode "scope=$SCOPES"
is_ms_error 400 invalid_grant 53003
okrc $? "injected error at the devicecode endpoint"

# ---- introspection ----
cp "$work/code-tokens" "$work/body"
at=$(j "b['access_token']")
post "$BASE/introspect" --data-urlencode "token=$at"
jt "b['active'] is True and b['username'] == 'bob@contoso.com' and b['exp'] > 0"
okrc $? "introspection: active, username is the user's UPN"
post "$BASE/introspect" -H "Authorization: Bearer $at"
jt "b['active'] is True"
okrc $? "introspection also takes the token from a Bearer header"
post "$BASE/introspect" --data-urlencode "token=nonsense"
jt "b == {'active': False}"
okrc $? "introspection of an unknown token: active false"
cp "$work/cc" "$work/body"
at=$(j "b['access_token']")
post "$BASE/introspect" --data-urlencode "token=$at"
jt "b['active'] is True and b['username'] == 'printer@contoso.com'"
okrc $? "introspection of an app-only token names the configured mailbox"

# ---- discovery ----
post "$BASE/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
jt "b['token_endpoint'] == '$TOK' and b['device_authorization_endpoint'] == '$DEV' \
	and b['authorization_endpoint'].startswith('$BASE/') and b['issuer'].endswith('/$TID/v2.0')"
okrc $? "OpenID discovery points at this server"

# ---- stats ----
tpost reset-stats '{}'
curls=
for i in 1 2 3; do
	curl -sS -o /dev/null -d grant_type=client_credentials --data-urlencode "client_id=$DAEMON" \
		--data-urlencode "scope=https://outlook.office365.com/.default" \
		--data-urlencode "client_secret=$SECRET" "$TOK" &
	curls="$curls $!"
done
# shellcheck disable=SC2086
wait $curls
post "$BASE/test/stats"
jt "b['endpoints'].get('token') == 3 and b['grant_types'].get('client_credentials') == 3 \
	and 'refresh_token' not in b['grant_types']"
okrc $? "stats count requests per endpoint and per grant_type after a reset"

r=0
grep -q -e "$SECRET" -e "$rt1" -e "$verifier" "$work/server.log" && r=1
okrc $r "the server log contains no secret, refresh token or code verifier"

tap_done
