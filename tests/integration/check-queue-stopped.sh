#!/bin/bash
# check-queue-stopped.sh - a stopped (disabled) queue still takes jobs: a
# warning with cupsenable, the verdict ok, exit 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
rig_cups cupsdisable "$RIG_QUEUE" || bail "cupsdisable failed"

rig_run check
expect_rc 0 "check exits 0"
like "$RIG_OUT" "test: CUPS queue \.+ ok \(m2c: accepting jobs, stopped\)" "the CUPS line is ok, says stopped"
like "$RIG_OUT" $'CUPS queue [^\n]*\n    warning: [^\n]*cupsenable m2c' "a warning with cupsenable"
[[ $RIG_OUT == *FAILED* ]] && not_ok "nothing FAILED" || ok "nothing FAILED"
like "$RIG_OUT" "test: mailbox \.+ ok" "mailbox ok"
tap_done
