#!/bin/bash
# exit-codes.sh - every exit code of `mail2cups once` a person acts on, as
# DESIGN.md lists them, and never 75 ("try again later") for what only a
# person can fix: 64 usage; 78 a missing configuration, one the user cannot
# read, a state_dir of another user, a password file the user cannot read;
# 77 a refused sign-in; 69 an IMAP server that is not there; 0 a good pass.
# Also what the log shows a person: an ISO 8601 time on every stderr line,
# every line of a multi-line configuration error prefixed, the summary in
# words, and no "sender ... not authenticated" line for an account that does
# not judge its senders (a password account).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
rig_require runuser
d=$RIG_DIR
chmod 0644 "$RIG_CONF"
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}'
# as_nobody ARGS...: mail2cups as an ordinary user (RIG_RC, RIG_ERR).
as_nobody() {
	RIG_ERR=$(cd / && runuser -u nobody -- env -u JOURNAL_STREAM timeout 60 "$MAIL2CUPS" "$@" 2>&1 >/dev/null)
	RIG_RC=$?
}

# 64: usage.
rig_run bogus
expect_rc 64 "an unknown command: 64"

# 78: the configuration file is missing.
RIG_RUN_CONF=$d/no-such.conf rig_run once
expect_rc 78 "a missing configuration file: 78, not 75"
expect_stderr "no-such\.conf: cannot read the configuration file: No such file.*create it" \
	"... and says to create it"
like "$RIG_ERR" "^$stamp mail2cups: error: " "... on a line that starts with an ISO 8601 time"

# 78: a configuration the user cannot read.
cp "$RIG_CONF" "$d/private.conf"
chmod 0600 "$d/private.conf"
as_nobody -c "$d/private.conf" once
expect_rc 78 "a configuration the user cannot read: 78, not 75"
expect_stderr "Permission denied.*chgrp mail2cups" "... and says how to let the service read it"

# 78: a state_dir that belongs to another user (the password file is the
# user's own).
mkdir -m 0700 "$d/root-state"
install -o nobody -m 0600 "$d/$RIG_USER.pass" "$d/nobody.pass"
rig_write_conf "$d/other-state.conf" password_file="\"$d/nobody.pass\""
sed -i "s|^state_dir = .*|state_dir = \"$d/root-state\";|" "$d/other-state.conf"
chmod 0644 "$d/other-state.conf"
as_nobody -c "$d/other-state.conf" once
expect_rc 78 "a state_dir of another user: 78, not 75"
expect_stderr "root-state belongs to uid 0.*run: chown -R nobody: .*root-state" \
	"... naming the folder and the chown that fixes it"

# 78: a password file the user cannot read.
mkdir -m 0700 "$d/nobody-state" && chown nobody: "$d/nobody-state"
sed "s|^state_dir = .*|state_dir = \"$d/nobody-state\";|" "$RIG_CONF" >"$d/nobody.conf"
chmod 0644 "$d/nobody.conf"
as_nobody -c "$d/nobody.conf" once
expect_rc 78 "a password file the user cannot read: 78, not 75"
expect_stderr "$RIG_USER\.pass.*Permission denied" "... naming the file"

# 78, and every line of a multi-line configuration error is prefixed.
rig_write_conf "$d/bad.conf" security='"tls"' after='"later"'
RIG_RUN_CONF=$d/bad.conf rig_run once
expect_rc 78 "a configuration with two problems: 78"
is "$(grep -c . <<<"$RIG_ERR")" 2 "... two lines"
is "$(grep -cE "^$stamp mail2cups: error: ${d//./\\.}/bad\.conf:[0-9]+: " <<<"$RIG_ERR")" 2 \
	"... each with the time, the program, the file and its line"

# 77: the server refuses the password.
printf '%s' wrong >"$d/wrong.pass" && rig_svc_secret "$d/wrong.pass"
rig_write_conf "$d/wrong.conf" password_file="\"$d/wrong.pass\""
RIG_RUN_CONF=$d/wrong.conf rig_run once
expect_rc 77 "a refused password: 77"

# 69: nothing listens at the IMAP port.
read -r dead_port <<<"$(rig_free_ports 1)"
rig_write_conf "$d/dead.conf" port="$dead_port"
RIG_RUN_CONF=$d/dead.conf rig_run once
expect_rc 69 "no IMAP server at the port: 69"

# 0: a good pass; the summary in words, no verdict line for this account.
rig_deliver_pdf "$d/doc.pdf"
rig_run once
expect_rc 0 "a good pass: 0"
expect_summary 'test: 1 new message, 1 printed' "the summary says what happened in words"
like "$(grep 'new message' <<<"$RIG_ERR")" "^$stamp mail2cups: test: 1 new message, 1 printed$" \
	"... on a line with its time"
[[ $RIG_ERR == *"not authenticated"* ]] &&
	not_ok "no 'sender not authenticated' line for an account that does not judge senders" "$RIG_ERR" ||
	ok "no 'sender not authenticated' line for an account that does not judge senders"
expect_printed "the PDF printed" "$d/doc.pdf"
tap_done
