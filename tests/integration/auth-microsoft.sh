#!/bin/bash
# auth-microsoft.sh - authenticated_senders_only for a Microsoft 365
# account (oauth provider "microsoft", signed in at the fake IdP, XOAUTH2
# to Dovecot): the topmost Authentication-Results without authserv-id
# counts.  Mail from inside the tenant (X-MS-Exchange-Organization-AuthAs:
# Internal, or dmarc=none from the tenant's own domain) and an external
# dmarc=pass print; a spoofed tenant address (dmarc=fail, compauth=fail),
# dmarc=none with compauth=fail, and a fake pass below a genuine fail are
# rejected into Print Rejected.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
RIG_USER=alice@contoso.com
rig_setup_oauth ms
rig_write_oauth_conf "$RIG_CONF" authenticated_senders_only=true \
	allow_senders='[ "*@contoso.com", "*@example.com" ]' tenant_domains='[ "contoso.com" ]'
d=$RIG_DIR
rig_device_login
[ "$RIG_RC" = 0 ] || bail "device login failed: $RIG_ERR"

ms_pass='Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100'
ms_spoof='Authentication-Results: spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=contoso.com;compauth=fail reason=000'
ms_none='Authentication-Results: spf=none (sender IP is 203.0.113.9) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=contoso.com;compauth=none reason=405'
ms_none_bad='Authentication-Results: spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=contoso.com; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=contoso.com;compauth=fail reason=601'
rig_deliver_pdf "$d/internal.pdf" --from carol@contoso.com \
	--header 'X-MS-Exchange-Organization-AuthAs: Internal'
rig_deliver_pdf "$d/tenant-none.pdf" --from dave@contoso.com --header "$ms_none"
rig_deliver_pdf "$d/external.pdf" --from bob@example.com --header "$ms_pass"
rig_deliver_pdf "$d/spoof.pdf" --from ceo@contoso.com --header "$ms_spoof"
rig_deliver_pdf "$d/none-compfail.pdf" --from ceo@contoso.com --header "$ms_none_bad"
rig_deliver_pdf "$d/fakebelow.pdf" --from ceo@contoso.com --header "$ms_spoof" \
	--header 'Authentication-Results: dmarc=pass header.from=contoso.com'

rig_run once
expect_rc 0 "once exits 0"
expect_printed "the internal, tenant and externally authenticated mails printed" \
	"$d/internal.pdf" "$d/tenant-none.pdf" "$d/external.pdf"
expect_counts "$RIG_USER" "3/0/0/3" "the three spoofed mails moved to Print Rejected"
expect_stderr_line "the spoof is rejected for dmarc=fail" "ceo@contoso\.com|dmarc=fail" "dmarc=fail|compauth=fail"
tap_done
