#!/usr/bin/env bash
# tests/e2e/live.sh - kpopd -t -k, the live round trip with the test KDC using only
# the keytab: passing on a good keytab (every pop/ principal in it, ending in
# kpopd's GSSAPI acceptor); failing, with the cause and the fix, on a stale keytab
# after a rekey (the KDC's kvno named), a keytab without the enctype the KDC
# issues tickets with, a principal the KDC no longer knows, clock skew, and no
# reachable KDC.  Each case has its own principals and keytab in E2E_DIR (the
# shared ones are never rekeyed).
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

kadm() { PATH=$PATH:/usr/sbin:/sbin kadmin.local -r "$KPOP_TEST_REALM" -q "$1" >>"$E2E_DIR/kadmin.log" 2>&1; }
# principal name for this run (a rerun against a kept KDC must not collide)
tag=$$
live() { # keytab [kpopd options...]: kpopd -t -k's output; its exit status in $rc
	local kt=$1
	shift
	out=$("$KPOPD" -t -k -o keytab="$kt" -o rcache_dir="$E2E_DIR/rcache" "$@" 2>&1)
	rc=$?
}
mkdir -p "$E2E_DIR/rcache"
chmod 700 "$E2E_DIR/rcache"

# a good keytab: the test realm's own, with two pop/ principals
live "$KPOP_TEST_DIR/kpopd.keytab"
t_expect_eq "a good keytab passes -t -k" 0 "$rc"
t_expect_match "-t -k checks pop/localhost: ok" "live: pop/localhost@$KPOP_TEST_REALM: ok \(the KDC's ticket, kvno [0-9]+ aes256-cts-hmac-sha1-96, is accepted by kpopd's GSSAPI acceptor with mutual authentication\)" "$out"
t_expect_match "-t -k checks every pop/ principal (pop/$KPOP_TEST_HOST too)" "live: pop/$KPOP_TEST_HOST@$KPOP_TEST_REALM: ok" "$out"
if printf '%s' "$out" | grep -q "live: pop3/"; then
	t_fail "-t -k leaves other services alone" "$out"
else
	t_pass "-t -k leaves other services alone"
fi
live "$KPOP_TEST_DIR/kpopd.keytab" -o server_principal="pop/localhost@$KPOP_TEST_REALM"
t_expect_eq "a pinned server_principal: only it is checked" "1 0" \
	"$(printf '%s\n' "$out" | grep -c 'live: pop/localhost.*: ok') $(printf '%s\n' "$out" | grep -c "live: pop/$KPOP_TEST_HOST")"
t_expect_eq "nothing is written to rcache_dir" "" "$(ls -A "$E2E_DIR/rcache")"

# stale: the key changes at the KDC after the export
p=pop/stale$tag.test
kadm "addprinc -randkey $p"
kadm "ktadd -k $E2E_DIR/stale.keytab $p"
live "$E2E_DIR/stale.keytab"
t_expect_eq "a fresh keytab for a new principal passes -t -k" 0 "$rc"
kadm "cpw -randkey $p"
live "$E2E_DIR/stale.keytab"
t_expect_eq "after a rekey at the KDC: -t -k exits 2" 2 "$rc"
t_expect_match "after a rekey: the KDC's kvno and the keytab's are named" \
	"problem: live: $p@$KPOP_TEST_REALM: the KDC refused initial credentials from the keytab's key .*the KDC's key is kvno [0-9]+ aes256-cts-hmac-sha1-96, the keytab has kvno [0-9]+ aes256" "$out"
kv=$(printf '%s' "$out" | sed -nE "s/.*the KDC's key is kvno ([0-9]+) .*the keytab has kvno ([0-9]+) .*/\1 \2/p")
t_expect_eq "after a rekey: the KDC's kvno is the keytab's + 1" 1 "$(( ${kv% *} - ${kv#* } ))"
t_expect_match "after a rekey: the fix says the keytab is out of date and how to export it" \
	"fix: the KDC's key is not the keytab's: the keytab is out of date.*ktadd -norandkey" "$out"
