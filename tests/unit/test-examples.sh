#!/bin/bash
# test-examples.sh - the example configurations in doc/examples/ load
# without a problem, and README.md shows each of them as it is.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/rig/tap.sh"
src=${top_srcdir:-.}
load=${top_builddir:-.}/tests/unit/conf-load
for f in "$src"/doc/examples/*.conf; do
	out=$("$load" "$f" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && ok "$(basename "$f") loads" || not_ok "$(basename "$f") loads" "$out"
	want=$(sed 's/^\(.\)/    \1/' "$f")
	python3 - "$src/README.md" "$want" <<'PY' && ok "README shows $(basename "$f")" || not_ok "README shows $(basename "$f")"
import sys
sys.exit(0 if sys.argv[2] in open(sys.argv[1]).read() else 1)
PY
done
tap_done
