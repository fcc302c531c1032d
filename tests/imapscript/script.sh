# script.sh - helpers for the transcript tests (tests/integration/script-*.sh):
# mail2cups against a scripted IMAP server (imapserver.py), the client's
# lines compared exactly with an expected file.  Source it from bash; it
# sources tests/rig/rig.sh (and so tap.sh) and uses its folder, trap and
# rig_run.
#
#   is_setup                   python3 and the program required; RIG_DIR, trap
#   is_start_idp               the fake identity provider: IS_IDP_URL
#   is_seed_tokens ARGS...     the account's token file (seed_tokens.py);
#                              sets IS_TOKEN (the access token written)
#   is_start_server NAME [-D NAME=VALUE...]
#                              plays tests/imapscript/data/NAME.script:
#                              IS_PORT, transcript in $RIG_DIR/NAME.transcript
#   is_write_conf [KEY=VALUE...]  the "office" OAuth account on IS_PORT
#   is_run ARGS...             rig_run, then waits for the server to finish
#   is_expect_transcript NAME DESC [-D NAME=VALUE...]
#                              transcript == tests/imapscript/data/NAME.expected
#   is_xoauth2 USER TOKEN, is_oauthbearer USER HOST PORT TOKEN
#                              the SASL initial response, computed here
#                              independently of the C code
#   is_stored_token            the access token now in the token file
#   is_idp_grants GRANT        how many GRANT requests the fake IdP answered
#   is_expect_server_done DESC the server played its whole script
#   is_expect_no_line REGEX DESC   no client line matches REGEX
#   is_expect_summary REGEX DESC   the account's summary line on stderr

IS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$IS_LIB/../rig/rig.sh"
IS_DATA=$IS_LIB/data
IS_ACCOUNT=office
IS_USER=printer@contoso.com
IS_TENANT=contoso.onmicrosoft.com
IS_CLIENT_ID=x
IS_TIMEOUT=${IS_TIMEOUT:-10}	# seconds the server waits for any one event

is_setup() {
	rig_require python3 base64
	rig_require_program
	rig_init
	IS_AUTHORITY=http://127.0.0.1:1
}

# is_wait_port_file PID FILE WHAT: waits until FILE exists (or PID dies).
is_wait_port_file() {
	local pid=$1 file=$2 what=$3 i
	for i in $(seq 100); do
		[ -s "$file" ] && return 0
		rig_pid_alive "$pid" || break
		sleep 0.1
	done
	bail "$what did not start: $(tail -5 "$file.log" 2>/dev/null)"
}

is_start_idp() {
	local port
	python3 -c 'import cryptography' 2>/dev/null || {
		[ "${CI:-}" = true ] && bail "python3-cryptography missing (the fake IdP needs it)"
		skip_all "python3-cryptography missing (the fake IdP needs it)"
	}
	port=$(rig_free_ports 1)
	cat >"$RIG_DIR/idp.json" <<EOF
{
  "tenants": {
    "$IS_TENANT": {
      "default_user": "$IS_USER",
      "apps": { "$IS_CLIENT_ID": { "name": "mail2cups", "public_client": true } },
      "users": { "$IS_USER": { "name": "Printer" } }
    }
  },
  "interval": 1,
  "issuer_base": "http://127.0.0.1:$port"
}
EOF
	python3 "$top_srcdir/tests/idp/fake_idp.py" --config "$RIG_DIR/idp.json" \
		--port "$port" --port-file "$RIG_DIR/idp.port" 2>"$RIG_DIR/idp.port.log" &
	RIG_PIDS+=("$!")
	is_wait_port_file "$!" "$RIG_DIR/idp.port" "the fake identity provider"
	IS_IDP_URL=http://127.0.0.1:$(cat "$RIG_DIR/idp.port")
	IS_AUTHORITY=$IS_IDP_URL
}

# is_seed_tokens [--idp] [--access-token T] [--refresh-token T]: --idp gets
# real tokens from the fake IdP (its stats are reset afterwards).
is_seed_tokens() {
	local args=(--state-dir "$RIG_STATE" --account "$IS_ACCOUNT" --identity "$IS_USER")
	if [ "${1:-}" = --idp ]; then
		shift
		args+=(--idp "$IS_IDP_URL" --tenant "$IS_TENANT" --client-id "$IS_CLIENT_ID")
	fi
	IS_TOKEN=$(python3 "$IS_LIB/seed_tokens.py" "${args[@]}" "$@" 2>"$RIG_DIR/seed.log") ||
		bail "seed_tokens.py failed: $(cat "$RIG_DIR/seed.log")"
	rig_svc_own_state
}

