#!/bin/bash
# deliver-replies.sh - `mail2cups deliver` sends the replies the account is
# configured for, as a pass of the poller does (replies.sh): an
# authenticated sender who may print gets an "accepted" reply; a refused
# (denied) one, authenticated, a "rejected" reply, and the MDA exits 0 (no
# bounce); a sender the mail server did not authenticate gets no reply at
# all (backscatter to a forged address), whatever happened.  Driven as
# Postfix pipe(8) drives it, replies through the SMTP sink.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup_deliver authserv_id='"mx.rig.test"' reply='[ "accepted", "rejected" ]' \
	deny_senders='[ "mallory@example.com" ]'
rig_start_smtp
rig_conf_smtp "$RIG_CONF"
rig_conf_global "$RIG_CONF" replies "{ from = \"print@example.org\"; }"
d=$RIG_DIR

# deliver NAME FROM AUTH: a PDF mail from FROM (Authentication-Results:
# AUTH) through mail2cups deliver, as Postfix hands it over.
deliver() {
	rig_mkmail pdf "$d/$1.pdf" "$1.pdf" &&
		rig_mkmail mail "$d/$1.eml" --from "$2" --auth "$3" --subject "about $1" \
			--attach "$d/$1.pdf" || bail "mkmail failed"
	rig_postfix_in "$d/$1.eml" >"$d/$1.in"
	rig_run deliver -a test -f "$2" -r print@example.org <"$d/$1.in"
}
replies_to() {
	rig_smtp_to "$1" | grep -c . || true
}
# expect_reply ADDR SUBJECT DESC: ADDR got exactly one reply, its Subject
# SUBJECT; REPLY is its file.
expect_reply() {
	local got
	mapfile -t got < <(rig_smtp_to "$1")
	is "${#got[@]}" 1 "... $1 got one reply"
	REPLY=${got[0]:-}
	is "$(rig_smtp_header "$REPLY" Subject 2>/dev/null)" "$2" "... $3"
}

# 1. bob may print: printed, one accepted reply.
deliver ok bob@example.com pass
expect_rc 0 "an allowed sender: exit 0"
expect_printed "... printed" "$d/ok.pdf"
expect_reply bob@example.com "Printing: about ok" "the accepted reply"
like "$(rig_smtp_header "$REPLY" From)" 'print@example\.org' "... from replies.from"

# 2. mallory is denied: nothing printed, exit 0, one rejected reply.
deliver denied mallory@example.com pass
expect_rc 0 "a refused sender: exit 0 (no bounce)"
is "$(rig_job_count)" 1 "... nothing printed"
expect_reply mallory@example.com "Not printed: about denied" "the rejected reply"
like "$(rig_smtp_body "$REPLY")" "not allowed" "... saying why in plain words"

# 3. A sender the mail server did not vouch for: no reply, printed or not.
deliver forged carol@elsewhere.example fail
expect_rc 0 "an unauthenticated sender who may not print: exit 0"
deliver unverified dave@example.com fail
expect_rc 0 "an unauthenticated sender who may print: exit 0"
is "$(replies_to carol@elsewhere.example)/$(replies_to dave@example.com)" 0/0 \
	"neither got a reply (no backscatter to a forged address)"
is "$(rig_smtp_count)" 2 "two replies in all"
tap_done
