#!/bin/bash
# wrong-security.sh - the wrong security for the port is recognised within
# seconds, not after the whole timeout, with the fix (#14 item 5): against
# the rig's Dovecot, which has a plain IMAP listener (STARTTLS) and one that
# speaks TLS at once:
#   security = "starttls" or "none" on the TLS port: 'use security = "ssl"';
#   security = "ssl" on the plain port: 'use security = "starttls"';
# exit 78 (a setting to change), and the right pair still works.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
# A long timeout: the old code waited all of it for a greeting.
timeout_s=40

# try NAME SECURITY PORT: once with that pair; RIG_RC, RIG_ERR, secs.
try() {
	rig_write_conf "$d/$1.conf" security="\"$2\"" port="$3"
	sed -i "s|^timeout = .*|timeout = $timeout_s;|" "$d/$1.conf"
	local t0=$SECONDS
	RIG_RUN_CONF=$d/$1.conf rig_run once
	secs=$((SECONDS - t0))
}

try tls-port starttls "$RIG_IMAPS_PORT"
expect_rc 78 "starttls against the port that speaks TLS at once: 78"
expect_stderr "port $RIG_IMAPS_PORT of 127\.0\.0\.1 speaks TLS at once.*use security = \"ssl\"" \
	"... saying to use security = \"ssl\""
[ "$secs" -lt $((timeout_s / 2)) ] && ok "... in $secs s, well before the ${timeout_s} s timeout" ||
	not_ok "... in $secs s, well before the ${timeout_s} s timeout"

try none-tls none "$RIG_IMAPS_PORT"
expect_rc 78 "security none against the TLS port: 78"
expect_stderr "speaks TLS at once.*use security = \"ssl\"" "... saying to use ssl"

try plain-port ssl "$RIG_IMAP_PORT"
expect_rc 78 "ssl against the plain port: 78"
expect_stderr "port $RIG_IMAP_PORT of 127\.0\.0\.1 speaks IMAP without TLS.*use security = \"starttls\"" \
	"... saying to use security = \"starttls\""
[ "$secs" -lt $((timeout_s / 2)) ] && ok "... in $secs s" || not_ok "... in $secs s"

# The right pairs still sign in (nothing to print: exit 0).
try right-starttls starttls "$RIG_IMAP_PORT"
expect_rc 0 "starttls on the plain port works"
try right-ssl ssl "$RIG_IMAPS_PORT"
expect_rc 0 "ssl on the TLS port works"
tap_done
