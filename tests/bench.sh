#!/usr/bin/env bash
# tests/bench.sh - make bench: kpopd side by side with Dovecot on one throwaway realm,
# interleaved rounds, medians and kpopd/Dovecot ratios.  Prints figures; asserts
# nothing.  Usage: bench.sh [--quick] [--no-dovecot] [--fetch-only]
#   --quick       a smoke run (one round, 1 s runs, K = 1 and 8, small mailboxes)
#   --no-dovecot  kpopd's own rows only
#   --fetch-only  only the client rows (kpop, mpop, fetchmail fetching from kpopd)
# Results: the table on stdout; bench-results.tsv and bench-results.json in the
# build directory (KPOP_BENCH_OUT=DIR to put them elsewhere); raw runs in
# bench-raw.tsv and bench-errors.log (kpbench's messages) there too.  KPOP_BENCH_KEEP=1 keeps the temp dir (logs) at the end.
# KPOP_BENCH_ROWS=REGEX (grep -E) runs only the session and RETR rows whose name
# matches, e.g. 'GSSAPI\+STAT|KPOP' for the login-rate rows; the big-maildrop,
# idle-memory and client-fetch rows are then skipped.
# KPOP_BENCH_HOOK=SCRIPT: after the warm-up, run SCRIPT (bash) against the running
# servers instead of the rows (K_POP3, K_KPOP, KPOPD_PID, D_POP3, DOVECOT_PID,
# KPBENCH, PW, KP_TMP exported), then stop: for profiling one row by hand.
set -eu
src=${KP_TOP_SRCDIR:?}
build=${KP_TOP_BUILDDIR:?}
KPOPD=$build/server/kpopd
KPOP=$build/client/kpop
KPBENCH=$build/tests/bench/kpbench
PYTHON=/usr/bin/python3
out_dir=${KPOP_BENCH_OUT:-$build}
PATH=$PATH:/usr/sbin:/sbin

quick=0 want_dovecot=1 fetch_only=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	--no-dovecot) want_dovecot=0 ;;
	--fetch-only) fetch_only=1 want_dovecot=0 ;;
	*) echo "usage: $0 [--quick] [--no-dovecot] [--fetch-only]" >&2; exit 2 ;;
	esac
done
if [ $quick = 1 ]; then
	ROUNDS=1 SECS=1 KS="1 8" RETR_MIB=4 IDLE_NS="40" BIG_MSGS=2000 FETCH_MSGS=300
else
	ROUNDS=3 SECS=3 KS="1 8 64" RETR_MIB=32 IDLE_NS="40 400" BIG_MSGS=100000 FETCH_MSGS=10000
fi
# KPOP_BENCH_RETR_MIB: the size of the RETR message (e.g. 1 or 10 for small-message
# TLS figures); KPOP_BENCH_ROUNDS: rounds; KPOP_BENCH_FETCH_MSGS: the client rows'
# mailbox size; KPOP_BENCH_KPOP_OTHER (below): another kpop to compare.
RETR_MIB=${KPOP_BENCH_RETR_MIB:-$RETR_MIB}
FETCH_MSGS=${KPOP_BENCH_FETCH_MSGS:-$FETCH_MSGS}
if [ $fetch_only = 1 ]; then
	KS="1" IDLE_NS="" BIG_MSGS=1 RETR_MIB=1
fi
ROUNDS=${KPOP_BENCH_ROUNDS:-$ROUNDS}
ROW_RE=${KPOP_BENCH_ROWS:-}
if [ -n "$ROW_RE" ]; then
	IDLE_NS="" BIG_MSGS=1 FETCH_MSGS=1
fi
NUSERS=0
for n in $KS $IDLE_NS; do [ "$n" -le $NUSERS ] || NUSERS=$n; done
PW=bench-pw

# Every mailbox belongs to this one uid: kpopd's mail_uid and Dovecot's mail_uid
# (virtual users).  Numeric, no passwd entry needed; only used when we are root.
BENCH_UID=${KPOP_BENCH_UID:-61109}

KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpop-bench.XXXXXX")
chmod 0711 "$KP_TMP" # the mail uid and Dovecot's users must traverse it
. "$src/tests/lib/common.sh"
KDC_UP=0 KPOPD_PID="" DOVECOT_PID="" HOLDER_PID=""
cleanup() {
	[ -z "$HOLDER_PID" ] || stop_pid "$HOLDER_PID"
	[ -z "$KPOPD_PID" ] || stop_pid "$KPOPD_PID"
	[ -z "$DOVECOT_PID" ] || stop_pid "$DOVECOT_PID"
	[ $KDC_UP = 0 ] || bash "$src/kdc-test/kdc-test.sh" stop "$KP_TMP/kdc" >/dev/null 2>&1
	if [ "${KPOP_BENCH_KEEP:-0}" = 1 ]; then
		say "kept $KP_TMP (logs: kpopd.log, dovecot/dovecot.log, kpbench.err)"
	else
		rm -rf "$KP_TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf 'bench: %s\n' "$*" >&2; }

# --- the realm: one principal per mailbox -----------------------------------------
eval "$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>/dev/null)"
KDC_UP=1
{
	for i in $(seq -w 001 $(printf '%03d' $NUSERS)); do echo "addprinc -pw $PW b$i"; done
	for p in r001 h001 f001; do echo "addprinc -pw $PW $p"; done
} | kadmin.local -r "$KPOP_TEST_REALM" >"$KP_TMP/kadmin.log" 2>&1
bash "$src/tests/lib/mkcerts.sh" "$KP_TMP/certs"
CA=$KP_TMP/certs/ca.pem

# --- mailboxes: the same content for both servers, in two trees --------------------
#   bNNN: 10 messages of 2 KiB (the session rows, idle sessions)
#   r001: one message of RETR_MIB MiB (RETR throughput)
#   h001: BIG_MSGS messages of ~300 bytes (login to a big maildrop)
#   f001: FETCH_MSGS messages of ~1 KiB (client-side fetch; kpopd's tree only)
say "making mailboxes ($NUSERS users, $BIG_MSGS-message maildrop)"
"$PYTHON" - "$KP_TMP" "$NUSERS" "$RETR_MIB" "$BIG_MSGS" "$FETCH_MSGS" <<'PY'
import os, sys
top, nusers, retr_mib, big, fetch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def maildir(root, user):
    md = os.path.join(root, user, "Maildir")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    return os.path.join(md, "new")

def put(new, i, data):
    with open(os.path.join(new, "17%08d.M%dP1.bench" % (i, i)), "wb") as f:
        f.write(data)

hdr = lambda i: b"From: bench@kpop.test\nTo: user@kpop.test\nSubject: bench %d\n\n" % i
small = (b"y" * 70 + b"\n") * 28
line = b"x" * 70 + b"\n"
big_msg = hdr(0) + b"".join(line if j % 50 else b"." + line
                            for j in range(retr_mib * 1024 * 1024 // len(line)))
tiny = b"z" * 60 + b"\n"
for root in ("mail-kpopd", "mail-dovecot"):
    root = os.path.join(top, root)
    for u in range(1, nusers + 1):
        new = maildir(root, "b%03d" % u)
        for i in range(10):
            put(new, i, hdr(i) + small)
    put(maildir(root, "r001"), 1, big_msg)
    new = maildir(root, "h001")
    for i in range(big):
        put(new, i, hdr(i) + tiny * 3)
    if root.endswith("kpopd"):
        new = maildir(root, "f001")
        body = (b"f" * 70 + b"\n") * 14
        for i in range(fetch):
            put(new, i, hdr(i) + body)
PY
rm -f "$KP_TMP"/mail-*/r001/Maildir/new/*.bench.tmp
is_root=0
[ "$(id -u)" != 0 ] || is_root=1
KPOPD_OPTS=()
if [ $is_root = 1 ]; then
	chown -R "$BENCH_UID:$BENCH_UID" "$KP_TMP/mail-kpopd" "$KP_TMP/mail-dovecot"
	chmod 0711 "$KP_TMP/mail-kpopd" "$KP_TMP/mail-dovecot"
	# A kpopd that knows mail_uid runs every session as the mailboxes' owner.
	if "$KPOPD" -t -o mail_uid=1 >/dev/null 2>&1; then
		KPOPD_OPTS=(-o "mail_uid=$BENCH_UID")
	fi
fi
# Every bench client comes from 127.0.0.1: lift kpopd's per-IP limits (where this
# kpopd has them) above the bench's own concurrency, as Dovecot has none by default.
for o in max_preauth_per_ip=4000 max_conn_per_ip=4000; do
	! "$KPOPD" -t -o "$o" >/dev/null 2>&1 || KPOPD_OPTS+=(-o "$o")
done

# --- pinning: servers on CPU 0, the load generator on CPU 1 -----------------------
SRV_PIN=() CLI_PIN=() pin_note="not pinned"
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1)
	pin_note="servers pinned to CPU 0, load generator to CPU 1 (taskset); KDC unpinned"
fi

# --- kpopd ---------------------------------------------------------------------------
K_POP3=$(free_port) K_KPOP=$(free_port) K_POP3S=$(free_port)
"${SRV_PIN[@]}" "$KPOPD" -F -o log=stderr -o log_level=info -o keytab="$KRB5_KTNAME" \
	-o rcache_dir="$KP_TMP/kdc/rcache" -o pidfile="$KP_TMP/kpopd.pid" \
	-o maildir="$KP_TMP/mail-kpopd/%u/Maildir" -o max_sessions=2000 "${KPOPD_OPTS[@]}" \
	-L "127.0.0.1:$K_POP3 pop3" -L "127.0.0.1:$K_KPOP kpop" -L "127.0.0.1:$K_POP3S pop3s" \
	-o tls_cert="$KP_TMP/certs/server.pem" -o tls_key="$KP_TMP/certs/server.key" \
	-o plaintext_login=yes 2>"$KP_TMP/kpopd.log" &
KPOPD_PID=$!
if ! wait_port "$K_POP3" 5 || ! wait_port "$K_POP3S" 5; then
	echo "bench: kpopd did not start:" >&2
	tail -5 "$KP_TMP/kpopd.log" >&2
	exit 1
fi

# --- Dovecot: high-performance configuration, entirely in a temp dir ---------------
. "$src/tests/lib/dovecot.sh"
dovecot_note=""
D=$KP_TMP/dovecot
start_dovecot() {
	dovecot_start "$D" "${SRV_PIN[@]}" || return 1
	sleep 0.5 # process_min_avail login processes
}
restart_dovecot() {
	dovecot_stop
	start_dovecot
}
if [ $want_dovecot = 0 ]; then
	dovecot_note="Dovecot: not run (--no-dovecot)"
elif ! dovecot_usable; then
	dovecot_note="Dovecot: $DOVECOT_WHY"
fi
if [ -z "$dovecot_note" ]; then
	mkdir -p "$D"
	DC_KEYTAB=$KRB5_KTNAME DC_CERT=$KP_TMP/certs/server.pem DC_KEY=$KP_TMP/certs/server.key
	DC_UID=$BENCH_UID DC_HOMES=$KP_TMP/mail-dovecot/%n
	DC_PASSWD=$(for i in $(seq -w 001 $(printf '%03d' $NUSERS)); do echo "b$i:{PLAIN}$PW"; done)
	DC_TUNING="default_process_limit = 2000
default_client_limit = 4000
default_vsz_limit = 1G
auth_cache_size = 10M
auth_cache_ttl = 1 hour
auth_verbose = no
auth_debug = no"
	DC_SERVICE="service_count = 0
  process_min_avail = 2"
	if ! dovecot_setup "$D"; then
		dovecot_note="Dovecot: $DOVECOT_WHY"
	elif ! start_dovecot; then
		dovecot_note="Dovecot: did not start"
	fi
fi
SERVERS="kpopd"
if [ -n "$DOVECOT_PID" ]; then
	SERVERS="kpopd dovecot"
	dovecot_note="Dovecot $("$DOVECOT" --version | cut -d' ' -f1)"
fi

# --- one measured run -----------------------------------------------------------------
RAW=$KP_TMP/raw.tsv
ERRLOG=$KP_TMP/kpbench.err
: >"$RAW"
# The host's share of this VM's CPU time, as /proc/stat counts it: "steal" is time
# a vCPU wanted to run and the hypervisor ran someone else.  On these shared
# machines it comes and goes (0-36 % seen within one minute, and it grows under a
# sustained load), and every figure of a run with much of it is slower for both
# servers alike but not by the same amount.  cpu_ticks prints "steal total".
cpu_ticks() {
	local _c user nice system idle iowait irq softirq steal _rest
	read -r _c user nice system idle iowait irq softirq steal _rest </proc/stat
	echo "$steal $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
# A run with more than MAX_STEAL % steal is repeated after a pause, at most
# RETRIES times a run and RETRY_BUDGET times in all; each kept run says its steal.
export KPOP_BENCH_MAX_STEAL=${KPOP_BENCH_MAX_STEAL:-10} # bench.py names it too
MAX_STEAL=$KPOP_BENCH_MAX_STEAL
RETRIES=${KPOP_BENCH_RETRIES:-2}
RETRY_BUDGET=${KPOP_BENCH_RETRY_BUDGET:-40}
[ $quick = 0 ] || RETRIES=0
RETRIED=0
# run SERVER ROW ROUND KIND kpbench-args...: one kpbench run, appended to RAW.
run() {
	local srv=$1 row=$2 round=$3 kind=$4 port pid line try=0 s0 t0 s1 t1 steal
	shift 4
	case $srv:$kind in
	kpopd:kpop) port=$K_KPOP ;;
	kpopd:*) port=$K_POP3 ;;
	dovecot:*) port=$D_POP3 ;;
	esac
	case " $* " in *" -T "*) [ $srv = kpopd ] && port=$K_POP3S || port=$D_POP3S ;; esac
	[ $srv = kpopd ] && pid=$KPOPD_PID || pid=$DOVECOT_PID
	while :; do
		echo "== $srv $row round $round try $((try + 1))" >>"$ERRLOG"
		read -r s0 t0 < <(cpu_ticks)
		if ! line=$("${CLI_PIN[@]}" "$KPBENCH" "$kind" -p "$port" -P "$pid" "$@" 2>>"$ERRLOG"); then
			printf 'server=%s\trow=%s\tround=%s\tkind=%s\tsessions=0\terrors=1\n' \
				"$srv" "$row" "$round" "$kind" >>"$RAW"
			return
		fi
		read -r s1 t1 < <(cpu_ticks)
		steal=$(( (s1 - s0) * 100 / ((t1 - t0) > 0 ? (t1 - t0) : 1) ))
		if [ "$steal" -le "$MAX_STEAL" ] || [ $try -ge "$RETRIES" ] || [ $RETRIED -ge "$RETRY_BUDGET" ]; then
			break
		fi
		try=$((try + 1)) RETRIED=$((RETRIED + 1))
		sleep 3
	done
	printf 'server=%s\trow=%s\tround=%s\t%s\tsteal_pct=%s\ttries=%s\n' \
		"$srv" "$row" "$round" "$line" "$steal" "$((try + 1))" >>"$RAW"
}

# Warm-up, not recorded: first logins (Dovecot's index, kpopd's size cache).
maxk=${KS##* }
[ $fetch_only = 0 ] || SERVERS=""
for srv in $SERVERS; do
	run "$srv" warmup 0 gssapi -k "$maxk" -U "$maxk" -u b -w "$PW" -n $((2 * maxk))
	run "$srv" warmup 0 retr -u r -U 1 -w "$PW" -n 1
	run "$srv" warmup 0 userpass -T -C "$CA" -u b -U "$maxk" -w "$PW" -k "$maxk" -n "$maxk"
done

if [ -n "${KPOP_BENCH_HOOK:-}" ]; then
	export K_POP3 K_KPOP KPOPD_PID KPBENCH PW KP_TMP D_POP3 DOVECOT_PID
	bash "$KPOP_BENCH_HOOK" || true
	exit 0
fi
# ROWS: "name|servers|kind args" (servers: both or kpopd)
ROWS=()
for k in $KS; do
	ROWS+=("capa K=$k|both|capa -k $k")
	ROWS+=("AUTH GSSAPI+STAT+QUIT K=$k|both|gssapi -k $k -U $k -u b -w $PW")
	ROWS+=("KPOP+USER/PASS+STAT+QUIT K=$k|kpopd|kpop -k $k -U $k -u b -w $PW")
	ROWS+=("pop3s USER/PASS+STAT+QUIT K=$k|both|userpass -T -C $CA -k $k -U $k -u b -w $PW")
done
ROWS+=("RETR ${RETR_MIB} MiB plaintext|both|retr -u r -U 1 -w $PW")
ROWS+=("RETR ${RETR_MIB} MiB TLS (pop3s)|both|retr -T -C $CA -u r -U 1 -w $PW")
ROWS+=("RETR ${RETR_MIB} MiB GSSAPI integrity|kpopd|retr -l integrity -u r -U 1 -w $PW")
ROWS+=("RETR ${RETR_MIB} MiB GSSAPI privacy|kpopd|retr -l privacy -u r -U 1 -w $PW")
[ $fetch_only = 0 ] || ROWS=()
if [ -n "$ROW_RE" ]; then
	KEEP=()
	for r in "${ROWS[@]}"; do
		! printf '%s\n' "${r%%|*}" | grep -Eq -- "$ROW_RE" || KEEP+=("$r")
	done
	ROWS=("${KEEP[@]}")
fi

say "$(nproc) cores; $pin_note; $dovecot_note; kpopd ${KPOPD_OPTS[*]}"
say "${#ROWS[@]} rows x $ROUNDS rounds x ${SECS}s, interleaved"
for round in $(seq "$ROUNDS"); do
	# alternate who goes first, so neither always runs on a cooler machine
	order=$SERVERS
	[ $((round % 2)) = 1 ] || order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')
	for r in "${ROWS[@]}"; do
		IFS='|' read -r name who args <<<"$r"
		for srv in $order; do
			[ "$who" = both ] || [ "$srv" = kpopd ] || continue
			# shellcheck disable=SC2086 # args is a word list
			run "$srv" "$name" "$round" $args -s "$SECS"
		done
	done
	say "round $round done"
done

# --- login to a big maildrop: first (cold: scan, index) and second -------------------
for srv in $([ -n "$ROW_RE" ] || echo "$SERVERS"); do
	for pass in first second; do
		# one-shot: a repeat of "first" would measure a second login
		RETRIES=0 run "$srv" "login, $BIG_MSGS messages, $pass" 1 gssapi -u h -U 1 -w "$PW" -n 1
	done
done

# --- memory per idle session ---------------------------------------------------------
# idle_row SERVER N: sample the server's process tree, hold N logged-in sessions,
# sample again; the difference per session goes to RAW.
idle_row() {
	local srv=$1 n=$2 pid port base held i
	[ $srv = kpopd ] && pid=$KPOPD_PID port=$K_POP3 || pid=$DOVECOT_PID port=$D_POP3
	sleep 0.5
	base=$("$KPBENCH" proc "$pid" | sed 's/\([a-z_]*=\)/base_\1/g')
	"${CLI_PIN[@]}" "$KPBENCH" idle -p "$port" -k "$n" -U "$n" -u b -w "$PW" \
		>"$KP_TMP/idle.out" 2>>"$ERRLOG" &
	HOLDER_PID=$!
	for i in $(seq 600); do
		grep -q '^ready' "$KP_TMP/idle.out" 2>/dev/null && break
		kill -0 "$HOLDER_PID" 2>/dev/null || break
		sleep 0.2
	done
	sleep 0.5
	held=$(sed -n 's/^ready\t//p' "$KP_TMP/idle.out")
	[ -n "$held" ] || held="sessions=0	errors=$n"
	printf 'server=%s\trow=idle sessions: %s\tround=1\tkind=idle\t%s\t%s\t%s\n' \
		"$srv" "$n" "$held" "$base" \
		"$("$KPBENCH" proc "$pid" | sed 's/\([a-z_]*=\)/now_\1/g')" >>"$RAW"
	stop_pid "$HOLDER_PID"
	HOLDER_PID=""
}
for n in $IDLE_NS; do
	for srv in $SERVERS; do
		[ $srv = kpopd ] || restart_dovecot
		idle_row "$srv" "$n"
	done
done

# --- the client side: kpop vs fetchmail vs mpop, fetching from kpopd ----------------
fetch_note=""
fcc=$KP_TMP/f001.ccache
printf '%s\n' "$PW" | kinit -c "FILE:$fcc" f001 >/dev/null
# fetch_row NAME COUNTER command...: wall and CPU of one fetch into a fresh @DEST@,
# then of a second fetch into the same @DEST@ (only new mail: nothing); COUNTER DIR
# prints how many messages arrived.  With strace installed, both fetches again
# under strace count fsync/fdatasync calls: what the client guarantees.
fetch_row() {
	local name=$1 counter=$2 line line2 n n2 dest syncs="" syncs2="" args run
	shift 2
	[ -z "$ROW_RE" ] || return 0
	dest=$(mktemp -d "$KP_TMP/fetch.XXXXXX")
	mkdir -p "$dest/new" "$dest/cur" "$dest/tmp" "$dest/home"
	args=("${@//@DEST@/$dest}")
	echo "== fetch $name" >>"$ERRLOG"
	if line=$(KRB5CCNAME=FILE:$fcc "$PYTHON" "$src/tests/bench.py" time -- "${args[@]}" \
		2>>"$ERRLOG"); then
		n=$($counter "$dest")
		line2=$(KRB5CCNAME=FILE:$fcc "$PYTHON" "$src/tests/bench.py" time -- "${args[@]}" \
			2>>"$ERRLOG") || line2="errors=1"
		n2=$(($($counter "$dest") - n))
		if command -v strace >/dev/null; then
			rm -rf "$dest"
			mkdir -p "$dest/new" "$dest/cur" "$dest/tmp" "$dest/home"
			for run in 1 2; do
				KRB5CCNAME=FILE:$fcc strace -f -qq -c -o "$KP_TMP/strace.out" \
					-e trace=fsync,fdatasync,sync_file_range,syncfs "${args[@]}" \
					>/dev/null 2>>"$ERRLOG" || true
				syncs2=$(awk '$NF ~ /^(fsync|fdatasync|syncfs)$/ && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' \
					"$KP_TMP/strace.out")
				[ $run = 2 ] || syncs=$syncs2
			done
		fi
		printf 'server=kpopd\trow=fetch %s messages: %s\tround=1\tkind=fetch\t%s\t%s\n' \
			"$FETCH_MSGS" "$name" "expected=$FETCH_MSGS	delivered=$n	syncs=$syncs" "$line" >>"$RAW"
		printf 'server=kpopd\trow=fetch again, nothing new (of %s): %s\tround=1\tkind=fetch\t%s\t%s\n' \
			"$FETCH_MSGS" "$name" "expected=0	delivered=$n2	syncs=$syncs2" "$line2" >>"$RAW"
	else
		printf 'server=kpopd\trow=fetch %s messages: %s\tround=1\tkind=fetch\terrors=1\n' \
			"$FETCH_MSGS" "$name" >>"$RAW"
	fi
	rm -rf "$dest"
}
count_maildir() { find "$1/new" "$1/cur" -type f | wc -l; }
count_bsmtp() { grep -c '^MAIL FROM' "$1/out.bsmtp" 2>/dev/null || echo 0; }
fetch_row "kpop (GSSAPI, Maildir)" count_maildir \
	"$KPOP" -q -H localhost -p "$K_POP3" --starttls off --maildir @DEST@ \
	--state @DEST@/home/kpop.state fetch
# KPOP_BENCH_KPOP_OTHER=PATH: the same row for another kpop binary (an A/B check)
if [ -n "${KPOP_BENCH_KPOP_OTHER:-}" ]; then
	fetch_row "other kpop (GSSAPI, Maildir)" count_maildir \
		"$KPOP_BENCH_KPOP_OTHER" -q -H localhost -p "$K_POP3" --starttls off \
		--maildir @DEST@ --state @DEST@/home/kpop.state fetch
fi
if command -v mpop >/dev/null; then
	fetch_row "mpop (GSSAPI, Maildir)" count_maildir \
		mpop --host=localhost --port="$K_POP3" --auth=gssapi --user=f001 --tls=off \
		--keep=on --received-header=off --uidls-file=@DEST@/home/mpop.uidls \
		--delivery=maildir,@DEST@
else
	fetch_note="$fetch_note mpop not installed;"
fi
if command -v fetchmail >/dev/null; then
	# (fetchmail exits 1 for "no mail": the second run's normal answer)
	fetch_row "fetchmail (GSSAPI, BSMTP file)" count_bsmtp \
		env HOME=@DEST@/home FETCHMAILHOME=@DEST@/home \
		sh -c 'fetchmail "$@"; [ $? -le 1 ]' fetchmail \
		--pidfile @DEST@/home/fetchmail.pid -N --nosslcertck --sslproto '' --uidl -k \
		-p POP3 --auth gssapi -u f001 -P "$K_POP3" --bsmtp @DEST@/out.bsmtp localhost
else
	fetch_note="$fetch_note fetchmail not installed;"
fi
[ -z "$fetch_note" ] || say "$fetch_note"

# --- report ----------------------------------------------------------------------------
if grep -q '^kpbench' "$ERRLOG"; then
	say "kpbench reported errors (first lines; all in the run's kpbench log):"
	grep '^kpbench' "$ERRLOG" | head -5 | sed 's/^/    /' >&2
fi
cp "$RAW" "$out_dir/bench-raw.tsv"
cp "$ERRLOG" "$out_dir/bench-errors.log"
"$PYTHON" "$src/tests/bench.py" report "$RAW" "$out_dir/bench-results" \
	"$(date -u +%Y-%m-%dT%H:%MZ)" \
	"$(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
	"$pin_note; $dovecot_note; rounds=$ROUNDS x ${SECS}s"

# --- the farm: HAProxy in front of 1 and 3 nodes, GlusterFS against local disk -------
# (tests/bench/farm.sh; it skips, saying so, without haproxy/glusterfs or root).
# Not with --quick (CI), --fetch-only or KPOP_BENCH_ROWS.
if [ $quick = 0 ] && [ $fetch_only = 0 ] && [ -z "$ROW_RE" ]; then
	say "the farm rows (tests/bench/farm.sh)"
	bash "$src/tests/bench/farm.sh" || say "tests/bench/farm.sh failed (status $?)"
else
	say "farm rows not run (--quick, --fetch-only or KPOP_BENCH_ROWS); make bench-farm runs them"
fi
