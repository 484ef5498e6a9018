#!/usr/bin/env bash
# tests/lib/sanitizer-canary.sh CANARY - make check-sanitizers' own test: with the
# suite's ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS (only log_path moved to a
# scratch directory of the same mode 1777), a child that dropped root and leaks,
# overflows a heap buffer or overflows a signed int must leave a report of that
# kind (tests/lib/sancanary.c).  If this fails, the tier would pass whatever the
# code did.
canary=${1:?usage: sanitizer-canary.sh CANARY}
: "${KP_SAN_LOGS:?}" "${KP_TMP:?}"
pass=0
fail=0
for c in "leak:ERROR: LeakSanitizer: detected memory leaks" \
	"overflow:ERROR: AddressSanitizer: heap-buffer-overflow" \
	"undefined:runtime error: signed integer overflow"; do
	what=${c%%:*} want=${c#*:}
	d="$KP_TMP/sancanary-$what"
	mkdir -p "$d"
	chmod 1777 "$d"
	ASAN_OPTIONS=${ASAN_OPTIONS//$KP_SAN_LOGS/$d} UBSAN_OPTIONS=${UBSAN_OPTIONS//$KP_SAN_LOGS/$d} \
		"$canary" "$what"
	if grep -l -F -e "$want" "$d"/* >/dev/null 2>&1 && grep -q -F sancanary.c "$d"/*; then
		echo "ok - a child that dropped root: $what reported in the log directory"
		pass=$((pass + 1))
	else
		echo "FAIL - a child that dropped root: no \"$want\" report in $d:"
		ls -l "$d" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	rm -rf "$d"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
