#!/usr/bin/env bash
# tests/e2e/krbcauses.sh - every failed Kerberos login logs its own cause, with the
# fix, at the default log level (issues 10 and 14): a stale keytab (the KDC's key
# changed: kadmin cpw -randkey), an enctype this host does not permit (an RC4-only
# service key, as an AD account with SPNs gets, and a krb5.conf permitting AES
# only), a principal missing from the keytab, a pinned server_principal, a
# truncated token, clock skew (libfaketime), a replay, a realm not allowed.  Each
# over GSSAPI and KPOP where the path exists.  The services are this test's own
# (kc*/HOST), so that changing their keys cannot disturb the other tests' realm.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
PATH=$PATH:/usr/sbin:/sbin
R=$KPOP_TEST_REALM
kadm() { kadmin.local -r "$R" -q "$1" >>"$E2E_DIR/kadmin.log" 2>&1; }
tool() { "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$@"; }
gc() { "$PYTHON" "$KP_TOP_SRCDIR/tests/gssclient.py" "$KPOPD_PORT" "$@"; }
log_mark() { wc -l <"$KPOPD_LOG"; }
log_since() { tail -n +"$(($1 + 1))" "$KPOPD_LOG" | grep -v ': debug: '; }

md=$(mk_maildir alice)
printf 'Subject: causes\n\nbody\n' >"$md/new/1000000001.M1.test"

# server SERVICE KEYTAB [kpopd options]: a fresh kpopd (auto listener, log at the
# default level info) for service SERVICE with that keytab.
server() {
	local svc=$1 kt=$2
	shift 2
	kpopd_stop
	kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$kt" -o service="$svc" \
		-o log_level=info "$@"
}
# attempt NAME SERVICE CAUSE-REGEX [kpop options]: kpop over GSSAPI, then over
# KPOP, is refused and the log since says CAUSE at info, with the ticket's name.
attempt() {
	local name=$1 svc=$2 cause=$3 how mark err rc
	shift 3
	for how in gssapi kpop; do
		mark=$(log_mark)
		local a=()
		[ "$how" = kpop ] && a=(--auth kpop -u alice)
		err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service "$svc" "${a[@]}" "$@" list 2>&1)
		rc=$?
		if [ "$rc" -ne 0 ]; then
			t_pass "$name ($how): refused (exit $rc)"
		else
			t_fail "$name ($how): refused" "exit 0"
		fi
		sleep 0.2
		t_expect_match "$name ($how): the log says why" "$cause" "$(log_since "$mark")"
	done
}

# 1. Stale keytab: the keytab holds kvno 2, the KDC has moved on to kvno 3.
kadm "addprinc -randkey kcstale/localhost"
kadm "ktadd -k $E2E_DIR/stale.keytab kcstale/localhost"
kadm "cpw -randkey kcstale/localhost"
server kcstale "$E2E_DIR/stale.keytab" || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }
attempt "stale keytab" kcstale \
	"ticket for kcstale/localhost@$R kvno 3 aes256-cts-hmac-sha1-96: kvno 3 not found in keytab \(it has kvno 2\); keytab is likely out of date"

# 2. RC4: a service account with RC4 keys only (AD's default for an account with
#    SPNs).  Accepted where RC4 is permitted, refused with its own cause where the
#    host's krb5.conf permits AES only.
kadm "addprinc -randkey -e arcfour-hmac:normal kcrc4/localhost"
kadm "ktadd -k $E2E_DIR/rc4.keytab -norandkey kcrc4/localhost"
server kcrc4 "$E2E_DIR/rc4.keytab"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service kcrc4 list 2>&1)
t_expect_eq "RC4 service key, RC4 permitted: GSSAPI logs in" 0 "$?"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service kcrc4 --auth kpop -u alice list 2>&1)
t_expect_eq "RC4 service key, RC4 permitted: KPOP logs in" 0 "$?"
sed '/^\[libdefaults\]/a\	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96' \
	"$KRB5_CONFIG" >"$E2E_DIR/aes-only.conf"
client_conf=$KRB5_CONFIG
export KRB5_CONFIG=$E2E_DIR/aes-only.conf
server kcrc4 "$E2E_DIR/rc4.keytab"
export KRB5_CONFIG=$client_conf
attempt "RC4 service key, host permits AES only" kcrc4 \
	"ticket for kcrc4/localhost@$R kvno 1 arcfour-hmac: enctype arcfour-hmac is not permitted on this host \(permitted_enctypes in krb5.conf\): give the service account AES keys"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service kcrc4 --auth kpop -u alice list 2>&1)
