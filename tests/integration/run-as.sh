#!/bin/bash
# run-as.sh - mail is never handled as root, and what decides whom the
# programs become is checked first (#10 findings 2, 7, 8; #14 item 3):
# - a root-owned state_dir is refused (78) with the fix, nothing made in it;
#   a state_dir behind a symbolic link, or a scratch folder others may
#   write, likewise;
# - StrictModes: a configuration file, an @include, a folder above them, a
#   password file or a converter program that others may change (or read,
#   for the secret) is refused with the exact chmod/chown;
# - check runs as the service user and says so; it finds a database of
#   another user, a password file the service user cannot read, and a
#   state_dir that cannot be made (under /proc), each with its fix, exit 78;
# - the daemon runs with RLIMIT_CORE 0, as the service user.
# No server is needed: nothing here gets as far as the network.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
[ "$(id -u)" = 0 ] || skip_all "the switch from root is tested as root"
rig_require_program
rig_init
d=$RIG_DIR
: >"$RIG_CERT"
printf '%s' "$RIG_PASS" >"$d/$RIG_USER.pass"
rig_svc_secret "$d/$RIG_USER.pass"
read -r dead_port <<<"$(rig_free_ports 1)"
# conf FILE [KEY=VALUE...]: the rig's config with nothing listening at the IMAP port.
conf() {
	local f=$1
	shift
	rig_write_conf "$f" port="$dead_port" "$@"
}
# state FILE DIR: state_dir = DIR in FILE.
state() {
	sed -i "s|^state_dir = .*|state_dir = \"$2\";|" "$1"
}
# runconf FILE ARGS...: mail2cups -c FILE ARGS
runconf() {
	local f=$1
	shift
	RIG_RUN_CONF=$f rig_run "$@"
}

# --- never as root (#10 finding 2)
mkdir -m 0700 "$d/root-state"
conf "$d/root.conf" && state "$d/root.conf" "$d/root-state"
runconf "$d/root.conf" once
expect_rc 78 "a root-owned state_dir: once refuses (78), it does not run as root"
expect_stderr "never handles mail as root|root-state belongs to uid 0" "... saying why"
expect_stderr "useradd --system|chown -R [a-z0-9]+: .*root-state" "... and how to fix it"
is "$(ls -A "$d/root-state")" "" "... nothing was made in it"
runconf "$d/root.conf" check
expect_rc 78 "check refuses the same way"
like "$RIG_OUT" "local: runs as \.+ FAILED: " "... on its first line"

# The usual case: state_dir belongs to the service user.
conf "$d/svc.conf"
runconf "$d/svc.conf" once
expect_rc 69 "state_dir of the service user: once runs (69: no IMAP server)"
is "$(stat -c %u:%a "$RIG_STATE/state.db" 2>&1)" "$RIG_SVC_UID:600" \
	"... as the service user: state.db is its own"
is "$(stat -c %u:%a "$RIG_STATE/scratch" 2>&1)" "$RIG_SVC_UID:700" "... and so is scratch/, 0700"

# A state_dir behind a symbolic link (#10 finding 8).
ln -s "$RIG_STATE" "$d/state-link"
conf "$d/link.conf" && state "$d/link.conf" "$d/state-link"
runconf "$d/link.conf" once
expect_rc 78 "a state_dir that is a symbolic link is refused"
expect_stderr "state-link is a symbolic link" "... naming it"

# A scratch folder others may write: they could swap the parts before printing.
chmod 0777 "$RIG_STATE/scratch"
runconf "$d/svc.conf" once
expect_rc 78 "a scratch folder others may write is refused"
expect_stderr "scratch has mode 0777.*run: chmod 700 .*scratch" "... with chmod 700"
chmod 0700 "$RIG_STATE/scratch"

# --- StrictModes (#10 finding 7)
conf "$d/wide.conf"
chmod 0666 "$d/wide.conf"
runconf "$d/wide.conf" once
expect_rc 78 "a configuration file others may change is refused"
expect_stderr "configuration file .*wide\.conf has mode 0666.*run: chmod go-w .*wide\.conf" \
	"... with the chmod that fixes it"

conf "$d/theirs.conf"
chown 4242 "$d/theirs.conf"
runconf "$d/theirs.conf" once
expect_rc 78 "a configuration file of another user is refused"
expect_stderr "theirs\.conf belongs to uid 4242.*run: chown $RIG_SVC_UID: " "... with the chown"

