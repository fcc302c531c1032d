#!/bin/sh
# Complete (or deny) a pending device authorization on the test OpenID
# provider (server.mjs) headlessly, the way a person would in a browser:
#
#   approve-device.sh [--deny] USER_CODE LOGIN [BASE_URL]
#
# BASE_URL is the issuer (http://127.0.0.1:PORT); default $OIDC_ISSUER.
# Steps, scripted against oidc-provider's own HTML forms with a cookie jar:
#   GET  /device?user_code=CODE   auto-submit form: xsrf + user_code
#   POST /device                  confirm form: xsrf + user_code + confirm=yes
#   POST /device (confirm=yes)    303 to /interaction/<uid>: the login form
#   POST /interaction/<uid>       prompt=login, login=LOGIN, password=any
#   POST /interaction/<uid>       prompt=consent (the consent form)
#   ... until the "Sign-in Success" page.
# With --deny the confirm form is submitted with abort=yes instead, so the
# device's next token poll gets access_denied.
# Exit 0 on success; 1 with the page's error text on stderr otherwise.

set -eu

deny=0
if [ "${1:-}" = "--deny" ]; then
	deny=1
	shift
fi
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 [--deny] USER_CODE LOGIN [BASE_URL]" >&2
	exit 64
fi
user_code=$1
login=$2
base=${3:-${OIDC_ISSUER:-}}
if [ -z "$base" ]; then
	echo "$0: no BASE_URL given and OIDC_ISSUER is not set" >&2
	exit 64
fi
base=${base%/}

work=$(mktemp -d "${TMPDIR:-/tmp}/approve.XXXXXX")
trap 'rm -rf "$work"' EXIT
jar=$work/cookies
page=$work/page.html
: >"$jar"

fail() {
	echo "approve-device: $*" >&2
	if [ -s "$page" ]; then
		# the provider's error pages say what went wrong in <h1>/<p>/<pre>
		sed -n 's/<[^>]*>//g; /[a-z]/p' "$page" | grep -i -m 5 \
			'incorrect\|interrupted\|expired\|invalid\|error\|not found\|went wrong' >&2 || true
	fi
	exit 1
}

# fetch URL [curl args...]: body to $page, final URL on stdout
fetch() {
	url=$1
	shift
	curl -sS -L --max-redirs 10 --max-time 20 -c "$jar" -b "$jar" \
		-o "$page" -w '%{url_effective} %{http_code}' "$@" "$url" ||
		fail "request to $url failed"
}

# field NAME: the value of the hidden input NAME in $page
field() {
	sed -n "s/.*name=\"$1\" value=\"\\([^\"]*\\)\".*/\\1/p" "$page" | head -n 1
}

# form_action: the action of the first <form> in $page
form_action() {
	sed -n 's/.*<form[^>]* action="\([^"]*\)".*/\1/p' "$page" | head -n 1
}

# 1. the verification URI with the code: an auto-submitting form
fetch "$base/device?user_code=$user_code" >/dev/null
xsrf=$(field xsrf)
[ -n "$xsrf" ] || fail "no xsrf token on $base/device"

# 2. submit the code: the "Confirm Device" page
fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
	--data-urlencode "user_code=$user_code" >/dev/null
grep -q 'op.deviceConfirmForm' "$page" || fail "user code $user_code not accepted"
xsrf=$(field xsrf)

# 3. confirm (or abort)
if [ "$deny" = 1 ]; then
	fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
		--data-urlencode "user_code=$user_code" -d confirm=yes \
		-d abort=yes >/dev/null
	grep -q -i 'interrupted\|aborted\|denied' "$page" || fail "deny was not acknowledged"
	echo "approve-device: $user_code denied"
	exit 0
fi
fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
	--data-urlencode "user_code=$user_code" -d confirm=yes >/dev/null

# 4. the interaction prompts (login, then consent), a few rounds at most
for _ in 1 2 3 4 5; do
	if grep -q 'Sign-in Success' "$page"; then
		echo "approve-device: $user_code approved for $login"
		exit 0
	fi
	prompt=$(field prompt)
	action=$(form_action)
	case $prompt in
	login)
		fetch "$action" -d prompt=login --data-urlencode "login=$login" \
			-d password=test >/dev/null
		;;
	consent)
		fetch "$action" -d prompt=consent >/dev/null
		;;
	*)
		fail "unexpected page (no login or consent form)"
		;;
	esac
done
fail "no success page after the login and consent forms"
