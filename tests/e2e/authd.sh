#!/usr/bin/env bash
# tests/e2e/authd.sh - the auth service trusts a worker no more than the network:
# hostile workers (garbage, oversized packets, requests out of order or repeated, a
# worker sending answers) are dropped one by one, an honest worker is served before
# and after them, and the service keeps running (tests/lib/authd-peer.c).
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

peer=$KP_TOP_BUILDDIR/tests/lib/authd-peer
if [ ! -x "$peer" ]; then
	t_fail "authd-peer" "not built: $peer"
	t_summary
	exit 1
fi
mkdir -p "$E2E_DIR/rcache"
out=$("$peer" "${KRB5_KTNAME#FILE:}" "$E2E_DIR/rcache" 2>"$E2E_DIR/authd.log")
printf '%s\n' "$out" | grep -E '^(ok|FAIL) - ' | while IFS= read -r line; do
	case "$line" in
	"ok - "*) echo "$line" ;;
	*) echo "$line"; sed 's/^/    /' "$E2E_DIR/authd.log" | tail -n 20 ;;
	esac
done
T_PASS=$(printf '%s\n' "$out" | grep -c '^ok - ')
T_FAIL=$(printf '%s\n' "$out" | grep -c '^FAIL - ')
printf '%s\n' "$out" | grep -qE '^[0-9]+ passed, 0 failed$' || T_FAIL=$((T_FAIL + 1))
# each drop is logged with its reason
n=$(grep -c "dropped\|drop" "$E2E_DIR/authd.log")
if [ "$n" -ge 7 ]; then t_pass "every dropped worker is logged ($n lines)"; else t_fail "every dropped worker is logged" "$n lines: $(tail -n 5 "$E2E_DIR/authd.log")"; fi
t_summary
