#!/usr/bin/env bash
# tests/bench/farm.sh - make bench-farm: kpopd nodes behind a real HAProxy
# (send-proxy-v2), the mail on a GlusterFS volume (one brick, a FUSE mount per node)
# or on local disk.  Figures: AUTH GSSAPI sessions/s at K=1 and K=8 (one user per
# client, so one mailbox lock does not serialise them) and RETR MiB/s, through
# HAProxy to 1 node and to 3 nodes on GlusterFS and to 1 node on local disk; medians
# of ROUNDS interleaved rounds; ratios 3 nodes / 1 node and GlusterFS / local.
#
# The nodes' listeners are "pop3 proxy": an "auto" listener waits sniff_ms for a
# KPOP client to speak first before it greets a POP3 client (lib-farm.sh's nodes
# use sniff_ms=100, the default is 300), and that wait, not the farm, would be the
# figure (KPOP_FARM_MODE=auto measures it).
#
# Usage: farm.sh (from make bench-farm: KP_TOP_SRCDIR/KP_TOP_BUILDDIR set).
# KPOP_FARM_ROUNDS (3), KPOP_FARM_SECS (3), KPOP_FARM_RETR_MIB (16),
# KPOP_FARM_MODE (pop3).  Results on stderr and in $KP_TOP_BUILDDIR/bench-farm.txt.
# Skips (exit 0, saying so) without haproxy, glusterfs/glusterfsd, or root.

say() { printf 'bench-farm: %s\n' "$*" >&2; }
PATH=$PATH:/usr/sbin:/sbin
miss=""
for t in haproxy glusterfs glusterfsd unshare socat; do
	command -v "$t" >/dev/null || miss="$miss $t"
done
if [ -n "$miss" ] || [ "$(id -u)" != 0 ]; then
	say "SKIPPED: needs root (FUSE mounts in a private mount namespace) and:$miss" \
		"(scripts/setup.sh installs haproxy and glusterfs-server/-client)"
	exit 0
fi
if [ -z "${KP_FARM_NS:-}" ]; then
	exec unshare -m --propagation private env KP_FARM_NS=1 bash "$0" "$@"
fi

src=${KP_TOP_SRCDIR:?} build=${KP_TOP_BUILDDIR:?}
export KPOPD="$build/server/kpopd" KPOP="$build/client/kpop" KP_TOP_SRCDIR="$src"
export PYTHON=/usr/bin/python3 KP_MAIL_UID=64011
KPB=$build/tests/bench/kpbench
ROUNDS=${KPOP_FARM_ROUNDS:-3} SECS=${KPOP_FARM_SECS:-3} RETR_MIB=${KPOP_FARM_RETR_MIB:-16}
export NODE_MODE=${KPOP_FARM_MODE:-pop3}
NU=8 PW=bench-pw
KP_TMP=$(mktemp -d /tmp/kpop-farmbench.XXXXXX)
export KP_TMP
chmod 711 "$KP_TMP"
KDC_UP=0
bye() {
	farm_stop 2>/dev/null; gluster_stop 2>/dev/null
	[ "$KDC_UP" = 0 ] || bash "$src/kdc-test/kdc-test.sh" stop "$KP_TMP/kdc" >/dev/null 2>&1
	[ "${KPOP_FARM_KEEP:-0}" = 1 ] && say "kept $KP_TMP" || rm -rf "$KP_TMP"
}
trap bye EXIT
trap 'exit 130' INT TERM

eval "$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>/dev/null)" || { say "the KDC did not start"; exit 1; }
KDC_UP=1
{
	for i in $(seq -w 001 $(printf '%03d' $NU)); do echo "addprinc -pw $PW b$i"; done
	echo "addprinc -pw $PW r001"
} | kadmin.local -r "$KPOP_TEST_REALM" >"$KP_TMP/kadmin.log" 2>&1
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/lib-farm.sh"
trap bye EXIT

gluster_setup "$E2E_DIR/gluster"
brick_start && mount_volume 1 && mount_volume 2 && mount_volume 3 || { say "GlusterFS did not mount"; exit 1; }
say "mailboxes: $NU users with 10 messages of 2 KiB, r001 with one of $RETR_MIB MiB"
for root in "$G/m1/mail" "$E2E_DIR/local"; do
	for u in $(seq -w 001 $(printf '%03d' $NU)) r; do
		[ "$u" = r ] && u=r001 || u=b$u
		mkdir -p "$root/$u/Maildir/new" "$root/$u/Maildir/cur" "$root/$u/Maildir/tmp"
	done
	for u in $(seq -w 001 $(printf '%03d' $NU)); do
		for m in $(seq 10); do
			{ printf 'From: bench@kpop.test\nSubject: %d\n\n' "$m"; head -c 1500 /dev/zero | tr '\0' y | fold -w 70; echo; } \
				>"$root/b$u/Maildir/new/17000000$m.M${m}P1.bench"
		done
	done
	{ printf 'From: bench@kpop.test\nSubject: big\n\n'; head -c $((RETR_MIB * 786432)) /dev/urandom | base64; } \
		>"$root/r001/Maildir/new/1700000001.M1P1.bench"
	chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$root"
	chmod 711 "$root" "$(dirname "$root")"
