#!/bin/bash
# test.sh - the project's whole test run: dependencies, build with warnings
# as errors, unit and integration tests.  Run from anywhere; exits like
# make check.
#
#   scripts/test.sh [plain|sanitizers]
#
# Builds out of tree, in build/plain (default) or build/sanitizers
# (./configure --enable-sanitizers: ASan + UBSan, and a test fails on any
# sanitizer report, see tests/sanitizer-driver.sh), so both can live side
# by side.  The source tree itself must not be configured in place (run
# "make distclean" there first).  M2C_NO_DEPS=1 skips scripts/install-deps.sh
# (.ci/run installs once for both runs).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
kind=${1:-plain}
case $kind in
plain) flags=() ;;
sanitizers) flags=(--enable-sanitizers) ;;
*)
	echo "usage: scripts/test.sh [plain|sanitizers]" >&2
	exit 64
	;;
esac
if [ -f config.status ]; then
	echo "test.sh: $top is configured in place; run \"make distclean\" there first" \
		"(test.sh builds in build/$kind)" >&2
	exit 1
fi
[ "${M2C_NO_DEPS:-}" = 1 ] || scripts/install-deps.sh
./autogen.sh
mkdir -p "build/$kind"
cd "build/$kind"
"$top/configure" --enable-werror --with-dovecot "${flags[@]}"	# CI: the Dovecot plugin is built, never skipped
make -j2
make -j2 check
