#!/bin/bash
# bad-cert.sh - a server certificate that does not verify is refused
# (exit 69, stderr mentions the certificate) and nothing happens: once
# without the CA, and once against a certificate for another name.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup ca_file=
d=$RIG_DIR
rig_deliver_pdf "$d/doc.pdf"

rig_run once
expect_rc 69 "untrusted CA: once exits 69"
expect_stderr "certificate" "untrusted CA: stderr mentions the certificate"

# Dovecot now serves a certificate for CN=other.invalid (no SAN), trusted
# through ca_file but not for 127.0.0.1 nor localhost.
rig_stop_dovecot
RIG_SERVE_CERT=other rig_start_dovecot
for host in 127.0.0.1 localhost; do
	rig_write_conf "$RIG_CONF" ca_file="\"$RIG_OTHER_CERT\"" host="\"$host\""
	rig_run once
	expect_rc 69 "name mismatch ($host): once exits 69"
	expect_stderr "certificate" "name mismatch ($host): stderr mentions the certificate"
done

expect_nothing_printed "nothing printed"
expect_flags alice INBOX '1' "the message is still unseen"
tap_done
