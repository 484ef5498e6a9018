#!/usr/bin/env bash
# tests/e2e/probe2.sh - kpop probe against broken servers and a foreign one: a kpopd
# whose keytab is stale (the server refuses the ticket before its AP-REP: the probe
# names the ticket's kvno and points at kpopd -t -k), a kpopd whose Kerberos works
# but whose authorization refuses the principal, a kpopd without STLS, no KDC
# reachable and clock skew on the client's side, and a real
# Dovecot with GSSAPI and STLS (tests/lib/dovecot.sh; skipped with the reason when
# it cannot run here).
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
. "$KP_TOP_SRCDIR/tests/lib/dovecot.sh"
trap 'dovecot_stop; e2e_cleanup' EXIT

certs=$E2E_DIR/certs
bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs" >/dev/null 2>&1 || t_fail "test CA" "mkcerts failed"
md=$(mk_maildir alice)
printf 'From: bob@kpop.test\nSubject: one\n\nbody\n' >"$md/new/1.M1.p2"
probe() {
	timeout 60 "$KPOP" probe -t 5 "$@" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	rc=$?
	out=$(cat "$E2E_DIR/out")
}

# --- a stale keytab: pop/localhost only at a kvno the KDC never issued, wrong key
printf 'addent -password -p pop/localhost@%s -k 7 -e aes256-cts-hmac-sha1-96\nnot-the-key\nwkt %s\nq\n' \
	"$KPOP_TEST_REALM" "$E2E_DIR/stale.keytab" | ktutil >"$E2E_DIR/ktutil.log" 2>&1
kvno=$(klist -ke "$KPOP_TEST_DIR/kpopd.keytab" | awk '/pop\/localhost@/ {print $1; exit}')
if kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$E2E_DIR/stale.keytab"; then
	probe localhost -p "$KPOPD_PORT" -a all -u alice
	t_expect_eq "stale keytab: exit 7 (refused)" 7 "$rc"
	t_expect_match "stale keytab: GSSAPI refused, with the ticket's kvno and the way to check the server" \
		"GSSAPI port $KPOPD_PORT FAILED.*fix: the server could not accept the ticket the KDC issued \(kvno $kvno, aes256-cts-hmac-sha1-96\): its keytab lacks that key version or enctype.*kpopd -t -k" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	t_expect_match "stale keytab: KPOP's KRB-ERROR explained (no matching key)" \
		"KPOP handshake +FAILED - .*the server's keytab has no matching key" "$out"
	t_expect_match "stale keytab: the server's log names the cause (kvno not in the keytab)" \
		"kvno $kvno not found in keytab \(it has kvno 7\); keytab is likely out of date" "$(cat "$KPOPD_LOG")"
	t_expect_match "no STLS: reported as a warning" "STLS +warning - not offered: the session is not protected by TLS" "$out"
	kpopd_stop
else
	t_fail "kpopd with a stale keytab starts" "$(tail -n 5 "$KPOPD_LOG")"
fi

# --- Kerberos works, the authorization refuses (alice's realm is not allowed)
if kpopd_start -o realms=OTHER.TEST; then
	probe localhost -p "$KPOPD_PORT" -a gssapi
	t_expect_eq "authorization refused: exit 7" 7 "$rc"
	t_expect_match "authorization refused: the probe says Kerberos worked and the login was refused" \
		"fix: the Kerberos exchange worked \(the server proved its key\), then the login was refused: alice@$KPOP_TEST_REALM may not use that mailbox" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	kpopd_stop
else
	t_fail "kpopd with realms = OTHER.TEST starts" "$(tail -n 5 "$KPOPD_LOG")"
fi

# --- the client side: no KDC reachable, clock skew (a fresh ccache with only a TGT,
# so that the probe must ask the KDC for the service ticket)
orig_cc=$KRB5CCNAME
export KRB5CCNAME=FILE:$E2E_DIR/fresh.ccache
printf 'alice-pw\n' | kinit alice >/dev/null 2>&1
sed -E "s/kdc = 127\.0\.0\.1:[0-9]+/kdc = 127.0.0.1:$(free_port)/" "$KRB5_CONFIG" >"$E2E_DIR/nokdc.conf"
if kpopd_start; then
	KRB5_CONFIG=$E2E_DIR/nokdc.conf probe localhost -p "$KPOPD_PORT" -a gssapi
	t_expect_eq "no KDC reachable: exit 5" 5 "$rc"
	t_expect_match "no KDC reachable: the service ticket step says so, with the fix" \
		"service ticket +FAILED - KDC unreachable: check the realm's kdc lines in krb5.conf" "$out"
	t_expect_match "no KDC reachable: GSSAPI not tried, for that reason" \
		"AUTH GSSAPI +FAILED - not tried: KDC unreachable" "$out"
	if command -v faketime >/dev/null; then
		out=$(faketime -f +2h timeout 60 "$KPOP" probe -t 5 localhost -p "$KPOPD_PORT" -a gssapi 2>&1)
		rc=$?
		t_expect_eq "clock skew (faketime +2h): exit 6" 6 "$rc"
		t_expect_match "clock skew: the service ticket step says so, with the fix" \
			"service ticket +FAILED - clock skew: fix time synchronisation \(NTP\)" "$out"
	else
		t_skip "clock skew" "faketime is not installed"
	fi
	kpopd_stop
else
	t_fail "kpopd starts" "$(tail -n 5 "$KPOPD_LOG")"
fi
export KRB5CCNAME=$orig_cc

# --- a real Dovecot: GSSAPI over STLS, no KPOP
dc_cases=("Dovecot: probe exit 0" "Dovecot: STLS offered and accepted, certificate verified"
	"Dovecot: GSSAPI mutual authentication" "Dovecot: the implementation is named"
	"Dovecot: implicit TLS port")
if ! dovecot_usable; then
	for c in "${dc_cases[@]}"; do t_skip "$c" "$DOVECOT_WHY"; done
else
	D=$E2E_DIR/dovecot
	mkdir -p "$D"
	DC_KEYTAB=$KPOP_TEST_DIR/kpopd.keytab DC_CERT=$certs/server.pem DC_KEY=$certs/server.key
	DC_UID=$KP_MAIL_UID DC_HOMES=$MAILROOT/%n DC_PASSWD="alice:{PLAIN}not-used-by-gssapi"
	if ! dovecot_setup "$D" || ! dovecot_start "$D"; then
		for c in "${dc_cases[@]}"; do t_fail "$c" "Dovecot did not start: $DOVECOT_WHY"; done
	else
		probe localhost -p "$D_POP3" -a gssapi --cafile "$certs/ca.pem"
		t_expect_eq "${dc_cases[0]}" 0 "$rc"
		t_expect_match "${dc_cases[1]}" "STLS +ok - offered and accepted.*host name +ok" \
			"$(printf '%s' "$out" | tr '\n' ' ')"
		t_expect_match "${dc_cases[2]}" "AUTH GSSAPI +ok - mutual authentication succeeded" "$out"
		t_expect_match "${dc_cases[3]}" "greeting +ok - \+OK .*Dovecot" "$out"
		probe localhost -p "$D_POP3S" --tls -a gssapi --cafile "$certs/ca.pem"
		t_expect_match "${dc_cases[4]}" "GSSAPI port $D_POP3S +OK" "$out"
		dovecot_stop
	fi
fi
t_summary
