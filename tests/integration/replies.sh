#!/bin/bash
# replies.sh - replies by SMTP (STARTTLS to a local sink) with
# authserv_id = "mx.rig.test": an accepted reply (job ids, unknown tag
# notes; "lp -i" for a held job) and a printed reply once the jobs have
# completed (on a later pass), a rejected reply to an authenticated but
# denied sender; each To the sender, Auto-Submitted: auto-replied,
# In-Reply-To and References set, Subject naming the original.  No reply
# ever to an unauthenticated sender (printed or rejected), to
# Auto-Submitted, list or mailer-daemon mail.  rate_limit = 1: a second
# message from the same sender gets no reply.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
conf() {
	rig_write_conf "$RIG_CONF" authserv_id='"mx.rig.test"' \
		reply='[ "accepted", "rejected", "failed", "printed" ]' \
		deny_senders='[ "mallory@example.com" ]'
	rig_conf_smtp "$RIG_CONF"
	rig_conf_global "$RIG_CONF" replies "{ from = \"print@example.com\"; rate_limit = $1; }"
}
rig_setup
rig_start_smtp
conf 10
d=$RIG_DIR
rig_deliver_pdf "$d/bob.pdf" --from bob@example.com --auth pass --message-id a1@example.com \
	--subject 'Quarterly report [2 copies] #frobnicate'
rig_deliver_pdf "$d/carol.pdf" --from carol@example.com --auth pass --message-id b1@example.com \
	--subject 'Payslips #hold'
rig_deliver_pdf "$d/mallory.pdf" --from mallory@example.com --auth pass \
	--message-id c1@example.com --subject 'Invoice'
rig_deliver_pdf "$d/dave.pdf" --from dave@example.com --subject 'No verdict'
rig_deliver_pdf "$d/frank.pdf" --from frank@example.com --auth fail --subject 'Forged'
rig_deliver_pdf "$d/erin.pdf" --from erin@example.com --auth pass \
	--header 'Auto-Submitted: auto-generated' --subject 'Automatic'
rig_deliver_pdf "$d/gina.pdf" --from gina@example.com --auth pass \
	--header 'List-Id: Staff <staff.example.com>' --subject 'List mail'
rig_deliver_pdf "$d/daemon.pdf" --from MAILER-DAEMON@example.com --auth pass \
	--subject 'Undelivered Mail Returned to Sender'
rig_deliver_pdf "$d/eve.pdf" --from eve@other.example --subject 'Unauthenticated stranger'

rig_run once
expect_rc 0 "first pass exits 0"
expect_counts alice "7/0/0/2" "mallory's and eve's mails moved to Print Rejected"
bobjob=$(rig_job_id bob.pdf)
caroljob=$(rig_job_id carol.pdf)

# The envelope recipients of everything the sink got (it keeps getting
# more on later passes: checked again at the end).
recipients() {
	local f
	for f in $(rig_smtp_files); do rig_smtp_json "$f" rcpt_to; done | tr 'A-Z' 'a-z' | sort -u | paste -sd ' '
}
is "$(recipients)" "bob@example.com carol@example.com mallory@example.com" \
	"replies went only to the authenticated senders (none to dave, frank, erin, gina, mailer-daemon, eve)"

# check_reply FILE TO MSGID SUBJECT-REGEX DESC: the reply's headers.
check_reply() {
	local f=$1 to=$2 mid=$3 subj=$4 desc=$5 bad=()
	if [ ! -f "$f" ]; then
		not_ok "$desc" "no such reply; the sink has: $(rig_smtp_count)"
		return 0
	fi
	[ "$(rig_smtp_json "$f" rcpt_to)" = "$to" ] || bad+=("rcpt_to: $(rig_smtp_json "$f" rcpt_to)")
	[ "$(rig_smtp_json "$f" mail_from)" = print@example.com ] ||
		bad+=("mail_from: $(rig_smtp_json "$f" mail_from)")
	[ "$(rig_smtp_json "$f" tls)" = true ] || bad+=("not sent over TLS")
	[[ $(rig_smtp_header "$f" To) == *"$to"* ]] || bad+=("To: $(rig_smtp_header "$f" To)")
	[[ $(rig_smtp_header "$f" From) == *print@example.com* ]] || bad+=("From: $(rig_smtp_header "$f" From)")
	[ "$(rig_smtp_header "$f" Auto-Submitted)" = auto-replied ] ||
		bad+=("Auto-Submitted: $(rig_smtp_header "$f" Auto-Submitted)")
	[ "$(rig_smtp_header "$f" In-Reply-To)" = "<$mid>" ] ||
		bad+=("In-Reply-To: $(rig_smtp_header "$f" In-Reply-To)")
	[[ $(rig_smtp_header "$f" References) == *"<$mid>"* ]] ||
		bad+=("References: $(rig_smtp_header "$f" References)")
	[[ $(rig_smtp_header "$f" Subject) =~ $subj ]] || bad+=("Subject: $(rig_smtp_header "$f" Subject)")
	[ -n "$(rig_smtp_header "$f" Message-ID)" ] || bad+=("no Message-ID")
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "${bad[@]}"
	fi
}
# has_job TEXT ID: TEXT names job ID ("m2c-12" or "12", not "120").
has_job() {
	[[ $1 =~ (^|[^0-9])$2([^0-9]|$) ]]
}

