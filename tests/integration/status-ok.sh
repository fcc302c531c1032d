#!/bin/bash
# status-ok.sh - after a good pass that printed one PDF: ok, exit 0, one
# printed today, nothing pending (text and JSON); the database is only read.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_deliver_pdf "$d/report.pdf" --from bob@example.com

rig_run once
expect_rc 0 "once exits 0"
expect_printed "the PDF printed" "$d/report.pdf"

sum_before=$(sha256sum "$RIG_STATE/state.db")
rig_run status
expect_rc 0 "status exits 0"
is "$RIG_OUT" "test: ok (last pass just now; 1 printed today; 0 pending)" "one ok line with the counts"
is "$(sha256sum "$RIG_STATE/state.db")" "$sum_before" "status did not change the database"

rig_run status --json
expect_rc 0 "--json: exits 0"
now=$(date +%s)
is "$(printf '%s' "$RIG_OUT" | python3 -c 'import json, sys
now = int(sys.argv[1])
a = json.load(sys.stdin)["accounts"][0]
print(a["name"], a["status"], a["printed_today"], a["pending"], a["reason"],
      abs(now - a["last_check"]) < 120, a["last_ok"] == a["last_check"], a["sign_in"])' "$now")" \
	"test ok 1 0 None True True None" "--json: ok, printed_today 1, pending 0, last_check now"

# A second pass prints nothing new; today's count stays 1.
rig_run once
rig_run status
is "$RIG_OUT" "test: ok (last pass just now; 1 printed today; 0 pending)" "still one printed today"
tap_done
