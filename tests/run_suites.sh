#!/bin/sh
# make test: run every suite (a make target each), go on after a failure so
# one run shows every failing suite, and end with one summary line:
#   make test: N passed, N failed (failed: test-x test-y)
# Exit status 0 only when every suite passed.
#
#   tests/run_suites.sh MAKE SUITE...
set -u
make=$1
shift
passed=0 failed=0 names=""
for s in "$@"; do
	t0=$(date +%s)
	echo "==== $s"
	if $make --no-print-directory "$s"; then
		passed=$((passed + 1))
		echo "==== $s: passed ($(( $(date +%s) - t0 )) s)"
	else
		failed=$((failed + 1)) names="$names $s"
		echo "==== $s: FAILED ($(( $(date +%s) - t0 )) s)"
	fi
done
if [ "$failed" -eq 0 ]; then
	echo "make test: $passed passed, 0 failed"
else
	echo "make test: $passed passed, $failed failed (failed:$names)"
	exit 1
fi
