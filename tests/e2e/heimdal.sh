#!/usr/bin/env bash
# tests/e2e/heimdal.sh - the Heimdal tier: a Heimdal 7.8 KDC (realm HEIM.TEST, its
# own temp dir, a free loopback port, stopped by its PID) issues the tickets; kpopd
# (MIT libraries) accepts them with a keytab Heimdal's kadmin exported, over
# GSSAPI (with and without a privacy layer) and KPOP; kpop (MIT) logs in with
# tickets from MIT's kinit and from Heimdal's kinit (its ccache); a key changed in
# Heimdal's database is reported as a stale keytab.  Heimdal is unpacked by
# scripts/heimdal-setup.sh (never installed: it conflicts with krb5-kdc); when it
# cannot be had, the tier is skipped with the reason.  Also the cross-realm case:
# alice@HEIM.TEST logging in to a kpopd of the MIT realm KPOP.TEST that trusts it.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

HROOT=${KP_HEIMDAL_ROOT:-}
if [ -z "$HROOT" ]; then
	for d in "$KP_TOP_SRCDIR/heimdal-root" "${KP_TOP_BUILDDIR:-$KP_TOP_SRCDIR}/heimdal-root"; do
		[ -e "$d/.complete" ] && { HROOT=$d; break; }
	done
fi
if [ -z "$HROOT" ]; then
	HROOT=${KP_TOP_BUILDDIR:-$KP_TOP_SRCDIR}/heimdal-root
	if ! why=$(bash "$KP_TOP_SRCDIR/scripts/heimdal-setup.sh" "$HROOT" 2>&1 >/dev/null); then
		t_skip "Heimdal tier" "Heimdal could not be fetched: $(printf '%s' "$why" | tr '\n' ' ')"
		t_summary
		exit 0
	fi
fi
HLIB=$HROOT/usr/lib/x86_64-linux-gnu
[ -d "$HLIB" ] || HLIB=$(dirname "$(find "$HROOT/usr/lib" -name 'libkrb5.so.26' | head -n 1)")
heim() { LD_LIBRARY_PATH=$HLIB "$@"; }
HKDC=$HROOT/usr/lib/heimdal-servers/kdc
HKADMIN=$HROOT/usr/bin/kadmin.heimdal
HKINIT=$HROOT/usr/bin/kinit.heimdal

H=$E2E_DIR/heimdal
mkdir -p "$H"
HPORT=$(free_port)
cat >"$H/krb5.conf" <<EOC
[libdefaults]
	default_realm = HEIM.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	HEIM.TEST = {
		kdc = 127.0.0.1:$HPORT
	}
[domain_realm]
	localhost = HEIM.TEST
[kdc]
	database = {
		dbname = $H/heimdal
		realm = HEIM.TEST
		mkey_file = $H/m-key
		acl_file = $H/kadmind.acl
		log_file = $H/iprop.log
	}
	addresses = 127.0.0.1
	ports = $HPORT
[logging]
	kdc = FILE:$H/kdc.log
	default = FILE:$H/heimdal.log
EOC
: >"$H/kadmind.acl"
MIT_CONF=$KRB5_CONFIG # the main test realm's (MIT, KPOP.TEST), for the cross-realm case
export KRB5_CONFIG=$H/krb5.conf KRB5CCNAME=FILE:$H/alice.ccache
hk() { heim "$HKADMIN" -l -c "$KRB5_CONFIG" "$@" >>"$H/kadmin.log" 2>&1; }
HKDC_PID=""
stop_hkdc() {
	[ -n "$HKDC_PID" ] || return 0
	# the master's worker processes, by their parent's PID
	local kids
	kids=$(pgrep -P "$HKDC_PID" 2>/dev/null)
	stop_pid "$HKDC_PID"
	for k in $kids; do stop_pid "$k"; done
	HKDC_PID=""
}
trap 'stop_hkdc; e2e_cleanup' EXIT

