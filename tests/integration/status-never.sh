#!/bin/bash
# status-never.sh - before any pass every account is not-configured (exit
# 1, text and JSON), and status writes nothing: no state database appears.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup

rig_run status
expect_rc 1 "never run: status exits 1"
like "$RIG_OUT" "^test: not-configured \(never checked" "the account is not-configured"
like "$RIG_OUT" $'\n    fix: run mail2cups -c '"$RIG_CONF"' once' "the fix says to run a pass (with the config)"
is "$(ls -A "$RIG_STATE")" "" "status created nothing in state_dir"

rig_run status --json
expect_rc 1 "--json: exits 1"
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys
a = json.load(sys.stdin)["accounts"]
print(len(a), a[0]["name"], a[0]["status"], a[0]["last_check"])')" \
	"1 test not-configured None" "--json: one account, not-configured, never checked"

rig_run status --bogus
expect_rc 64 "an unknown option exits 64"
tap_done