is_stored_token() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' \
		"$RIG_STATE/tokens/$IS_ACCOUNT.json"
}

is_idp_grants() {
	python3 - "$IS_IDP_URL/test/stats" "$1" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    print(json.load(r)["grant_types"].get(sys.argv[2], 0))
PY
}

is_xoauth2() {
	printf 'user=%s\001auth=Bearer %s\001\001' "$1" "$2" | base64 -w0
}

is_oauthbearer() {
	printf 'n,a=%s,\001host=%s\001port=%s\001auth=Bearer %s\001\001' "$1" "$2" "$3" "$4" |
		base64 -w0
}

# is_start_server NAME [-D NAME=VALUE...]
is_start_server() {
	local name=$1
	shift
	IS_TRANSCRIPT=$RIG_DIR/$name.transcript
	rm -f "$RIG_DIR/imap.port"
	python3 "$IS_LIB/imapserver.py" --script "$IS_DATA/$name.script" \
		--transcript "$IS_TRANSCRIPT" --port-file "$RIG_DIR/imap.port" \
		--timeout "$IS_TIMEOUT" "$@" 2>"$RIG_DIR/imap.port.log" &
	IS_SERVER_PID=$!
	RIG_PIDS+=("$IS_SERVER_PID")
	is_wait_port_file "$IS_SERVER_PID" "$RIG_DIR/imap.port" "imapserver.py"
	IS_PORT=$(cat "$RIG_DIR/imap.port")
}

# is_write_conf [KEY=VALUE...]: as rig_write_conf, for the OAuth account.
is_write_conf() {
	rig_write_conf "$RIG_CONF" name="\"$IS_ACCOUNT\"" host='"127.0.0.1"' \
		port="$IS_PORT" security='"none"' ca_file= auth='"xoauth2"' password_file= \
		username="\"$IS_USER\"" \
		oauth="{ provider = \"microsoft\"; tenant = \"$IS_TENANT\"; client_id = \"$IS_CLIENT_ID\"; authority = \"$IS_AUTHORITY\"; }" \
		"$@"
}

# is_run ARGS...: mail2cups -c $RIG_CONF ARGS..., then the server's end:
# IS_SERVER_RC is its exit status (0: every expected line came).
is_run() {
	local _
	rig_run "$@"
	for _ in $(seq $((IS_TIMEOUT * 10 + 50))); do
		rig_pid_alive "$IS_SERVER_PID" || break
		sleep 0.1
	done
	if rig_pid_alive "$IS_SERVER_PID"; then
		rig_kill_pid "$IS_SERVER_PID"
		IS_SERVER_RC=timeout
	else
		wait "$IS_SERVER_PID"
		IS_SERVER_RC=$?
	fi
	IS_SERVER_ERR=$(cat "$RIG_DIR/imap.port.log")
}

# is_expect_server_done DESC: the server played its whole script.
is_expect_server_done() {
	if [ "$IS_SERVER_RC" = 0 ]; then
		ok "$1"
	else
		not_ok "$1" "imapserver.py: $IS_SERVER_RC" "$IS_SERVER_ERR"
		rig_show_run
	fi
}

# is_expect_transcript NAME DESC [-D NAME=VALUE...]
is_expect_transcript() {
	local name=$1 desc=$2 out
	shift 2
	if out=$(python3 "$IS_LIB/compare.py" "$IS_DATA/$name.expected" "$IS_TRANSCRIPT" "$@"); then
		ok "$desc"
	else
		not_ok "$desc" "$out"
	fi
}

# is_expect_no_line REGEX DESC: no client line matches REGEX.
is_expect_no_line() {
	local hit
	hit=$(grep -E -- "$1" "$IS_TRANSCRIPT" | grep -v '^=== connection ')
	if [ -z "$hit" ]; then
		ok "$2"
	else
		not_ok "$2" "the client sent: $hit"
	fi
}

# is_expect_summary REGEX DESC: the account's summary line on stderr.
is_expect_summary() {
	local line
	line=$(printf '%s\n' "$RIG_ERR" | grep -oE "$IS_ACCOUNT: (nothing new|[0-9]+ new messages?, .*)" | tail -1)
	like "$line" "^$1" "$2"
}
