#!/usr/bin/env bash
# tests/check-banned.sh - fail on the libc calls STYLE.md bans, in every C source.
src=${1:-.}
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf'
pass=0
fail=0
for f in $(cd "$src" && find common server client tests -name '*.[ch]' | sort); do
	# Match calls only: "name(" not preceded by an identifier character.
	hits=$(grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" "$src/$f" | grep -v '^\s*[0-9]*:\s*/\?\*')
	if [ -n "$hits" ]; then
		echo "FAIL - banned call in $f:"
		printf '%s\n' "$hits" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "ok - $pass files free of banned calls"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