kadm "ktadd -norandkey -k $E2E_DIR/stale.keytab $p"
live "$E2E_DIR/stale.keytab"
t_expect_eq "after the re-export (ktadd -norandkey): -t -k passes again" 0 "$rc"

# enctype: the keytab holds only aes128, the KDC issues aes256 tickets
p=pop/etype$tag.test
kadm "addprinc -randkey $p"
kadm "ktadd -norandkey -k $E2E_DIR/etype-all.keytab $p"
# drop the aes256 key from the keytab (ktutil: slot 1 is the first enctype listed)
slot=$(klist -ke "$E2E_DIR/etype-all.keytab" | grep -n "(aes256-cts-hmac-sha1-96)" | head -n 1 | cut -d: -f1)
printf 'rkt %s\ndelent %s\nwkt %s\nq\n' "$E2E_DIR/etype-all.keytab" "$((slot - 3))" "$E2E_DIR/etype.keytab" |
	ktutil >>"$E2E_DIR/kadmin.log" 2>&1
t_expect_eq "test set-up: the keytab keeps only aes128" "aes128-cts-hmac-sha1-96" \
	"$(klist -ke "$E2E_DIR/etype.keytab" | sed -nE 's/.*\((.*)\) *$/\1/p' | xargs)"
live "$E2E_DIR/etype.keytab"
t_expect_eq "a keytab without the ticket's enctype: -t -k exits 2" 2 "$rc"
t_expect_match "a keytab without the ticket's enctype: both sides named" \
	"problem: live: $p@$KPOP_TEST_REALM: the KDC encrypts tickets for it with kvno [0-9]+ aes256-cts-hmac-sha1-96, which the keytab does not have \(it has kvno [0-9]+ aes128-cts-hmac-sha1-96\)" "$out"

# a principal the KDC no longer knows
p=pop/gone$tag.test
kadm "addprinc -randkey $p"
kadm "ktadd -k $E2E_DIR/gone.keytab $p"
kadm "delprinc -force $p"
live "$E2E_DIR/gone.keytab"
t_expect_eq "a principal deleted at the KDC: -t -k exits 2" 2 "$rc"
t_expect_match "a principal deleted at the KDC: said so, with the fix" \
	"problem: live: $p@$KPOP_TEST_REALM: .*fix: the KDC does not know this principal: kadmin addprinc" "$out"

# clock skew (faketime: the KDC allows 5 minutes)
if command -v faketime >/dev/null; then
	out=$(faketime -f +2h "$KPOPD" -t -k -o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
		-o server_principal="pop/localhost@$KPOP_TEST_REALM" -o rcache_dir="$E2E_DIR/rcache" 2>&1)
	rc=$?
	t_expect_eq "two hours of clock skew: -t -k exits 2" 2 "$rc"
	t_expect_match "clock skew: said so, with the fix" "problem: live: .*fix: this host's clock is too far from the KDC's" "$out"
else
	t_skip "clock skew" "faketime is not installed"
fi

# no KDC: the realm's kdc is a closed port
sed -E "s/kdc = 127\.0\.0\.1:[0-9]+/kdc = 127.0.0.1:$(free_port)/" "$KRB5_CONFIG" >"$E2E_DIR/nokdc.conf"
out=$(KRB5_CONFIG=$E2E_DIR/nokdc.conf "$KPOPD" -t -k -o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
	-o server_principal="pop/localhost@$KPOP_TEST_REALM" -o rcache_dir="$E2E_DIR/rcache" 2>&1)
rc=$?
t_expect_eq "no reachable KDC: -t -k exits 2" 2 "$rc"
t_expect_match "no reachable KDC: said so, with the fix" "problem: live: .*fix: no KDC of the realm answered" "$out"
out=$("$KPOPD" -k 2>&1)
t_expect_eq "-k without -t is a usage error" 2 "$?"
t_summary
