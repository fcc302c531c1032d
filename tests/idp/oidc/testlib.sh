# shellcheck shell=bash disable=SC2154,SC2034 # here and work come from the caller, which uses issuer
# Shared by selftest.sh and dovecot-interop.sh (sourced, not run): TAP
# output (tests/rig/tap.sh, the suite's one shell TAP library), JSON field
# access, and starting/stopping server.mjs.
#
# The caller sets: here (this folder), work (its private temporary folder).
# bail_log/bail_label: a log file (and its line prefix) shown on bail and on
# failure.

server_pid=
bail_log=
bail_label=log
. "$here/../../rig/tap.sh"

show_log() {
	if [ -n "$bail_log" ] && [ -s "$bail_log" ]; then
		tail -n 40 "$bail_log" | sed "s/^/# $bail_label: /"
	fi
}

# tap.sh runs it on bail and when tap_done finds a failure
tap_on_fail() {
	show_log
}

# jget FILE PATH: a JSON value by dotted path (objects as JSON); fails if absent
jget() {
	node -e '
const fs = require("fs");
let v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
for (const k of process.argv[2].split(".")) v = v == null ? undefined : v[k];
if (v === undefined || v === null) process.exit(1);
console.log(typeof v === "object" ? JSON.stringify(v) : String(v));
' "$1" "$2" 2>/dev/null
}

# start_oidc DIR [server.mjs args...]: a server with its port file and log
# in DIR; sets server_pid, port and issuer
start_oidc() {
	dir=$1
	shift
	mkdir -p "$dir"
	node "$here/server.mjs" --port 0 --port-file "$dir/port" "$@" \
		>"$dir/server.log" 2>&1 &
	server_pid=$!
	i=0
	while [ ! -s "$dir/port" ]; do
		kill -0 "$server_pid" 2>/dev/null ||
			bail "server.mjs exited: $(cat "$dir/server.log")"
		i=$((i + 1))
		[ $i -le 100 ] || bail "server.mjs did not write its port file in 10 s"
		sleep 0.1
	done
	port=$(cat "$dir/port")
	issuer=http://127.0.0.1:$port
}

# stop_oidc: SIGTERM; fails unless the server exits with status 0
stop_oidc() {
	[ -n "$server_pid" ] || return 0
	kill "$server_pid" 2>/dev/null
	wait "$server_pid"
	rc=$?
	server_pid=
	return "$rc"
}
