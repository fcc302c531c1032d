#!/bin/bash
# check-config-error.sh - a config error: exit 78, FILE:LINE on stderr,
# no account checked.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_require_program
rig_init
rig_write_conf "$RIG_CONF" security='"tls"'

rig_run check
expect_rc 78 "check exits 78"
expect_stderr "${RIG_CONF//./\\.}:[0-9]+: .*security" "stderr names FILE:LINE and the key"
is "$RIG_OUT" "" "nothing on stdout"
tap_done
