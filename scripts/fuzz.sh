#!/usr/bin/env bash
# scripts/fuzz.sh BIN SECONDS [NAME...] - make fuzz-run: each libFuzzer harness of
# tests/fuzz/ (all, or the NAMEs given) for SECONDS, niced, one after the other.
# Inputs kept in tests/fuzz/crashes/ are replayed first (a fixed crash must stay
# fixed).  The committed seeds (tests/fuzz/corpus/NAME) start a working corpus under
# BIN/../work/NAME that grows across runs; tests/fuzz/dict/NAME.dict is used when
# present, tests/fuzz/NAME.options adds libFuzzer flags (one a line).  A crash or
# sanitizer report: its input is kept as tests/fuzz/crashes/NAME-*, the report says
# which function failed, and the run fails.  Prints executions and coverage per
# harness as it goes, a table of them at the end (executions, exec/s, libFuzzer's
# cov: and ft:, the working corpus's units and bytes, the result; also written to
# BIN/../work/summary.txt), and "N passed, N failed".
set -u
bin=${1:?usage: fuzz.sh BIN SECONDS [NAME...]}
secs=${2:-20}
shift 2 || shift $#
top=$(cd "$(dirname "$0")/.." && pwd)
fz="$top/tests/fuzz"
work=$(cd "$bin/.." && pwd)/work
crashes="$fz/crashes"
mkdir -p "$work" "$crashes"
pass=0
fail=0
rows=()

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for h in "$bin"/fuzz-*; do
		[ -x "$h" ] && names+=("$(basename "$h" | sed 's/^fuzz-//')")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "FAIL - no harnesses in $bin (make fuzz)"
	echo "0 passed, 1 failed"
	exit 1
fi

# The function a sanitizer report or an invariant check blames: the first frame
# in kpop's own sources (not libFuzzer's, the sanitizer's or a library's).
blame() {
	local f
	f=$(grep -m1 -o 'invariant broken in [^:]*' "$1" | sed 's/invariant broken in //')
	[ -n "$f" ] || f=$(grep -E '^ +#[0-9]+ ' "$1" | grep -E '/(common|server|client|tests/fuzz)/' |
		grep -v -E 'fuzz\.h|LLVMFuzzer' | head -n 1 | sed -E 's/.* in ([^ ]+) .*/\1/')
	[ -n "$f" ] || f=$(grep -E '^ +#[0-9]+ ' "$1" | grep -E '/(common|server|client|tests/fuzz)/' |
		head -n 1 | sed -E 's/.* in ([^ ]+) .*/\1/')
	printf '%s' "${f:-unknown}"
}

for name in "${names[@]}"; do
	h="$bin/fuzz-$name"
	log="$work/$name.log"
	if [ ! -x "$h" ]; then
		echo "FAIL - fuzz $name: no harness $h"
		fail=$((fail + 1))
		continue
	fi
	opts=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -close_fd_mask=3)
	[ -f "$fz/dict/$name.dict" ] && opts+=("-dict=$fz/dict/$name.dict")
	if [ -f "$fz/$name.options" ]; then
		while read -r o; do
			case "$o" in ''|'#'*) ;; *) opts+=("$o") ;; esac
		done < "$fz/$name.options"
	fi
	# 1. earlier crashes must not crash again
	old=()
	for c in "$crashes/$name"-*; do [ -f "$c" ] && old+=("$c"); done
	if [ ${#old[@]} -gt 0 ]; then
		if ! nice -n 10 "$h" "${opts[@]}" "${old[@]}" > "$log" 2>&1; then
			echo "FAIL - fuzz $name: a kept crash input fails again in $(blame "$log") (log: $log)"
			fail=$((fail + 1))
			rows+=("$(printf '%-10s %6s %12s %9s %6s %7s %7s %9s  %s' "$name" 0 - - - - - - \
				"KEPT CRASH fails again in $(blame "$log")")")
			continue
		fi
	fi
	# 2. fuzz for the time given
	mkdir -p "$work/$name"
	seeds=()
	[ -d "$fz/corpus/$name" ] && seeds+=("$fz/corpus/$name")
	nice -n 10 "$h" "${opts[@]}" -max_total_time="$secs" -artifact_prefix="$crashes/$name-" \
		"$work/$name" "${seeds[@]}" > "$log" 2>&1
	rc=$?
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(printf '%s' "$last" | sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/p')
	row=$(printf '%s' "$last" | sed -nE 's#.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)/([0-9]+[a-zA-Z]*).*#\1 \2 \3 \4#p')
	read -r c_cov c_ft c_units c_bytes <<<"${row:-? ? ? ?}"
	if [ $rc -ne 0 ] || grep -q -E '^==[0-9]+==ERROR|runtime error:|invariant broken' "$log"; then
		input=$(grep -o -E "(Test unit|artifact) written to [^ ]+" "$log" | tail -n 1 | sed 's/.* to //')
		echo "FAIL - fuzz $name: crash in $(blame "$log"); input kept in ${input:-?} (log: $log)"
		grep -m1 -E 'ERROR: |runtime error:|invariant broken' "$log" | sed 's/^/    /'
		fail=$((fail + 1))
		result="CRASH in $(blame "$log")"
	else
		echo "ok - fuzz $name: ${secs}s, ${execs:-?} executions, ${cov:-no coverage line}"
		pass=$((pass + 1))
		result=ok
	fi
	rows+=("$(printf '%-10s %6s %12s %9s %6s %7s %7s %9s  %s' "$name" "${secs}" "${execs:-?}" \
		"${eps:-?}" "$c_cov" "$c_ft" "$c_units" "$c_bytes" "$result")")
done
if [ ${#rows[@]} -gt 0 ]; then
	{
		printf '%-10s %6s %12s %9s %6s %7s %7s %9s  %s\n' harness secs executions exec/s \
			cov ft corpus bytes result
		printf '%s\n' "${rows[@]}"
	} | tee "$work/summary.txt"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
