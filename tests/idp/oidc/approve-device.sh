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

me=approve-device
. "$(dirname "$0")/forms.sh"
forms_init

# 1. the verification URI with the code: an auto-submitting form
fetch "$base/device?user_code=$user_code"
xsrf=$(field xsrf)
[ -n "$xsrf" ] || fail "no xsrf token on $base/device"

# 2. submit the code: the "Confirm Device" page
fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
	--data-urlencode "user_code=$user_code"
grep -q 'op.deviceConfirmForm' "$page" || fail "user code $user_code not accepted"
xsrf=$(field xsrf)

# 3. confirm (or abort)
if [ "$deny" = 1 ]; then
	fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
		--data-urlencode "user_code=$user_code" -d confirm=yes -d abort=yes
	grep -q -i 'interrupted\|aborted\|denied' "$page" || fail "deny was not acknowledged"
	echo "$me: $user_code denied"
	exit 0
fi
fetch "$base/device" --data-urlencode "xsrf=$xsrf" \
	--data-urlencode "user_code=$user_code" -d confirm=yes

# 4. the interaction prompts (login, then consent)
interact "$login"
[ -z "$left_to" ] || fail "unexpected redirect to $left_to"
grep -q 'Sign-in Success' "$page" || fail "no success page after the login and consent forms"
echo "$me: $user_code approved for $login"
