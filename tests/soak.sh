#!/usr/bin/env bash
# tests/soak.sh - make soak (issue 11): K concurrent clients (SOAK_CLIENTS, default
# 64) for SOAK_SECONDS (default 600) against one real kpopd and the test KDC, each
# session the next of seven ways in: AUTH GSSAPI without a layer, with integrity,
# with privacy; KPOP; STLS + AUTH GSSAPI; pop3s + AUTH GSSAPI; pop3s + USER/PASS
# (the password checked at the KDC).  Every session STATs, RETRs and DELEs up to 5
# messages and QUITs (tests/bench/kpbench soak), while an injector delivers
# SOAK_RATE messages a second (default 20) into random users' Maildirs.
# Fails (exit 1) on: any session error; mail lost or duplicated (the initial
# messages + the injected ones must equal those left + those fetched and deleted);
# growth of the server's memory or descriptors: sampled every SOAK_SAMPLE seconds
# (default SOAK_SECONDS/10, at most 60), the last sample may exceed the first after
# warm-up (the first fifth of the run) by at most 20 % + 8 MiB of total RSS, 4 MiB of the master's
# or the auth service's RSS, and 8 descriptors of the master's or the auth
# service's (the workers' count follows the number of open connections at that
# instant, so their total is printed, not judged).
# SOAK_TREE=DIR: the build tree whose kpopd and kpbench run (make soak-sanitizers:
# build-asan/src, with every sanitizer report fatal as in make check-sanitizers;
# there RSS is printed, not judged: ASan's own bookkeeping grows, LSan judges leaks).
set -u
src=${KP_TOP_SRCDIR:?}
build=${SOAK_TREE:-${KP_TOP_BUILDDIR:?}}
KPOPD=$build/server/kpopd
KPBENCH=$build/tests/bench/kpbench
PY=/usr/bin/python3
K=${SOAK_CLIENTS:-64}
SECS=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-20}
SAMPLE=${SOAK_SAMPLE:-$((SECS / 10 < 60 ? SECS / 10 : 60))}
[ "$SAMPLE" -ge 1 ] || SAMPLE=1
INIT=20 # messages per maildrop at the start
PW=soak-pw
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'soak: %s\n' "$*"; }

KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpop-soak.XXXXXX")
chmod 0711 "$KP_TMP"
. "$src/tests/lib/common.sh"
KDC_UP=0 KPOPD_PID="" INJ_PID="" SAMP_PID=""
cleanup() {
	[ -z "$SAMP_PID" ] || stop_pid "$SAMP_PID"
	[ -z "$INJ_PID" ] || stop_pid "$INJ_PID"
	[ -z "$KPOPD_PID" ] || stop_pid "$KPOPD_PID"
	[ $KDC_UP = 0 ] || bash "$src/kdc-test/kdc-test.sh" stop "$KP_TMP/kdc" >/dev/null 2>&1
	if [ "${SOAK_KEEP:-0}" = 1 ]; then say "kept $KP_TMP"; else rm -rf "$KP_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

san=0
if [ "${SOAK_SANITIZERS:-0}" = 1 ]; then
	san=1
	export KP_SAN_LOGS="$KP_TMP/sanitizers"
	mkdir -p "$KP_SAN_LOGS"
	chmod 1777 "$KP_SAN_LOGS"
	# the same options as make check-sanitizers (tests/run-tests.sh)
	# (plus a small quarantine: ASan keeps freed memory up to quarantine_size_mb,
	# 256 MB a process by default, which would look like growth to the samples)
	export ASAN_OPTIONS="halt_on_error=1:exitcode=99:detect_leaks=1:log_path=$KP_SAN_LOGS/san:verify_asan_link_order=0:strict_string_checks=1:check_initialization_order=1:quarantine_size_mb=4:thread_local_quarantine_size_kb=256"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$KP_SAN_LOGS/san"
	export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
fi

eval "$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>/dev/null)" || { say "KDC did not start"; exit 1; }
KDC_UP=1
users=$(seq -f 's%03g' 1 "$K" | paste -sd, -)
for u in ${users//,/ }; do echo "addprinc -pw $PW $u"; done |
	kadmin.local -r "$KPOP_TEST_REALM" >"$KP_TMP/kadmin.log" 2>&1
bash "$src/tests/lib/mkcerts.sh" "$KP_TMP/certs" >/dev/null 2>&1
"$PY" - "$KP_TMP/mail" "$users" "$INIT" <<'PY'
import os, sys
root, users, n = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
for u in users:
    md = os.path.join(root, u, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d))
    for i in range(n):
        with open(os.path.join(md, "new", "1700000000.M%dP1.init" % i), "wb") as f:
            f.write(b"Subject: initial %d\n\n" % i + b"i" * 3000 + b"\n")
PY
opts=() inj_uid=()
if [ "$(id -u)" = 0 ]; then
	chown -R 61109:61109 "$KP_TMP/mail"
	opts=(-o mail_uid=61109)
	inj_uid=(61109)
fi
P_POP3=$(free_port) P_KPOP=$(free_port) P_POP3S=$(free_port)
"$KPOPD" -F -o log=stderr -o log_level=warn -o keytab="$KRB5_KTNAME" \
	-o rcache_dir="$KP_TMP/kdc/rcache" -o maildir="$KP_TMP/mail/%u/Maildir" \
	-o max_sessions=$((K + 100)) -o max_conn_per_ip=$((K + 100)) -o max_preauth_per_ip=$((K + 100)) \
	-o auth_failure_delay_ms=0 -o plaintext_login=yes \
	-o tls_cert="$KP_TMP/certs/server.pem" -o tls_key="$KP_TMP/certs/server.key" "${opts[@]}" \
	-L "127.0.0.1:$P_POP3 pop3" -L "127.0.0.1:$P_KPOP kpop" -L "127.0.0.1:$P_POP3S pop3s" \
	2>"$KP_TMP/kpopd.log" &
KPOPD_PID=$!
if ! wait_port "$P_POP3" 10 || ! wait_port "$P_POP3S" 10; then
	say "kpopd did not start: $(tail -3 "$KP_TMP/kpopd.log")"
	exit 1
fi

say "$K clients, ${SECS}s, $RATE messages/s injected, samples every ${SAMPLE}s; kpopd $KPOPD"
mkdir -m 0777 "$KP_TMP/inj" # the injector's count, written as the mail uid
"$PY" "$src/tests/bench/soak.py" inject "$KP_TMP/mail" "$users" "$RATE" "$KP_TMP/stop" \
	"$KP_TMP/inj/injected" "${inj_uid[@]}" &
INJ_PID=$!
(
	t0=$(date +%s)
	while :; do
		printf 't=%s\t%s\n' "$(($(date +%s) - t0))" "$("$PY" "$src/tests/bench/soak.py" sample "$KPOPD_PID")"
		sleep "$SAMPLE"
	done
) >"$KP_TMP/samples" &
SAMP_PID=$!
line=$("$KPBENCH" soak -k "$K" -U "$K" -u s -w "$PW" -p "$P_POP3" -K "$P_KPOP" -Q "$P_POP3S" \
	-C "$KP_TMP/certs/ca.pem" -s "$SECS" -P "$KPOPD_PID" 2>"$KP_TMP/kpbench.err")
brc=$?
"$PY" "$src/tests/bench/soak.py" sample "$KPOPD_PID" | sed 's/^/t=end\t/' >>"$KP_TMP/samples"
stop_pid "$SAMP_PID"
SAMP_PID=""
touch "$KP_TMP/stop"
wait "$INJ_PID"
INJ_PID=""
sleep 1

fail=0
get() { printf '%s\n' "$1" | tr '\t' '\n' | sed -n "s/^$2=//p" | head -1; }
echo "kpbench: $line"
[ ! -s "$KP_TMP/kpbench.err" ] || sed 's/^/  kpbench: /' "$KP_TMP/kpbench.err" | head -5
sessions=$(get "$line" sessions) errors=$(get "$line" errors) fetched=$(get "$line" msgs)
say "sessions $sessions ($(get "$line" rate)/s), errors $errors; per mechanism:"
printf '%s\n' "$line" | tr '\t' '\n' | sed -n 's/^ok_\(.*\)=\(.*\)/\1 \2/p' | while read -r m n; do
	printf '    %-11s %7s sessions, %s errors\n' "$m" "$n" "$(get "$line" "err_$m")"
done
if [ "$brc" -ne 0 ] || [ -z "$sessions" ] || [ "${errors:-1}" -ne 0 ] || [ "$sessions" -eq 0 ]; then
	say "FAIL: session errors (or no sessions)"
	fail=1
fi
injected=$(cat "$KP_TMP/inj/injected" 2>/dev/null || echo 0)
left=$("$PY" "$src/tests/bench/soak.py" count "$KP_TMP/mail")
initial=$((K * INIT))
say "mail: $initial initial + $injected injected = $((initial + injected)); $fetched fetched and deleted + $left left = $((fetched + left))"
if [ $((initial + injected)) -ne $((fetched + left)) ]; then
	say "FAIL: messages lost or duplicated"
	fail=1
fi
say "samples (t seconds: processes, RSS and descriptors, total and master / auth / workers):"
"$PY" - "$KP_TMP/samples" "$SECS" "$san" <<'PY' || fail=1
import sys
rows = []
for line in open(sys.argv[1]):
    kv = dict(x.split("=", 1) for x in line.strip().split("\t") if "=" in x)
    rows.append(kv)
    print("    t=%-5s procs %3s  rss %7s kB (master %6s, auth %6s, workers %7s)  fds %5s (master %4s, auth %4s, workers %5s)"
          % (kv["t"], kv["procs"], kv["rss_kb"], kv["master_rss_kb"], kv["auth_rss_kb"], kv["workers_rss_kb"],
             kv["fds"], kv["master_fds"], kv["auth_fds"], kv["workers_fds"]))
if len(rows) < 3:
    print("soak: FAIL: fewer than 3 samples"); sys.exit(1)
# warm-up: the first fifth of the run (workers forked, caches filled)
warm = [r for r in rows[:-1] if r["t"] != "end" and int(r["t"]) >= int(sys.argv[2]) // 5]
a, b = (warm[0] if warm else rows[1]), rows[-1]  # first after warm-up, last
bad = []
g = lambda r, k: int(r[k])
# Under ASan RSS is no measure of leaks (its stack depot and allocator caches grow
# with every new allocation stack; LeakSanitizer at each exit judges leaks there):
# only the descriptors are judged, the RSS is printed.
rss_judged = sys.argv[3] != "1"
if rss_judged and g(b, "rss_kb") > g(a, "rss_kb") * 1.2 + 8192:
    bad.append("total RSS %s -> %s kB" % (a["rss_kb"], b["rss_kb"]))
for p in ("master", "auth"):
    if rss_judged and g(b, p + "_rss_kb") > g(a, p + "_rss_kb") + 4096:
        bad.append("%s RSS %s -> %s kB" % (p, a[p + "_rss_kb"], b[p + "_rss_kb"]))
    if g(b, p + "_fds") > g(a, p + "_fds") + 8:
        bad.append("%s fds %s -> %s" % (p, a[p + "_fds"], b[p + "_fds"]))
if bad:
    print("soak: FAIL: growth beyond the margins: " + "; ".join(bad)); sys.exit(1)
print("soak: flat: last sample within the margins of the first after warm-up (t=%s)" % a["t"])
PY
if ! kill -0 "$KPOPD_PID" 2>/dev/null; then
	say "FAIL: kpopd is gone"
	fail=1
fi
stop_pid "$KPOPD_PID"
KPOPD_PID=""
sleep 1
if [ $san = 1 ]; then
	if bash "$src/tests/lib/sanitizer-check.sh" "$KP_SAN_LOGS" | sed 's/^/    /' | grep -v 'passed,'; then :; fi
	bash "$src/tests/lib/sanitizer-check.sh" "$KP_SAN_LOGS" >/dev/null || { say "FAIL: sanitizer reports"; fail=1; }
fi
n=$(grep -c -v -E 'warning: auth_user|warning: worker_user' "$KP_TMP/kpopd.log" || true)
say "kpopd log lines at warn level and above: $n"
[ "$n" -eq 0 ] || grep -v -E 'warning: auth_user|warning: worker_user' "$KP_TMP/kpopd.log" | head -5 | sed 's/^/    /'
if [ $fail = 0 ]; then say "PASS"; else say "FAIL"; fi
exit $fail