if heim "$HROOT/usr/sbin/kstash" --random-key --key-file="$H/m-key" >>"$H/kadmin.log" 2>&1 &&
   hk init --realm-max-ticket-life=1d --realm-max-renewable-life=1d HEIM.TEST &&
   hk add --password=alice-pw --use-defaults alice &&
   hk add --random-key --use-defaults pop/localhost &&
   hk ext_keytab -k "$H/kpopd.keytab" pop/localhost; then
	t_pass "a Heimdal realm HEIM.TEST with alice and pop/localhost, keytab exported"
else
	t_fail "a Heimdal realm" "$(tail -n 3 "$H/kadmin.log")"
	t_summary
	exit 1
fi
heim "$HKDC" --config-file="$KRB5_CONFIG" --ports="$HPORT" --addresses=127.0.0.1 \
	>"$H/kdc.out" 2>&1 &
HKDC_PID=$!
if wait_port "$HPORT" 10 && kill -0 "$HKDC_PID" 2>/dev/null; then
	t_pass "Heimdal's KDC runs on 127.0.0.1:$HPORT (pid $HKDC_PID)"
else
	t_fail "Heimdal's KDC starts" "$(tail -n 3 "$H/kdc.log" 2>/dev/null)"
	t_summary
	exit 1
fi

md=$(mk_maildir alice)
for i in 1 2; do
	printf 'Subject: heimdal %s\n\n.dot\nbody %s\n' "$i" "$i" >"$md/new/100000000$i.M$i.test"
done
kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$H/kpopd.keytab" ||
	{ t_fail "kpopd starts with the Heimdal keytab" "see log"; t_summary; exit 1; }

# MIT's kinit against Heimdal's KDC, then kpop over both mechanisms.
if echo alice-pw | kinit -c "$KRB5CCNAME" alice@HEIM.TEST >/dev/null 2>&1; then
	t_pass "MIT kinit gets a TGT from Heimdal's KDC"
else
	t_fail "MIT kinit gets a TGT from Heimdal's KDC" "kinit failed"
fi
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/out" fetch >/dev/null 2>&1
t_expect_eq "GSSAPI with a Heimdal-issued ticket: fetch exits 0" 0 "$?"
t_expect_eq "2 messages arrive" 2 "$(find "$E2E_DIR/out/new" -type f | wc -l)"
if cmp -s "$md/new/1000000002.M2.test" "$(grep -l 'heimdal 2' "$E2E_DIR"/out/new/* | head -n 1)"; then
	t_pass "a message is byte-identical"
else
	t_fail "a message is byte-identical" "differs"
fi
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --sasl-layer privacy list 2>&1)
t_expect_eq "GSSAPI privacy layer with a Heimdal-issued ticket" 0 "$?"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list 2>&1)
t_expect_eq "KPOP with a Heimdal-issued ticket" 0 "$?"
t_expect_match "KPOP lists the messages" "^2 messages" "$out"
if grep -q "auth ok mech=GSSAPI principal=alice@HEIM.TEST" "$KPOPD_LOG" &&
   grep -q "KPOP: authenticated principal=alice@HEIM.TEST" "$KPOPD_LOG"; then
	t_pass "kpopd logs alice@HEIM.TEST on both paths"
else
	t_fail "kpopd logs alice@HEIM.TEST on both paths" "not in the log"
fi

# Heimdal's own kinit writes the ccache kpop (MIT) then uses.
echo alice-pw >"$H/pw"
export KRB5CCNAME=FILE:$H/alice-heimdal.ccache
if heim "$HKINIT" --password-file="$H/pw" -c "$KRB5CCNAME" alice@HEIM.TEST >/dev/null 2>&1; then
	t_pass "Heimdal's kinit gets a TGT"
	"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
	t_expect_eq "kpop (MIT) over GSSAPI with a ccache from Heimdal's kinit" 0 "$?"
	"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list >/dev/null 2>&1
	t_expect_eq "kpop (MIT) over KPOP with a ccache from Heimdal's kinit" 0 "$?"
else
	t_fail "Heimdal's kinit gets a TGT" "kinit.heimdal failed"
