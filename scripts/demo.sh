#!/bin/bash
# demo.sh - mail2cups end to end on this machine, leaving nothing running:
# installs only what the programs and the demo rig need
# (scripts/install-deps.sh --demo: no Node.js, no npm), builds out of the
# source tree (in build-demo/, or $DEMO_BUILD), starts a private CUPS +
# virtual printer + Dovecot (tests/rig/rig.sh), delivers a mail with a PDF,
# runs `mail2cups once`, and shows what CUPS and the printer got.
#   scripts/demo.sh [--no-build]      (KEEP_RIG=1 keeps the rig's folder)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${DEMO_BUILD:-$top/build-demo}

if [ -f "$top/config.status" ]; then
	# Configured in the source tree already: a second, out-of-tree
	# configure is refused by automake, so the demo uses that build.
	build=$top
fi
if [ "${1:-}" != --no-build ]; then
	set -e
	scripts/install-deps.sh --demo
	[ -x "$top/configure" ] || ./autogen.sh
	mkdir -p "$build"
	cd "$build"
	[ -f config.status ] || "$top/configure"
	make -j2
	cd "$top"
	set +e
fi

top_srcdir=$top top_builddir=$build MAIL2CUPS=$build/mail2cups
[ -x "$MAIL2CUPS" ] || { echo "demo.sh: $MAIL2CUPS not built (run without --no-build)" >&2; exit 1; }
. "$top/tests/rig/rig.sh"
rig_require_all
rig_init
rig_start_all >/dev/null
step() { printf '\n== %s\n' "$*"; }

step "rig: cupsd on $RIG_CUPS_SOCK, queue $RIG_QUEUE -> ippeveprinter $RIG_PRINTER_URI, Dovecot imaps 127.0.0.1:$RIG_IMAPS_PORT"
rig_deliver "$RIG_USER" "$top/tests/data/mail/sample-pdf.eml"
echo "delivered tests/data/mail/sample-pdf.eml to $RIG_USER's INBOX (unseen):"
rig_flags "$RIG_USER" INBOX | sed 's/^/  UID /'

rig_write_conf "$RIG_CONF"
step "config $RIG_CONF"
cat "$RIG_CONF"

step "${MAIL2CUPS#$top/} -c $RIG_CONF once"
"$MAIL2CUPS" -c "$RIG_CONF" once
echo "exit status $?"
rig_wait_jobs_done || echo "(CUPS still has pending jobs)"

step "lpstat -W completed -o"
rig_cups lpstat -W completed -o
step "CUPS jobs (id, state, user, name)"
if command -v lpq >/dev/null 2>&1; then
	rig_cups lpq -P "$RIG_QUEUE"
fi
rig_jobs
step "what the printer received ($RIG_SPOOL)"
ls -l "$RIG_SPOOL"
for f in $(rig_printed_files); do
	file "$f"
	cmp -s "$f" "$top/tests/data/mail/hello.pdf" && echo "  identical to the attachment (tests/data/mail/hello.pdf)"
done
step "the message on the server now"
rig_flags "$RIG_USER" INBOX | sed 's/^/  UID /'

step "stopping the rig"
rig_stop_all
echo "done: nothing left running"
