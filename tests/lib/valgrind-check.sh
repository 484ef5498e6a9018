#!/usr/bin/env bash
# tests/lib/valgrind-check.sh DIR - the reports tests/lib/valgrind.sh left in DIR:
# one "ok"/"FAIL" line per process that ran under memcheck, the first report of a
# failing one quoted, and "N passed, N failed".
dir=${1:?usage: valgrind-check.sh DIR}
pass=0
fail=0
for log in "$dir"/*.log; do
	[ -f "$log" ] || continue
	if [ -s "$log" ]; then
		echo "FAIL - memcheck report in $(basename "$log"):"
		grep -m 12 -E '==[0-9]+== ' "$log" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "ok - $pass processes ran under memcheck without a report"
[ $((pass + fail)) -gt 0 ] || { echo "FAIL - no process ran under memcheck"; fail=1; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
