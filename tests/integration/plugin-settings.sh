#!/bin/bash
# plugin-settings.sh - the Dovecot plugin never costs a delivery: with the
# daemon not running, the socket's group wrong, mail2cups_socket missing or
# not an absolute path, and mail2cups.conf unreadable (the daemon does not
# start), dovecot-lda delivers each message (exit 0, message in the
# mailbox) and Dovecot logs exactly one clear mail2cups line; a user with
# no mail2cups_mailbox is not watched and nothing is logged; a userdb extra
# field watches one user's mailbox.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_all
rig_require_program
rig_require_plugin
rig_init
d=$RIG_DIR
wsock=$d/wake.sock
RIG_DOVECOT_EXTRA=$(rig_plugin_dovecot_conf "  mail2cups_socket = $wsock
  mail2cups_mailbox = INBOX")
rig_start_all
# The daemon's account serves another folder: INBOX keeps what lda delivers.
rig_write_conf "$RIG_CONF" mailbox='"Print"' poll_interval=600 idle=false
printf 'wake_socket = "%s";\n' "$wsock" >>"$RIG_CONF"	# no group: 0600
rig_mkmail mail "$d/m.eml" --subject "plain text" || bail "mkmail.py failed"

# variant NAME SED: a copy of the rig's dovecot.conf (same servers) changed by SED.
variant() {
	sed "$2" "$RIG_DOVECONF" >"$d/$1.conf"
}
# lda_case DESC CONF REGEX: dovecot-lda delivers with CONF; exit 0, one
# more message in INBOX, and exactly one new mail2cups line matching REGEX
# in Dovecot's log or on lda's stderr.
n_inbox=0
lda_case() {
	local desc=$1 conf=$2 re=$3 before after lines
	before=$(rig_dovecot_log_count 'mail2cups:')
	rig_lda "$RIG_USER" "$d/m.eml" "$conf"
	n_inbox=$((n_inbox + 1))
	is "$RIG_LDA_RC" 0 "$desc: dovecot-lda exits 0"
	is "$(rig_folder_count "$RIG_USER" INBOX)" "$n_inbox" "$desc: the message is in the mailbox"
	after=$(rig_dovecot_log_count 'mail2cups:')
	lines=$(( after - before + $(grep -c 'mail2cups:' <<<"$RIG_LDA_ERR") ))
	if [ -z "$re" ]; then
		is "$lines" 0 "$desc: nothing logged"
		return
	fi
	is "$lines" 1 "$desc: one mail2cups log line"
	if { grep 'mail2cups:' "$d/dovecot/dovecot.log" | tail -n $((after - before));
		printf '%s\n' "$RIG_LDA_ERR"; } | grep 'mail2cups:' | grep -Eq "$re"; then
		ok "$desc: the line says what to do"
	else
		not_ok "$desc: the line says what to do" "want: $re" \
			"$(tail -3 "$d/dovecot/dovecot.log")" "$RIG_LDA_ERR"
	fi
}

lda_case "daemon not running" "$RIG_DOVECONF" \
	"cannot wake mail2cups at $wsock: No such file.*is mail2cups running"
variant nosocket '/mail2cups_socket =/d'
lda_case "mail2cups_socket missing" "$d/nosocket.conf" \
	'mail2cups_socket is not.*no wake-ups are sent.*set mail2cups_socket'
variant relative "s|mail2cups_socket = .*|mail2cups_socket = run/wake.sock|"
lda_case "mail2cups_socket relative" "$d/relative.conf" \
	'mail2cups_socket = run/wake.sock is not an absolute path.*fix it'
variant unwatched '/mail2cups_mailbox =/d'
lda_case "no mail2cups_mailbox (a user not watched)" "$d/unwatched.conf" ""

# One user watched through a userdb extra field (the global setting off).
rig_add_user bob pw userdb_mail2cups_mailbox=INBOX
before=$(rig_dovecot_log_count 'mail2cups: cannot wake')
rig_lda bob "$d/m.eml" "$d/unwatched.conf"
is "$RIG_LDA_RC" 0 "per-user setting: dovecot-lda delivers to bob" "$RIG_LDA_ERR"
is "$(( $(rig_dovecot_log_count 'mail2cups: cannot wake') - before ))" 1 \
	"per-user setting: bob's INBOX is watched (a wake-up was tried)" \
	"$RIG_LDA_ERR" "$(tail -5 "$d/dovecot/dovecot.log")"

# The daemon runs, but its socket is not writable by the mail processes
# (no wake_socket_group): permission denied, logged with the fix.
"$MAIL2CUPS" -c "$RIG_CONF" run >"$d/daemon.out" 2>"$d/daemon.err" &
dpid=$!
RIG_PIDS+=("$dpid")
rig_wait_for 10 test -S "$wsock" || bail "the daemon made no wake_socket: $(cat "$d/daemon.err")"
is "$(stat -c %a "$wsock")" 600 "without wake_socket_group the socket is 0600"
lda_case "socket of the wrong group" "$RIG_DOVECONF" \
	'Permission denied.*set wake_socket_group'
rig_kill_pid "$dpid"

# mail2cups.conf unreadable by the service: the daemon does not start,
# and delivery goes on as with the daemon down.
chmod 0000 "$RIG_CONF"
setpriv_run=(setpriv --reuid="$RIG_UID" --regid="$RIG_UID" --clear-groups)
if command -v setpriv >/dev/null; then
	"${setpriv_run[@]}" "$MAIL2CUPS" -c "$RIG_CONF" run >"$d/daemon2.out" 2>"$d/daemon2.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then ok "mail2cups.conf unreadable: the daemon does not start (exit $rc)"
	else not_ok "mail2cups.conf unreadable: the daemon does not start" "exit 0"; fi
	like "$(cat "$d/daemon2.err")" "$RIG_CONF" "... naming the file"
else
	skip "mail2cups.conf unreadable: the daemon does not start" "no setpriv"
fi
lda_case "mail2cups.conf unreadable, daemon down" "$RIG_DOVECONF" "cannot wake mail2cups"
tap_done
