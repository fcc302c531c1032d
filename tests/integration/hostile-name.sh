#!/bin/bash
# hostile-name.sh - an attachment named "../../x.pdf" is printed, and no
# file is created from that name anywhere: not beside or above state_dir,
# its scratch folder, the working directory, nor in /tmp.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make check runs $(SHELL)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/rig.sh"
rig_setup
d=$RIG_DIR
rig_mkmail pdf "$d/doc.pdf" "hostile-name"
rig_mkmail mail "$d/m.eml" --attach "$d/doc.pdf:../../x.pdf:application/pdf"
rig_deliver alice "$d/m.eml"
tmp_before=$(ls -ld --time-style=full-iso /tmp/x.pdf 2>/dev/null)
# Run from deep inside the rig, so "../../" from the working directory stays
# inside the rig too and can be checked.
mkdir -p "$d/cwd/a/b"

cd "$d/cwd/a/b" || bail "cannot enter $d/cwd/a/b"
rig_run once
cd - >/dev/null || bail "cannot go back"
expect_rc 0 "once exits 0"
expect_printed "the PDF is printed byte for byte" "$d/doc.pdf"
expect_flags alice INBOX '1 \Seen' "the message is \Seen"
found=$(find "$d" -name 'x.pdf' -not -path "$RIG_SPOOL/*" 2>/dev/null)
is "$found" "" "no x.pdf anywhere in the rig (state, scratch, cwd and their parents)"
is "$(ls -ld --time-style=full-iso /tmp/x.pdf 2>/dev/null)" "$tmp_before" "no /tmp/x.pdf created"
for p in / "$(dirname "$top_builddir")" "$top_builddir"; do
	[ -e "$p/x.pdf" ] && [ "$p/x.pdf" -nt "$d/m.eml" ] && not_ok "no $p/x.pdf created" && continue
	ok "no $p/x.pdf created"
done
tap_done
