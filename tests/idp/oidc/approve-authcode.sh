#!/bin/sh
# Play the browser for an authorization code flow on the test OpenID
# provider (server.mjs): open the authorization URL a client printed, sign
# in as LOGIN (any password), consent, and follow the provider's redirect
# to the client's redirect_uri (for a native client, its loopback listener
# http://127.0.0.1:ANYPORT/).
#
#   approve-authcode.sh [--no-deliver] AUTH_URL LOGIN
#
# Prints the redirect URL (with code and state, or error) on stdout. Unless
# --no-deliver, it then GETs that URL as the browser would, so the client's
# listener receives the code. Exit 0 when the redirect carries a code, 1
# otherwise (an error redirect, an error page, a listener that fails).

set -eu

deliver=1
if [ "${1:-}" = "--no-deliver" ]; then
	deliver=0
	shift
fi
if [ $# -ne 2 ]; then
	echo "usage: $0 [--no-deliver] AUTH_URL LOGIN" >&2
	exit 64
fi
auth_url=$1
login=$2
# the issuer is the scheme://host:port of the authorization URL
base=$(printf '%s\n' "$auth_url" | sed -n 's|^\(https\{0,1\}://[^/]*\)/.*|\1|p')
[ -n "$base" ] || {
	echo "$0: not an http(s) URL: $auth_url" >&2
	exit 64
}

me=approve-authcode
. "$(dirname "$0")/forms.sh"
forms_init

fetch "$auth_url"
interact "$login"
[ -n "$left_to" ] || fail "the provider did not redirect back to the client"
printf '%s\n' "$left_to"
case $left_to in
*[?\&]code=*) ;;
*) fail "redirect without a code: $left_to" ;;
esac
if [ "$deliver" = 1 ]; then
	curl -sS --noproxy '*' --max-time 20 -o /dev/null -f "$left_to" ||
		fail "delivering the code to $left_to failed"
fi
exit 0
