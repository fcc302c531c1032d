#!/bin/bash
# auth-forged-from.sh - authenticated_senders_only with authserv_id: only
# the topmost Authentication-Results of "mx.rig.test" counts.  A forged
# From (dmarc=fail), a fake pass BELOW a genuine fail, a pass stamped by
# another authserv-id and a mail without any verdict are rejected (never
# printed, moved to Print Rejected, reason logged); a genuine pass prints,
# even with a fake fail below it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup authenticated_senders_only=true authserv_id='"mx.rig.test"'
d=$RIG_DIR
genuine='Authentication-Results: mx.rig.test; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com'
forged='Authentication-Results: mx.rig.test; spf=fail smtp.mailfrom=example.com; dmarc=fail header.from=example.com'

rig_deliver_pdf "$d/forged.pdf" --from ceo@example.com --header "$forged"
rig_deliver_pdf "$d/fakebelow.pdf" --from ceo@example.com --header "$forged" --header "$genuine"
rig_deliver_pdf "$d/otherid.pdf" --from ceo@example.com \
	--header 'Authentication-Results: mx.evil.example; dmarc=pass header.from=example.com'
rig_deliver_pdf "$d/noverdict.pdf" --from ceo@example.com
rig_deliver_pdf "$d/genuine.pdf" --from bob@example.com --header "$genuine"
rig_deliver_pdf "$d/genuine-fakefail.pdf" --from bob@example.com --header "$genuine" --header "$forged"

rig_run once
expect_rc 0 "once exits 0"
expect_printed "only the two genuinely authenticated mails printed" \
	"$d/genuine.pdf" "$d/genuine-fakefail.pdf"
is "$(rig_jobs | cut -f3,4 | sort | paste -sd ' ')" \
	"bob@example.com	genuine-fakefail.pdf bob@example.com	genuine.pdf" \
	"CUPS has exactly the two genuine jobs"
expect_counts alice "2/0/0/4" "the four unauthenticated mails moved to Print Rejected"
expect_stderr "dmarc=fail" "stderr gives the failed verdict as the reason"
expect_stderr "ceo@example\.com" "stderr names the rejected sender"
expect_stderr "no Authentication-Results|not authenticated|unauthenticated" \
	"stderr says a mail without a verdict of mx.rig.test is not authenticated"

rig_run once
expect_rc 0 "a second pass exits 0"
is "$(rig_job_count)" 2 "the rejected mails are not tried again"
expect_counts alice "2/0/0/4" "nothing moved"
tap_done
