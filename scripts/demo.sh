#!/usr/bin/env bash
# scripts/demo.sh - the README's main job: a throwaway realm, kpopd serving a demo
# mailbox on a free loopback port, kpop fetching it over AUTH GSSAPI and over legacy
# KPOP, with an account of each step.  Leaves nothing running and nothing behind.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/setup.sh"
. "$top/tests/lib/common.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/kpop-demo.XXXXXX")
kdc=""
kpopd_pid=""
finish() {
	[ -z "$kpopd_pid" ] || stop_pid "$kpopd_pid"
	[ -z "$kdc" ] || bash "$top/kdc-test/kdc-test.sh" stop "$kdc" >/dev/null 2>&1
	rm -rf "$work"
}
trap finish EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. A throwaway Kerberos realm (MIT krb5kdc in $work/kdc, loopback only)"
eval "$(bash "$top/kdc-test/kdc-test.sh" start "$work/kdc")"
kdc=$KPOP_TEST_DIR
echo "realm $KPOP_TEST_REALM, KDC on 127.0.0.1:$KPOP_TEST_KDC_PORT"
echo "KRB5_CONFIG=$KRB5_CONFIG"
echo "principals: alice, bob, pop/localhost, pop/$(hostname) -- keytab $KRB5_KTNAME"
klist

say "2. A demo mailbox for alice (Maildir with 3 messages)"
md=$work/mail/alice/Maildir
mkdir -p "$md/new" "$md/cur" "$md/tmp"
for i in 1 2 3; do
	printf 'From: bob@kpop.test\nTo: alice@kpop.test\nSubject: demo message %s\n\nHello Alice, this is message %s.\n.a line starting with a dot\n' \
		"$i" "$i" >"$md/new/170000000$i.M$i.demo"
done
# kpopd serves these virtual users as one mail uid (mail_uid): a root kpopd drops
# to it before it opens a Maildir, which must be that uid's own.
if [ "$(id -u)" -eq 0 ]; then mail_uid=64011; else mail_uid=$(id -u); fi
chmod 711 "$work"
chown -R "$mail_uid:$mail_uid" "$work/mail"
ls -l "$md/new"

say "3. kpopd on a free port (auto mode: KPOP and POP3 on one listener, STLS offered)"
bash "$top/tests/lib/mkcerts.sh" "$work/certs"
echo "a throwaway CA and a certificate for localhost in $work/certs"
port=$(free_port)
"$top/server/kpopd" -F -o log=stderr -o log_level=info -o keytab="$KRB5_KTNAME" \
	-o rcache_dir="$kdc/rcache" -o maildir="$work/mail/%u/Maildir" -o mail_uid="$mail_uid" \
	-o tls_cert="$work/certs/server.pem" -o tls_key="$work/certs/server.key" \
	-L "127.0.0.1:$port auto" 2>"$work/kpopd.log" &
kpopd_pid=$!
wait_port "$port" 5
echo "kpopd pid $kpopd_pid listening on 127.0.0.1:$port"

say "4. kpop list over AUTH GSSAPI (alice's ticket from kinit), inside STLS"
"$top/client/kpop" -H localhost -p "$port" --starttls required --cafile "$work/certs/ca.pem" list
say "4b. the same with no TLS but a GSSAPI privacy layer (every byte wrapped)"
"$top/client/kpop" -H localhost -p "$port" --starttls off --sasl-layer privacy list

say "5. kpop fetch over AUTH GSSAPI into a Maildir (messages stay on the server)"
"$top/client/kpop" -H localhost -p "$port" --cafile "$work/certs/ca.pem" \
	--maildir "$work/fetched-gssapi" fetch
ls "$work/fetched-gssapi/new"

say "6. kpop fetch over legacy KPOP (krb5_sendauth KPOPV1.0) with --delete"
{
	"$top/client/kpop" -H localhost -p "$port" --auth kpop -u alice --starttls off \
		--maildir "$work/fetched-kpop" --delete fetch || echo "(KPOP fetch failed: exit $?)"
	ls "$work/fetched-kpop/new" 2>/dev/null || true
}
echo "messages left on the server: $(find "$md/new" "$md/cur" -type f | wc -l)"

say "7. What kpop says when Kerberos fails: no ticket"
KRB5CCNAME=FILE:$work/none "$top/client/kpop" -H localhost -p "$port" --cafile "$work/certs/ca.pem" list || echo "(exit $?)"

say "8. What kpopd logged"
cat "$work/kpopd.log"
say "Done: everything stopped and removed."