mkdir -m 0777 "$d/open"
conf "$d/open/m2c.conf"
runconf "$d/open/m2c.conf" once
expect_rc 78 "a configuration in a folder others may write is refused"
expect_stderr "m2c\.conf is in folder .*/open, which group or others may write" \
	"... naming the folder"
expect_stderr "run: chmod go-w .*/open" "... with its chmod"

printf 'log_level = "info";\n' >"$d/inc.conf"
chmod 0664 "$d/inc.conf"
conf "$d/inc-main.conf"
printf '@include "inc.conf"\n' >>"$d/inc-main.conf"
runconf "$d/inc-main.conf" once
expect_rc 78 "an @include the group may change is refused"
expect_stderr "included file .*inc\.conf has mode 0664.*chmod g-w" "... naming the included file"

cp "$d/$RIG_USER.pass" "$d/open.pass"
chown "$RIG_SVC_UID" "$d/open.pass" && chmod 0644 "$d/open.pass"
conf "$d/pass.conf" password_file="\"$d/open.pass\""
runconf "$d/pass.conf" once
expect_rc 78 "a password file others may read is refused before the switch"
expect_stderr "password_file .*open\.pass has mode 0644.*run: chmod 600 .*open\.pass" \
	"... with its chmod"

cp /bin/true "$d/conv"
chmod 0777 "$d/conv"
conf "$d/conv.conf"
rig_conf_global "$d/conv.conf" converters_unsandboxed true
rig_conf_global "$d/conv.conf" converters \
	"( { types = [ \"text/html\" ]; command = [ \"$d/conv\", \"%i\", \"%o\" ]; } )"
runconf "$d/conv.conf" once
expect_rc 78 "a converter program others may change is refused"
expect_stderr "converter .*/conv has mode 0777.*chmod go-w .*/conv" "... with its chmod"

# --- check as the service user (#14 item 3)
runconf "$d/svc.conf" check
like "$RIG_OUT" "local: runs as \.+ ok \(uid $RIG_SVC_UID, as once and run; switched from root\)" \
	"check says whom it runs as"
like "$RIG_OUT" "local: database \.+ ok \(state\.db opens for writing\)" "... the database opens"

chown 4242 "$RIG_STATE/state.db"
runconf "$d/svc.conf" check
expect_rc 78 "check: a database of another user is a configuration error (78)"
like "$RIG_OUT" "local: database \.+ FAILED: .*state\.db does not open for writing as $RIG_SVC_UID.*run: chown -R $RIG_SVC_UID: " \
	"... with the chown -R that fixes it"
rig_svc_own_state

cp "$d/$RIG_USER.pass" "$d/root.pass"
chown 0:0 "$d/root.pass" && chmod 0600 "$d/root.pass"
conf "$d/rootpass.conf" password_file="\"$d/root.pass\""
runconf "$d/rootpass.conf" check
expect_rc 78 "check: a password file the service user cannot read (root's, 0600): 78"
like "$RIG_OUT" "local: secret files \.+ FAILED: password_file: cannot open .*root\.pass: Permission denied.*run: chown $RIG_SVC_UID: .*root\.pass; chmod 600" \
	"... with the chown that fixes it"

conf "$d/proc.conf" && state "$d/proc.conf" /proc/m2c-state
rig_conf_global "$d/proc.conf" service_user "\"$RIG_SVC_UID\""
runconf "$d/proc.conf" check
expect_rc 78 "check: a state_dir under /proc cannot be made: 78"
like "$RIG_OUT" "local: state_dir \.+ FAILED: .*/proc/m2c-state does not exist and cannot be made.*virtual file system" \
	"... saying why"

# --- no core dumps (#10 finding 8)
conf "$d/daemon.conf"
rig_conf_global "$d/daemon.conf" backoff_max 1
RIG_RUN_CONF=$d/daemon.conf rig_start_daemon
daemon_uid() {
	awk '/^Uid:/ { print $3 }' "/proc/$RIG_DAEMON_PID/status"
}
daemon_switched() {
	[ "$(daemon_uid)" = "$RIG_SVC_UID" ]
}
rig_wait_for "$RIG_TIMEOUT" daemon_switched
is "$(daemon_uid)" "$RIG_SVC_UID" "the daemon runs as the service user"
like "$(grep 'Max core file size' "/proc/$RIG_DAEMON_PID/limits")" "size +0 +0 +bytes" \
	"... with RLIMIT_CORE 0 (soft and hard)"
is "$(stat -c %u "/proc/$RIG_DAEMON_PID/environ")" 0 \
	"... and not dumpable (its private /proc files stay root's: no other process of its user may read its memory)"
rig_kill_pid "$RIG_DAEMON_PID"
tap_done
