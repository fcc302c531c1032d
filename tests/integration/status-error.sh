#!/bin/bash
# status-error.sh - a pass refused by the server: status says error with
# the reason and a fix, exit 2 (text and JSON); the next good pass is ok.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"
printf '%s' wrong >"$d/alice.pass"

rig_run once
expect_rc 77 "once exits 77 (sign-in refused)"

rig_run status
expect_rc 2 "status exits 2"
like "$RIG_OUT" "^test: error since [0-9-]+ [0-9:]+ \(just now\): IMAP server 127\.0\.0\.1 refused the sign-in" \
	"the error line has the time and the server's refusal"
like "$RIG_OUT" $'\n    fix: check username \(alice\) and the password in password_file' \
	"the fix names the user and the password file"
if [[ $RIG_OUT == *wrong* ]]; then not_ok "the password is not shown"; else ok "the password is not shown"; fi

rig_run status --json
expect_rc 2 "--json: exits 2"
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys
a = json.load(sys.stdin)["accounts"][0]
print(a["status"], "refused the sign-in" in a["reason"], a["fix"].startswith("check username"),
      a["last_ok"], a["since"] == a["last_check"])')" \
	"error True True None True" "--json: error with reason, fix, never ok, since = last check"
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys
a = json.load(sys.stdin)["accounts"][0]
print(a["step"], a["code"])')" \
	"imap auth" "--json: the failed step and the error code, as data"

printf '%s' "$RIG_PASS" >"$d/alice.pass"
rig_run once
expect_rc 0 "with the right password once exits 0"
rig_run status
expect_rc 0 "and status is ok again (exit 0)"
like "$RIG_OUT" "^test: ok \(last pass just now; 1 printed today; 0 pending\)$" "ok line"
rig_run status --json
expect_rc 0 "--json: exits 0"
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys
a = json.load(sys.stdin)["accounts"][0]
print(a["status"], a["step"], a["code"])')" "ok None None" "--json: ok has no step and no code"
tap_done
