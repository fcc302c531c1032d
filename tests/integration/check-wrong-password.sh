#!/bin/bash
# check-wrong-password.sh - two accounts, the first with a wrong password:
# its IMAP line fails with the fix, the mailbox is skipped, the second
# account is still checked and ok; exit 77 (sign-in refused).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"
printf "%s" Xyzzy42 >"$d/bad.pass"
rig_svc_secret "$d/bad.pass"
account() {	# account NAME PASSWORD_FILE
	cat <<EOT
  { name = "$1"; host = "127.0.0.1"; port = $RIG_IMAPS_PORT; security = "ssl";
    ca_file = "$RIG_CERT"; username = "alice"; auth = "plain";
    password_file = "$2"; printer = "$RIG_QUEUE"; allow_senders = [ "*@example.com" ]; }
EOT
}
{
	printf 'state_dir = "%s";\ncups_server = "%s";\ntimeout = 10;\naccounts = (\n' \
		"$RIG_STATE" "$RIG_CUPS_SOCK"
	account bad "$d/bad.pass"
	printf ',\n'
	account good "$d/alice.pass"
	printf ');\n'
} >"$RIG_CONF"

rig_run check
expect_rc 77 "check exits 77"
like "$RIG_OUT" "bad: IMAP \.+ FAILED: .*refused the sign-in" "bad: IMAP FAILED, sign-in refused"
like "$RIG_OUT" $'bad: IMAP [^\n]*FAILED[^\n]*\n    fix: check username \\(alice\\) and the password in password_file' "bad: the fix names the user and password_file"
like "$RIG_OUT" "bad: mailbox \.+ skipped" "bad: mailbox skipped"
like "$RIG_OUT" "bad: CUPS queue \.+ ok" "bad: CUPS still checked"
like "$RIG_OUT" "good: IMAP \.+ ok" "good: IMAP ok (the next account is checked)"
like "$RIG_OUT" "good: mailbox \.+ ok \(INBOX: 1 message, 1 unseen" "good: mailbox ok"
[[ $RIG_OUT$RIG_ERR == *Xyzzy42* ]] && not_ok "the password is not shown" || ok "the password is not shown"
expect_flags alice INBOX '1' "the message is still unseen"
expect_nothing_printed "nothing printed"
tap_done