fi

# The key changed in Heimdal's database: kpopd names the stale keytab.
hk cpw --random-key pop/localhost
export KRB5CCNAME=FILE:$H/alice.ccache
kdestroy -c "$KRB5CCNAME" >/dev/null 2>&1
echo alice-pw | kinit -c "$KRB5CCNAME" alice@HEIM.TEST >/dev/null 2>&1
mark=$(wc -l <"$KPOPD_LOG")
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "after a rekey in Heimdal: refused, exit 7" 7 "$?"
sleep 0.2
t_expect_match "after a rekey in Heimdal: the log names the stale keytab" \
	"ticket for pop/localhost@HEIM.TEST kvno 2 [a-z0-9-]+: kvno 2 not found in keytab \(it has kvno 1\); keytab is likely out of date" \
	"$(tail -n +"$((mark + 1))" "$KPOPD_LOG")"

# Cross-realm: alice@HEIM.TEST logs in to a kpopd of the MIT realm KPOP.TEST, which
# trusts HEIM.TEST (krbtgt/KPOP.TEST@HEIM.TEST with one key in both KDCs): accepted
# when kpopd lists both realms, refused (naming the allowed ones) when it does not.
kpopd_stop
hk add --password=xrealm-pw --use-defaults krbtgt/KPOP.TEST@HEIM.TEST
KRB5_CONFIG=$MIT_CONF PATH=$PATH:/usr/sbin:/sbin kadmin.local -r "$KPOP_TEST_REALM" \
	-q "addprinc -pw xrealm-pw krbtgt/KPOP.TEST@HEIM.TEST" >>"$H/kadmin.log" 2>&1
sed -e "s/^\[realms\]/[realms]\n\tKPOP.TEST = {\n\t\tkdc = 127.0.0.1:$KPOP_TEST_KDC_PORT\n\t}/" \
	-e "s/^\tlocalhost = HEIM.TEST/\tlocalhost = KPOP.TEST/" "$H/krb5.conf" >"$H/cross.conf"
export KRB5_CONFIG=$MIT_CONF
kpopd_start -L "127.0.0.1:@PORT@ auto" -o realms="KPOP.TEST HEIM.TEST" ||
	{ t_fail "kpopd of KPOP.TEST starts" "see log"; t_summary; exit 1; }
export KRB5_CONFIG=$H/cross.conf KRB5CCNAME=FILE:$H/cross.ccache
echo alice-pw | kinit -c "$KRB5CCNAME" alice@HEIM.TEST >/dev/null 2>&1
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_eq "cross-realm: alice@HEIM.TEST to a KPOP.TEST kpopd listing both realms (GSSAPI)" 0 "$?"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list 2>&1)
t_expect_eq "cross-realm: the same over KPOP" 0 "$?"
if klist -c "$KRB5CCNAME" 2>/dev/null | grep -q "pop/localhost@KPOP.TEST"; then
	t_pass "cross-realm: the service ticket came from KPOP.TEST's KDC through the trust"
else
	t_fail "cross-realm: the service ticket came through the trust" "$(klist -c "$KRB5CCNAME" 2>&1)"
fi
kpopd_stop
export KRB5_CONFIG=$MIT_CONF
kpopd_start -L "127.0.0.1:@PORT@ auto"
export KRB5_CONFIG=$H/cross.conf
mark=$(wc -l <"$KPOPD_LOG")
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "cross-realm: refused when HEIM.TEST is not listed (GSSAPI), exit 7" 7 "$?"
"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list >/dev/null 2>&1
t_expect_eq "cross-realm: refused when HEIM.TEST is not listed (KPOP), exit 7" 7 "$?"
sleep 0.2
t_expect_eq "cross-realm: both refusals name the allowed realm" 2 \
	"$(tail -n +"$((mark + 1))" "$KPOPD_LOG" | grep -c "realm of alice@HEIM.TEST is not an allowed realm (allowed: KPOP.TEST, the default realm")"

t_summary
