# tap.sh - TAP output helpers for the integration tests (bash).
#
#   ok DESC                 a passing test point
#   not_ok DESC [DIAG...]   a failing test point, DIAG lines as "# " comments
#   check DESC CMD...       runs CMD: ok when it exits 0, else not_ok with its output
#   is GOT WANT DESC        string equality
#   like GOT REGEX DESC     bash regex match (=~)
#   skip DESC REASON        a skipped test point (counts as run)
#   diag TEXT...            a "# " comment line
#   skip_all REASON         "1..0 # SKIP REASON" and exit 0
#   bail REASON...          "Bail out! REASON" and exit 1
#   tap_done                prints the plan "1..N" (at the end) and exits 0:
#                           the failures are in the "not ok" lines (a non-zero
#                           exit would make tap-driver count an extra ERROR)
#   tap_on_fail             optional, defined by the caller: run by bail, and
#                           by tap_done when a test failed (e.g. to show the
#                           end of a server's log)
# Skips (skip, skip_all) are failures when CI=true: CI must run everything.
# The one TAP library of the shell tests (bash); its C twin is tests/tap.h.

TAP_N=0
TAP_FAILED=0

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

ok() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s\n' "$TAP_N" "$1"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_N" "$1"
	shift
	local line
	for line in "$@"; do
		diag "$line"
	done
	return 0
}

check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command failed: $*" "$out"
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "got:  '$1'" "want: '$2'" "${@:4}"
	fi
}

like() {
	if [[ $1 =~ $2 ]]; then
		ok "$3"
	else
		not_ok "$3" "got:  '$1'" "want match of: $2"
	fi
}

skip() {
	if [ "${CI:-}" = true ]; then
		not_ok "$1 (skipped in CI: $2)"
		return 0
	fi
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$1" "$2"
}

skip_all() {
	[ "${CI:-}" = true ] && bail "CI=true, nothing may be skipped: $1"
	printf '1..0 # SKIP %s\n' "$1"
	exit 0
}

bail() {
	printf 'Bail out! %s\n' "$*"
	declare -F tap_on_fail >/dev/null && tap_on_fail
	exit 1
}

tap_done() {
	printf '1..%d\n' "$TAP_N"
	if [ "$TAP_FAILED" -ne 0 ]; then
		printf '# %d of %d failed\n' "$TAP_FAILED" "$TAP_N"
		declare -F tap_on_fail >/dev/null && tap_on_fail
	fi
	exit 0
}
