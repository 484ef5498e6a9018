#!/usr/bin/env bash
# tests/bench.sh - make bench: RETR throughput and session rates over loopback,
# against a throwaway realm.  Prints figures; asserts nothing.
set -eu
src=${KP_TOP_SRCDIR:?}
build=${KP_TOP_BUILDDIR:?}
export KPOPD="$build/server/kpopd" KPOP="$build/client/kpop" PYTHON=/usr/bin/python3
KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpop-bench.XXXXXX")
export KP_TMP
. "$src/tests/lib/common.sh"
eval "$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>/dev/null)"
pid=""
trap '[ -z "$pid" ] || stop_pid "$pid"; bash "$src/kdc-test/kdc-test.sh" stop "$KP_TMP/kdc" >/dev/null 2>&1; rm -rf "$KP_TMP"' EXIT

md=$KP_TMP/mail/alice/Maildir
mkdir -p "$md/new" "$md/cur" "$md/tmp"
"$PYTHON" - "$md/new/big.1" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"Subject: bench\n\n")
    line = b"x" * 70 + b"\n"
    for i in range(100 * 1024 * 1024 // len(line)):
        f.write(line if i % 50 else b"." + line)
PY
size=$(stat -c %s "$md/new/big.1")
bash "$src/tests/lib/mkcerts.sh" "$KP_TMP/certs"
port=$(free_port)
"$KPOPD" -F -o log=stderr -o log_level=err -o keytab="$KRB5_KTNAME" -o rcache_dir="$KP_TMP/kdc/rcache" \
	-o maildir="$KP_TMP/mail/%u/Maildir" -o max_sessions=1000 -L "127.0.0.1:$port auto" -o sniff_ms=0 \
	-o tls_cert="$KP_TMP/certs/server.pem" -o tls_key="$KP_TMP/certs/server.key" 2>"$KP_TMP/kpopd.log" &
pid=$!
wait_port "$port" 5

echo "kpop bench: loopback, $(nproc) cores, one message of $((size / 1048576)) MiB, kpop --stdout > /dev/null"
best() { # label kpop-args... : best of 3 runs, MiB/s
	local label=$1 i t0 t1 r b=0
	shift
	for i in 1 2 3; do
		t0=$(date +%s.%N)
		"$KPOP" -q -H localhost -p "$port" "$@" --stdout fetch >/dev/null
		t1=$(date +%s.%N)
		r=$(echo "$size / ($t1 - $t0) / 1048576" | bc -l)
		b=$(echo "if ($r > $b) $r else $b" | bc -l)
	done
	printf '%s\n' "$b"
}
plain=$(best plain --starttls off)
tls=$(best tls --starttls required --cafile "$KP_TMP/certs/ca.pem")
integ=$(best integrity --starttls off --sasl-layer integrity)
priv=$(best privacy --starttls off --sasl-layer privacy)
for row in "plaintext:$plain" "TLS (STLS):$tls" "GSSAPI integrity layer:$integ" "GSSAPI privacy layer:$priv"; do
	label=${row%%:*} v=${row#*:}
	printf 'RETR %-24s %8.1f MiB/s  (%.2f x plaintext)\n' "$label" "$v" "$(echo "$v / $plain" | bc -l)"
done
rm -f "$md/new/big.1"
printf 'Subject: s\n\nx\n' >"$md/new/small.1"
"$PYTHON" "$src/tests/bench.py" "$port" 3

# Login cost with a big maildrop: the first session reads every message to size it,
# later ones take the sizes from .kpopd.sizes.
rm -f "$md/new/small.1"
"$PYTHON" - "$md/new" <<'PY'
import os, sys
body = (b"y" * 70 + b"\n") * 700
for i in range(2000):
    with open(os.path.join(sys.argv[1], "17%08d.M%dP1.bench" % (i, i)), "wb") as f:
        f.write(b"Subject: %d\n\n" % i + body)
PY
for run in "first login (scan, writes the size cache)" "second login (size cache)"; do
	t0=$(date +%s.%N)
	"$KPOP" -q -H localhost -p "$port" --starttls off list >/dev/null
	t1=$(date +%s.%N)
	printf 'kpop list, 2000 messages / %s MiB: %-42s %6.1f ms\n' \
		"$(du -sm "$md/new" | cut -f1)" "$run" "$(echo "($t1 - $t0) * 1000" | bc -l)"
done