t_expect_match "RC4 refused over KPOP: kpop says the enctype is the problem, not the keytab" \
	"does not permit the encryption type .*AES keys" "$err"

# 3. A name the keytab does not hold (an alias the clients use).
kadm "addprinc -randkey kcmiss/localhost"
kadm "addprinc -randkey kcmiss/mail.kpop.test"
kadm "ktadd -k $E2E_DIR/miss.keytab -norandkey kcmiss/mail.kpop.test"
server kcmiss "$E2E_DIR/miss.keytab"
attempt "principal not in the keytab" kcmiss \
	"principal kcmiss/localhost@$R is not in the keytab \(it holds kcmiss/mail.kpop.test@$R\)"

# 4. server_principal pinned to another name of the same service.
kadm "addprinc -randkey kcpin/localhost"
kadm "addprinc -randkey kcpin/mail.kpop.test"
kadm "ktadd -k $E2E_DIR/pin.keytab -norandkey kcpin/localhost"
kadm "ktadd -k $E2E_DIR/pin.keytab -norandkey kcpin/mail.kpop.test"
server kcpin "$E2E_DIR/pin.keytab" -o server_principal="kcpin/mail.kpop.test@$R"
attempt "pinned server_principal" kcpin \
	"the ticket is for kcpin/localhost@$R, not for the pinned server_principal kcpin/mail.kpop.test@$R"

# 5. Truncated tokens (the test realm's own pop service from here on).
server pop "$KPOP_TEST_DIR/kpopd.keytab"
mark=$(log_mark)
out=$(gc truncated 2>&1)
t_expect_match "truncated GSSAPI token: refused" "^-ERR \[AUTH\]" "$out"
sleep 0.2
t_expect_match "truncated GSSAPI token: the log says so" \
	"the token is truncated or garbled \([0-9]+ octets" "$(log_since "$mark")"
mark=$(log_mark)
out=$(tool "$KPOPD_PORT" half 2>&1)
t_expect_match "truncated KPOP AP-REQ: answered with a KRB-ERROR" "^KRB-ERROR" "$out"
sleep 0.2
t_expect_match "truncated KPOP AP-REQ: the log says so" \
	"the token is truncated or garbled \([0-9]+ octets" "$(log_since "$mark")"

# 6. Replays.
mark=$(log_mark)
out=$(gc replay 2>&1)
t_expect_match "GSSAPI token replayed: the first is taken" "^first: \+" "$out"
t_expect_match "GSSAPI token replayed: the second is refused" "second: -ERR \[AUTH\]" "$out"
sleep 0.2
t_expect_match "GSSAPI replay: the log says so" \
	"ticket for pop/localhost@$R kvno [0-9]+ [a-z0-9-]+: replay: this authenticator was already used" \
	"$(log_since "$mark")"
mark=$(log_mark)
out=$(tool "$KPOPD_PORT" replay 2>&1)
t_expect_match "KPOP AP-REQ replayed: refused" "second: KRB-ERROR" "$out"
sleep 0.2
t_expect_match "KPOP replay: the log says so" "replay: this authenticator was already used" \
	"$(log_since "$mark")"

# 7. A realm not allowed: the log names the realms that are.
server pop "$KPOP_TEST_DIR/kpopd.keytab" -o realms="OTHER.TEST THIRD.TEST"
mark=$(log_mark)
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "realm not allowed (GSSAPI): refused, exit 7" 7 "$?"
"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list >/dev/null 2>&1
t_expect_eq "realm not allowed (KPOP): refused, exit 7" 7 "$?"
sleep 0.2
t_expect_eq "realm not allowed: both logs name the allowed realms" 2 \
	"$(log_since "$mark" | grep -c "realm of alice@$R is not an allowed realm (allowed: OTHER.TEST, THIRD.TEST")"

# 8. Clock skew: this server's clock 2 hours ahead (libfaketime); the log gives the
#    skew it measured from the authenticator.
if command -v faketime >/dev/null; then
	KPOPD_WRAP="faketime -f +2h" server pop "$KPOP_TEST_DIR/kpopd.keytab"
	attempt "clock skew" pop \
		"clock skew: the client's clock is 7[12][0-9][0-9] s behind this host's"
else
	t_skip "clock skew" "faketime (libfaketime) is not installed"
fi

t_summary
