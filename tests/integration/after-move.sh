#!/bin/bash
# after-move.sh - after = "move": the printed message goes to "Printed";
# after = "delete": it is gone from INBOX and not in Printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup after='"move"'
d=$RIG_DIR
rig_deliver_pdf "$d/a.pdf"

rig_run once
expect_rc 0 "move: once exits 0"
expect_printed "move: the PDF is printed" "$d/a.pdf"
expect_counts alice "0/1/0" "move: the message is in Printed"
expect_flags alice Printed '1 \Seen' "move: and \Seen there"

rig_write_conf "$RIG_CONF" after='"delete"'
rig_deliver_pdf "$d/b.pdf"
rig_run once
expect_rc 0 "delete: once exits 0"
expect_printed "delete: the second PDF is printed too" "$d/a.pdf" "$d/b.pdf"
expect_counts alice "0/1/0" "delete: the message is gone from INBOX"
tap_done
