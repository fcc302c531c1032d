#!/bin/bash
# print-folders.sh - a Print folder for every user (print_folders = true):
# the plugin loaded from the build tree wakes the daemon when a user files
# a mail into their Print folder; the daemon signs in as that user through
# a Dovecot master user, prints it as that user (the login name, or the
# users table's name for it) and moves it to Printed.  Two users (doveadm
# MOVE, an IMAP client's MOVE of a \Seen message); a user with no Print
# activity gets no session; sessions close after session_timeout; a mail
# filed while the daemon is down prints once through the safety pass; a
# forged wake-up for a user with an empty Print folder (or no such user)
# prints nothing; check and status know the kind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup_plugin "  mail2cups_mailbox = Print" m2c-master
d=$RIG_DIR
rig_start_all
rig_add_user bob
rig_add_user carol
for u in "$RIG_USER" bob carol; do
	rig_doveadm mailbox create -u "$u" Print Other || bail "cannot create $u's folders"
done

rig_write_folders_conf "$RIG_CONF" m2c-master session_timeout=3 max_sessions=5 \
	poll_interval=600 folder_users='[ "alice" ]'
rig_conf_wake "$RIG_CONF"
printf 'users = ( { sender = "bob"; user = "robert"; } );\n' >>"$RIG_CONF"

printed_at_least() {
	[ "$(rig_printed_count)" -ge "$1" ]
}
logins_of() {	# IMAP logins as USER so far (the master user's included)
	rig_dovecot_log_count "imap-login: Info: Login: user=<$1>"
}
no_session_of() {
	! rig_doveadm who -1 2>/dev/null | grep -q "^$1 "
}
job_user() {	# the CUPS user of the job named NAME
	rig_jobs | awk -F'\t' -v n="$1" '$4 == n { u = $3 } END { print u }'
}

# 0. check and the first safety pass (folder_users: alice, nothing there).
rig_run check
is "$RIG_RC" 0 "mail2cups check: exit 0 for a print_folders account"
like "$RIG_OUT" 'IMAP.*127\.0\.0\.1' "... it signed in through the master user (as alice)" ||
	rig_show_run
rig_start_daemon
if rig_daemon_says 'listening for wake-ups from Dovecot' 10 &&
	rig_daemon_says 'folders: print folders: 0 session\(s\) open' 30; then
	ok "the daemon serves the print folders; the first safety pass closed its session"
else
	not_ok "the daemon serves the print folders" "$(tail -20 "$RIG_DAEMON_ERR")"
fi

# 1. alice moves a mail into Print with doveadm; bob, with an IMAP client,
# a mail he had read already.
rig_mkmail pdf "$d/alice.pdf" alice.pdf && rig_mkmail mail "$d/alice.eml" --attach "$d/alice.pdf"
rig_mkmail pdf "$d/bob.pdf" bob.pdf && rig_mkmail mail "$d/bob.eml" --attach "$d/bob.pdf"
rig_deliver "$RIG_USER" "$d/alice.eml" Other
rig_deliver bob "$d/bob.eml" Other
rig_doveadm flags add -u bob '\Seen' mailbox Other all
check "alice: doveadm move into Print" rig_doveadm move -u "$RIG_USER" Print mailbox Other all
like "$(rig_imap_move bob "$RIG_PASS" Other Print)" '^OK' "bob: an IMAP client MOVEs a read message into Print"
if rig_wait_for 30 printed_at_least 2; then
	ok "both users' mails print"
else
	not_ok "both users' mails print" "$(tail -30 "$RIG_DAEMON_ERR")"
