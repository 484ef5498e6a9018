#!/usr/bin/env bash
# tests/bench/idle.sh - make bench-idle: hold N logged-in idle sessions (AUTH GSSAPI
# + STAT, one principal and Maildir each) against one kpopd and report how many were
# held, the errors, the login rate while they piled up, and the server's memory per
# session (Pss and private dirty over master, auth service and workers, from
# /proc/PID/smaps_rollup).  Figures only; asserts nothing.  Usage: idle.sh [N]
# (default 10000; KPOP_IDLE_N too).  Needs root for a large RLIMIT_NOFILE.
set -eu
src=${KP_TOP_SRCDIR:?}
build=${KP_TOP_BUILDDIR:?}
KPOPD=$build/server/kpopd
KPBENCH=$build/tests/bench/kpbench
N=${1:-${KPOP_IDLE_N:-10000}}
# holders opening sessions in parallel, N/H each (users hK-001 ...; kpbench holds
# at most 1,024)
H=$(( (N + 999) / 1000 ))
[ $H -ge 8 ] || H=8
PW=idle-pw
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench-idle: %s\n' "$*" >&2; }

KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpop-idle.XXXXXX")
chmod 0711 "$KP_TMP"
. "$src/tests/lib/common.sh"
KDC_UP=0 KPOPD_PID="" HOLDER_PID=""
cleanup() {
	local p
	for p in $HOLDER_PID; do stop_pid "$p"; done
	[ -z "$KPOPD_PID" ] || stop_pid "$KPOPD_PID"
	[ $KDC_UP = 0 ] || bash "$src/kdc-test/kdc-test.sh" stop "$KP_TMP/kdc" >/dev/null 2>&1
	rm -rf "$KP_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# every session holds descriptors in the master, the auth service and the holder
need=$((N + 200))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" -lt "$need" ]; then
	say "RLIMIT_NOFILE $(ulimit -n) < $need: holding $(( $(ulimit -n) - 200 )) sessions instead"
	N=$(( $(ulimit -n) - 200 ))
fi

eval "$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>/dev/null)"
KDC_UP=1
M=$(( (N + H - 1) / H ))
N=$((M * H))
say "$N principals and Maildirs"
for h in $(seq 1 $H); do
	for i in $(seq 1 "$M"); do printf 'addprinc -pw %s h%d-%03d\n' "$PW" "$h" "$i"; done
done | kadmin.local -r "$KPOP_TEST_REALM" >"$KP_TMP/kadmin.log" 2>&1
/usr/bin/python3 - "$KP_TMP/mail" "$H" "$M" <<'PY'
import os, sys
top, holders, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for u in ["h%d-%03d" % (h, i) for h in range(1, holders + 1) for i in range(1, m + 1)]:
    md = os.path.join(top, u, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d))
    with open(os.path.join(md, "new", "1700000000.M1P1.idle"), "wb") as f:
        f.write(b"Subject: idle\n\n" + b"i" * 2000 + b"\n")
PY
opts=()
if [ "$(id -u)" = 0 ]; then
	chown -R 61109:61109 "$KP_TMP/mail"
	opts=(-o mail_uid=61109)
fi
port=$(free_port)
"$KPOPD" -F -o log=stderr -o log_level=warn -o keytab="$KRB5_KTNAME" \
	-o rcache_dir="$KP_TMP/kdc/rcache" -o maildir="$KP_TMP/mail/%u/Maildir" \
	-o max_sessions=$((N + 50)) -o max_conn_per_ip=$((N + 50)) -o max_preauth_per_ip=1000 \
	-o pool_spare=32 -o idle_timeout=600 -o auth_failure_delay_ms=0 "${opts[@]}" \
	-L "127.0.0.1:$port pop3" 2>"$KP_TMP/kpopd.log" &
KPOPD_PID=$!
wait_port "$port" 5 || { say "kpopd did not start: $(tail -3 "$KP_TMP/kpopd.log")"; exit 1; }
sleep 1
base=$("$KPBENCH" proc "$KPOPD_PID")
say "opening $N sessions"
t0=$(date +%s.%N)
HOLDER_PID=""
for h in $(seq 1 $H); do
	"$KPBENCH" idle -p "$port" -k "$M" -U "$M" -u "h$h-" -w "$PW" >"$KP_TMP/idle.$h.out" \
		2>>"$KP_TMP/idle.err" &
	HOLDER_PID="$HOLDER_PID $!"
done
for h in $(seq 1 $H); do
	while ! grep -q '^ready' "$KP_TMP/idle.$h.out" 2>/dev/null; do
		alive=0
		for p in $HOLDER_PID; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || break 2
		sleep 0.5
	done
done
t1=$(date +%s.%N)
sleep 2
now=$("$KPBENCH" proc "$KPOPD_PID")
held=$(cat "$KP_TMP"/idle.*.out | awk -F'\t' '/^ready/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); t[kv[1]] += kv[2] } }
	END { printf "sessions=%d\terrors=%d\n", t["sessions"], t["errors"] }')
get() { printf '%s\n' "$1" | tr '\t' '\n' | sed -n "s/^$2=//p"; }
/usr/bin/python3 - "$N" "$held" "$base" "$now" "$t0" "$t1" <<'PY'
import sys
n, held, base, now, t0, t1 = sys.argv[1:]
kv = lambda s: dict(x.split("=", 1) for x in s.split("\t") if "=" in x)
h, b, a = kv(held), kv(base), kv(now)
s = int(h.get("sessions", 0))
secs = float(t1) - float(t0)
print("idle sessions asked %s: held %s, errors %s, opened in %.1f s (%.0f logins/s)"
      % (n, s, h.get("errors", "?"), secs, s / secs if secs > 0 else 0))
for k in sorted(a):
    if k in b and k.endswith("_kb"):
        per = (int(a[k]) - int(b[k])) / s if s else 0
        print("  %-16s before %8s kB  now %9s kB  per session %6.1f kB" % (k, b[k], a[k], per))
    elif k in ("procs", "fds"):
        print("  %-16s before %8s     now %9s" % (k, b.get(k, "?"), a[k]))
PY
[ ! -s "$KP_TMP/idle.err" ] || { say "holder errors:"; head -5 "$KP_TMP/idle.err" >&2; }
grep -c "" "$KP_TMP/kpopd.log" | xargs -I{} echo "  kpopd log lines at warn level: {}"