mapfile -t bob < <(rig_smtp_to bob@example.com)
check_reply "${bob[0]}" bob@example.com a1@example.com 'Quarterly report' \
	"bob's accepted reply: To, Auto-Submitted, In-Reply-To, References, Subject"
body=$(rig_smtp_body "${bob[0]}" 2>&1)
has_job "$body" "$bobjob" && ok "the accepted reply names the job id ($bobjob)" ||
	not_ok "the accepted reply names the job id ($bobjob)" "$body"
like "$body" "frobnicate" "the accepted reply notes the unknown tag #frobnicate"

mapfile -t carol < <(rig_smtp_to carol@example.com)
is "${#carol[@]}" 1 "carol got one reply (her job is held: no printed reply yet)"
check_reply "${carol[0]}" carol@example.com b1@example.com 'Payslips' "carol's accepted reply headers"
body=$(rig_smtp_body "${carol[0]}" 2>&1)
like "$body" "lp -i $caroljob -H resume" "the reply for a held job says how to release it (lp -i $caroljob -H resume)"
has_job "$body" "$caroljob" && ok "and names the held job ($caroljob)" ||
	not_ok "and names the held job ($caroljob)" "$body"

mapfile -t mallory < <(rig_smtp_to mallory@example.com)
is "${#mallory[@]}" 1 "mallory (denied, but authenticated) got one rejected reply"
check_reply "${mallory[0]}" mallory@example.com c1@example.com 'Invoice' "the rejected reply's headers"
like "$(rig_smtp_body "${mallory[0]}" 2>&1)" "deny|not allowed|refused|reject" "it says why"

# The printed reply: after bob's job completed, on a later pass.
rig_wait_for "$RIG_TIMEOUT" rig_job_done "$bobjob" || diag "bob's job did not complete"
rig_run once
expect_rc 0 "second pass exits 0"
mapfile -t bob < <(rig_smtp_to bob@example.com)
is "${#bob[@]}" 2 "bob got a second reply once his job completed"
check_reply "${bob[1]}" bob@example.com a1@example.com 'Quarterly report' "the printed reply's headers"
[ "$(rig_smtp_header "${bob[1]}" Subject)" != "$(rig_smtp_header "${bob[0]}" Subject)" ] &&
	ok "the printed reply's subject differs from the accepted one's" ||
	not_ok "the printed reply's subject differs from the accepted one's" "$(rig_smtp_header "${bob[1]}" Subject)"
has_job "$(rig_smtp_body "${bob[1]}" 2>&1)" "$bobjob" && ok "the printed reply names the job" ||
	not_ok "the printed reply names the job" "$(rig_smtp_body "${bob[1]}" 2>&1)"
is "$(rig_smtp_to carol@example.com | grep -c .)" 1 "no printed reply for carol's held job"

rig_release "$caroljob" >/dev/null 2>&1
rig_wait_for "$RIG_TIMEOUT" rig_job_done "$caroljob" || diag "carol's job did not complete"
rig_run once
expect_rc 0 "third pass exits 0"
mapfile -t carol < <(rig_smtp_to carol@example.com)
is "${#carol[@]}" 2 "carol's printed reply came after her job was released and completed"
check_reply "${carol[1]}" carol@example.com b1@example.com 'Payslips' "its headers"

# Rate limit: at most one reply per sender.
conf 1
rig_deliver_pdf "$d/henry1.pdf" --from henry@example.com --auth pass --subject 'First'
rig_deliver_pdf "$d/henry2.pdf" --from henry@example.com --auth pass --subject 'Second'
rig_run once
expect_rc 0 "rate limit: the pass exits 0"
expect_stderr_line "the dropped reply is logged" "henry@example\.com" "rate"
rig_wait_jobs_done
rig_run once
expect_rc 0 "rate limit: a later pass exits 0"
mapfile -t henry < <(rig_smtp_to henry@example.com)
is "${#henry[@]}" 1 "rate_limit = 1: henry got one reply for two messages"
like "$(rig_smtp_header "${henry[0]}" Subject)" "First" "the one reply is about the first message"
expect_printed "every message but the two rejected printed" "$d/bob.pdf" "$d/carol.pdf" \
	"$d/dave.pdf" "$d/frank.pdf" "$d/erin.pdf" "$d/gina.pdf" "$d/daemon.pdf" \
	"$d/henry1.pdf" "$d/henry2.pdf"
is "$(recipients)" "bob@example.com carol@example.com henry@example.com mallory@example.com" \
	"still no reply to any unauthenticated, automatic or list sender"
tap_done
