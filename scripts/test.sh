#!/bin/bash
# test.sh - the project's whole test run: dependencies, build with warnings
# as errors, unit and integration tests.  Run from anywhere; exits like
# make check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
./autogen.sh
./configure --enable-werror --with-dovecot	# CI: the Dovecot plugin is built, never skipped
make -j2
make -j2 check