fi
rig_wait_jobs_done
is "$(job_user alice.pdf)" alice "alice's job: CUPS user alice (her login name)"
is "$(job_user bob.pdf)" robert "bob's job: CUPS user robert (the users table's name for bob)"
is "$(rig_job_count)" 2 "... one job each"
moved_on() {	# USER N: Print is empty, Printed holds N
	[ "$(rig_folder_count "$1" Print)/$(rig_folder_count "$1" Printed)" = "0/$2" ]
}
for u in "$RIG_USER" bob; do
	if rig_wait_for 10 moved_on "$u" 1; then ok "$u: the mail moved on from Print to Printed"
	else not_ok "$u: moved on" "$(rig_folder_count "$u" Print)/$(rig_folder_count "$u" Printed)"; fi
done
check "the master user signed in as alice" rig_daemon_says 'folders/alice: session opened as alice \(master user m2c-master\)'
check "... and as bob" rig_daemon_says 'folders/bob: session opened as bob'

# 2. carol filed nothing: no session, ever.
is "$(logins_of carol)" 0 "carol, with no Print activity, got no session"

# 3. Sessions close after session_timeout (3 s here).
for u in "$RIG_USER" bob; do
	if rig_daemon_says "folders/$u: session closed \\(unused for 3 s\\)" 30 &&
		rig_wait_for 10 no_session_of "$u"; then
		ok "$u's session closed after session_timeout"
	else
		not_ok "$u's session closed after session_timeout" "$(rig_doveadm who 2>&1)"
	fi
done
like "$(rig_db "SELECT user FROM folder_users ORDER BY user" | paste -sd ' ')" '^alice bob$' \
	"the state remembers alice and bob for the safety pass"

# 4. Forged wake-ups: carol's Print folder is empty; mallory does not exist.
jobs_before=$(rig_job_count)
rig_wake Print carol mallory
if rig_daemon_says 'folders/carol: Print: 0 to print' 20 &&
	rig_daemon_says 'folders/mallory: .*' 20; then
	ok "the forged wake-ups were looked at (a pass over carol's empty folder)"
else
	not_ok "the forged wake-ups were looked at" "$(tail -20 "$RIG_DAEMON_ERR")"
fi
rig_wait_jobs_done
is "$(rig_job_count)" "$jobs_before" "a forged wake-up prints nothing"
is "$(rig_db "SELECT count(*) FROM folder_users WHERE user IN ('carol', 'mallory')")" 0 \
	"... and nobody is remembered for it"
check "the daemon is still running" rig_pid_alive "$RIG_DAEMON_PID"

# 5. status knows the account.
rig_run status
like "$RIG_OUT" 'folders' "mail2cups status lists the print_folders account"
like "$RIG_OUT" 'ok' "... as ok" || rig_show_run

# 6. The daemon is down while bob files a mail: the safety pass prints it.
rig_kill_pid "$RIG_DAEMON_PID"
rig_mkmail pdf "$d/down.pdf" down.pdf && rig_mkmail mail "$d/down.eml" --attach "$d/down.pdf"
rig_deliver bob "$d/down.eml" Other
check "bob: doveadm move into Print with the daemon down" \
	rig_doveadm move -u bob Print mailbox Other all
is "$(rig_folder_count bob Print)" 1 "... the mail waits in bob's Print folder"
carol_before=$(logins_of carol)
rig_start_daemon
if rig_wait_for 30 printed_at_least 3; then
	ok "the daemon, started, prints it through the safety pass"
else
	not_ok "the daemon, started, prints it" "$(tail -30 "$RIG_DAEMON_ERR")"
fi
check "... as bob's (robert)" test "$(job_user down.pdf)" = robert
if rig_wait_for 10 moved_on bob 2; then
	ok "... and moved on"
else
	not_ok "... and moved on" "$(rig_folder_count bob Print)/$(rig_folder_count bob Printed)"
fi
rig_daemon_says 'folders: print folders: 0 session\(s\) open' 30
is "$(logins_of carol)" "$carol_before" "the safety pass signs in only as users known to print"

rig_kill_pid "$RIG_DAEMON_PID"
expect_printed "every document printed exactly once" "$d/alice.pdf" "$d/bob.pdf" "$d/down.pdf"
tap_done
