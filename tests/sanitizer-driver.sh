#!/bin/sh
# sanitizer-driver.sh - the test driver of a build made with
# --enable-sanitizers: runs tap-driver.sh (all its arguments), then fails
# the test when any program it ran wrote an ASan, LSan or UBSan report.
#
# AM_TESTS_ENVIRONMENT points the sanitizers' log_path into DIR/NAME.san/
# (one folder per test, beside its .log), so a report counts even when it
# came from a program the test ran in the background (the daemon and its
# workers) and whose exit status or stderr the test never looked at.  Each
# report is appended to the test's .log, and the .trs gets one more
# ":test-result: ERROR", so the automake summary, test-suite.log and
# .ci/run all count and show it.
#
#   sanitizer-driver.sh DRIVER-COMMAND... (automake's arguments: --test-name N
#                       --log-file L --trs-file T ... -- TEST...)
name= log= trs=
prev=
for a in "$@"; do
	case $prev in
	--test-name) name=$a ;;
	--log-file) log=$a ;;
	--trs-file) trs=$a ;;
	esac
	[ "$a" = -- ] && break
	prev=$a
done
"$@"
rc=$?
[ -n "$log" ] && [ -n "$trs" ] || exit $rc
dir=${log%.log}.san
set -- "$dir"/*
[ -e "$1" ] || exit $rc
{
	printf '\n# %d sanitizer report(s) in %s:\n' "$#" "$dir"
	for f in "$@"; do
		printf '# ---- %s\n' "${f##*/}"
		sed 's/^/# /' "$f"
	done
} >>"$log"
# One more result; the test as a whole is an error and is shown.
sed -i -e 's/^:global-test-result: .*/:global-test-result: ERROR/' \
	-e 's/^:recheck: .*/:recheck: yes/' \
	-e 's/^:copy-in-global-log: .*/:copy-in-global-log: yes/' "$trs"
printf ':test-result: ERROR\n' >>"$trs"
printf 'ERROR: %s - %d sanitizer report(s), in %s\n' "$name" "$#" "$log"
exit $rc
