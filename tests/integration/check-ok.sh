#!/bin/bash
# check-ok.sh - mail2cups check on a healthy rig: exit 0, every line ok,
# the unseen count right, and nothing changed: the messages keep their
# flags, CUPS has no job, no state database is written.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/one.pdf"
rig_deliver_pdf "$d/two.pdf"
rig_deliver_pdf "$d/three.pdf"
rig_doveadm flags add -u alice '\Seen' mailbox INBOX uid 2 ||
	bail "doveadm flags add failed"

rig_run check
expect_rc 0 "check exits 0"
like "$RIG_OUT" "test: config \.+ ok" "config ok"
like "$RIG_OUT" "test: CUPS queue \.+ ok \(m2c: accepting jobs\)" "CUPS queue ok, named"
like "$RIG_OUT" "test: IMAP \.+ ok \(127\.0\.0\.1:$RIG_IMAPS_PORT, ssl, PLAIN\)" "IMAP ok: host, port, security, mechanism"
like "$RIG_OUT" "test: mailbox \.+ ok \(INBOX: 3 messages, 2 unseen, UIDVALIDITY [0-9]+\)" "mailbox ok: 3 messages, 2 unseen"
like "$RIG_OUT" "local: runs as \.+ ok \(uid $RIG_SVC_UID, as once and run; switched from root\)" \
	"it says whom it runs as: the owner of state_dir, switched from root"
like "$RIG_OUT" "local: state_dir \.+ ok" "state_dir ok"
like "$RIG_OUT" "local: secret files \.+ ok \(1 readable by $RIG_SVC_UID" "the password file readable"
is "$(grep -c '^test: ' <<<"$RIG_OUT")" 4 "four account lines (no sign-in line for a password account)"
is "$(grep -vc ' ok' <<<"$RIG_OUT")" 0 "every line says ok"
[[ $RIG_OUT == *FAILED* || $RIG_OUT == *warning* ]] && not_ok "no failure, no warning" || ok "no failure, no warning"

expect_flags alice INBOX '1;2 \Seen;3' "the flags are unchanged (1 and 3 still unseen)"
expect_nothing_printed "no CUPS job, nothing printed"
[ -e "$RIG_STATE/state.db" ] && not_ok "no state database written" || ok "no state database written"

# Twice in a row gives the same answer (SELECT did not change \Seen).
rig_run check
expect_rc 0 "a second check exits 0"
like "$RIG_OUT" "mailbox \.+ ok \(INBOX: 3 messages, 2 unseen" "still 2 unseen"
tap_done