done
mkdir -p "$G/m1/rcache" "$E2E_DIR/rcl"
chmod 711 "$G/m1"
# nodes 1-3: the GlusterFS volume, each through its own mount; node 4: local disk
for i in 1 2 3; do
	node_start $i "127.0.0.$((i + 1))" "$G/m$i/mail" "$G/m$i/rcache" -o log_level=info || exit 1
done
node_start 4 127.0.0.6 "$E2E_DIR/local" "$E2E_DIR/rcl" -o log_level=info || exit 1

# one HAProxy, one frontend per set of nodes
declare -A FPORT
cfg=""
for set in g1 g3 l1; do
	FPORT[$set]=$(farm_port 127.0.0.1)
	case $set in g1) ns="1" ;; g3) ns="1 2 3" ;; l1) ns="4" ;; esac
	cfg+="frontend f$set
	bind 127.0.0.1:${FPORT[$set]}
	default_backend b$set
backend b$set
	balance roundrobin
	source 127.0.0.5
	default-server send-proxy-v2
"
	for n in $ns; do cfg+="$(haproxy_server "$n" "")
"; done
done
haproxy_start "$cfg" || exit 1
for set in g1 g3 l1; do farm_wait_port 127.0.0.1 "${FPORT[$set]}" || { say "HAProxy did not listen"; exit 1; }; done

RAW=$KP_TMP/raw.tsv
ROWS=("gssapi-k1|gssapi -k 1 -U $NU -u b" "gssapi-k8|gssapi -k 8 -U $NU -u b" "retr-k1|retr -k 1 -U 1 -u r -m 1")
# warm-up (ticket caches, pools)
for set in g1 g3 l1; do "$KPB" gssapi -p "${FPORT[$set]}" -k 8 -U $NU -u b -w $PW -n 16 >/dev/null 2>>"$KP_TMP/kpbench.err"; done
say "$ROUNDS rounds x ${SECS}s, listeners '$NODE_MODE proxy'"
for r in $(seq "$ROUNDS"); do
	for row in "${ROWS[@]}"; do
		name=${row%%|*} args=${row#*|}
		for set in g1 g3 l1; do
			# shellcheck disable=SC2086
			line=$("$KPB" $args -w $PW -p "${FPORT[$set]}" -s "$SECS" 2>>"$KP_TMP/kpbench.err")
			printf '%s\t%s\t%s\t%s\n' "$set" "$name" "$r" "$line" >>"$RAW"
		done
	done
	say "round $r done"
done
out=$build/bench-farm.txt
"$PYTHON" - "$RAW" "$ROUNDS" "$SECS" "$RETR_MIB" "$NODE_MODE" >"$out" <<'PY'
import statistics, sys
raw, rounds, secs, mib, mode = sys.argv[1:6]
v, errs = {}, {}
for ln in open(raw):
    f = ln.rstrip("\n").split("\t")
    kv = dict(x.split("=", 1) for x in f[3:] if "=" in x)
    key = (f[0], f[1])
    val = float(kv.get("mib_s" if f[1].startswith("retr") else "rate", "0"))
    v.setdefault(key, []).append(val)
    errs[key] = errs.get(key, 0) + int(kv.get("errors", "0") or 0) + (0 if kv else 1)
med = {k: statistics.median(x) for k, x in v.items()}
names = {"g1": "1 node, GlusterFS", "g3": "3 nodes, GlusterFS", "l1": "1 node, local disk"}
rows = [("gssapi-k1", "AUTH GSSAPI sessions/s K=1"), ("gssapi-k8", "AUTH GSSAPI sessions/s K=8"),
        ("retr-k1", "RETR %s MiB, MiB/s" % mib)]
print("kpopd farm through HAProxy (send-proxy-v2), listeners '%s proxy'; median of %s rounds x %ss"
      % (mode, rounds, secs))
print("%-30s %12s %12s %12s" % ("", *[names[s] for s in ("g1", "g3", "l1")]))
for r, title in rows:
    cells = []
    for s in ("g1", "g3", "l1"):
        c = "%.1f" % med.get((s, r), 0)
        if errs.get((s, r)):
            c += " (%d err)" % errs[(s, r)]
        cells.append(c)
    print("%-30s %12s %12s %12s" % (title, *cells))
print()
def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"
for r, title in rows:
    g1, g3, l1 = (med.get((s, r), 0) for s in ("g1", "g3", "l1"))
    print("%-30s 3 nodes / 1 node = %s   GlusterFS / local = %s" % (title, ratio(g3, g1), ratio(g1, l1)))
PY
cat "$out" >&2
if grep -q . "$KP_TMP/kpbench.err"; then
	say "kpbench reported (first lines):"; head -5 "$KP_TMP/kpbench.err" | sed 's/^/    /' >&2
fi
say "figures in $out"
