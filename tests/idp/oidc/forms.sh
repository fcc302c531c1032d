# shellcheck shell=sh disable=SC2154 # me and base come from the caller
# Shared by approve-device.sh and approve-authcode.sh (sourced, not run):
# drive oidc-provider's HTML pages with curl the way a browser would.
#
# The caller sets: me (name for messages), base (the issuer, no trailing
# slash). forms_init makes a private folder with a cookie jar; every page
# lands in $page. Redirects are followed by hand, and only inside the
# issuer: a redirect that leaves it (to the client's redirect_uri) ends the
# walk and is left in $left_to.

forms_init() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/approve.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	jar=$work/cookies
	page=$work/page.html
	: >"$jar"
	left_to=
}

fail() {
	echo "$me: $*" >&2
	if [ -s "$page" ]; then
		# the provider's pages say what went wrong in their text
		sed -n 's/<[^>]*>//g; /[a-z]/p' "$page" | grep -i -m 5 \
			'incorrect\|interrupted\|expired\|invalid\|error\|not found\|went wrong' >&2 || true
	fi
	exit 1
}

# fetch URL [curl args...]: one request, then its redirects inside the
# issuer (GET, at most 10); body in $page; sets left_to when a redirect
# points elsewhere
fetch() {
	url=$1
	shift
	left_to=
	hops=0
	while :; do
		next=$(curl -sS --noproxy '*' --max-time 20 -c "$jar" -b "$jar" -o "$page" \
			-w '%{redirect_url}' "$@" "$url") || fail "request to $url failed"
		[ -n "$next" ] || return 0
		case $next in
		"$base"/*) ;;
		*)
			left_to=$next
			return 0
			;;
		esac
		hops=$((hops + 1))
		[ $hops -le 10 ] || fail "too many redirects from $url"
		url=$next
		set --
	done
}

# field NAME: the value of the hidden input NAME in $page
field() {
	sed -n "s/.*name=\"$1\" value=\"\\([^\"]*\\)\".*/\\1/p" "$page" | head -n 1
}

# form_action: the action of the first <form> in $page
form_action() {
	sed -n 's/.*<form[^>]* action="\([^"]*\)".*/\1/p' "$page" | head -n 1
}

# interact LOGIN: answer the login and consent prompts of /interaction/<uid>
# until a page without them (or a redirect out of the issuer) comes
interact() {
	for _ in 1 2 3 4 5; do
		[ -z "$left_to" ] || return 0
		prompt=$(field prompt)
		action=$(form_action)
		case $prompt in
		login)
			fetch "$action" -d prompt=login --data-urlencode "login=$1" \
				-d password=test
			;;
		consent)
			fetch "$action" -d prompt=consent
			;;
		*)
			return 0
			;;
		esac
	done
	fail "still asked to log in or consent after 5 rounds"
}
