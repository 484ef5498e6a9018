#!/usr/bin/env bash
# tests/lib/sanitizer-check.sh DIR - the ASan/UBSan/LSan reports that make
# check-sanitizers' processes left in DIR (tests/run-tests.sh moves each part's
# into DIR/PART): one FAIL per report with the part, the kind and its first frames
# in our code, and "N passed, N failed".  No report at all is the pass.
dir=${1:?usage: sanitizer-check.sh DIR}
fail=0
n=0
while IFS= read -r -d '' log; do
	n=$((n + 1))
	[ -s "$log" ] || continue
	# A file of warnings only (tests/e2e/faults.sh fails the symbolizer's pipe
	# writes: "Can't read from symbolizer") is no report; any ERROR, runtime error
	# or SUMMARY is.
	if ! grep -q -E 'ERROR:|runtime error|SUMMARY:' "$log"; then
		echo "note - $(basename "$(dirname "$log")"): $(basename "$log"): $(head -c 120 "$log" | head -1)"
		continue
	fi
	part=$(basename "$(dirname "$log")")
	kind=$(grep -m 1 -o -E 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: .*' "$log" || echo "report")
	echo "FAIL - $part: $(basename "$log"): $kind"
	grep -m 14 -E 'ERROR:|SUMMARY:|runtime error|^ +#[0-9]+ ' "$log" | sed 's/^/    /'
	fail=$((fail + 1))
done < <(find "$dir" -type f -print0 | sort -z)
[ "$fail" -gt 0 ] || echo "ok - no sanitizer report from any process"
echo "$((fail == 0 ? 1 : 0)) passed, $fail failed"
[ "$fail" -eq 0 ]
