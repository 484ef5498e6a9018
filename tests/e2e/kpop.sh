#!/usr/bin/env bash
# tests/e2e/kpop.sh - legacy KPOP (krb5 sendauth "KPOPV1.0"): kpop <-> kpopd on auto
# and kpop listeners, GSSAPI and KPOP clients mixed on one listener, malformed
# handshakes, a replayed AP-REQ, USER authorization, pipelining, Kerberos 4.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
tool() { "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$@"; }

md=$(mk_maildir alice)
for i in 1 2 3; do
	printf 'Subject: kpop %s\n\n.dot line\nbody %s\n' "$i" "$i" >"$md/new/100000000$i.M$i.test"
done

kpopd_start -L "127.0.0.1:@PORT@ auto" -o kpop_timeout=2 ||
	{ t_fail "kpopd starts" "see log"; t_summary; exit 1; }
auto_pid=$KPOPD_PID auto_port=$KPOPD_PORT
KPOPD_PID=""
kpopd_start -L "127.0.0.1:@PORT@ kpop" -o kpop_timeout=2 ||
	{ t_fail "kpopd (kpop listener) starts" "see log"; t_summary; exit 1; }
kpop_pid=$KPOPD_PID kpop_port=$KPOPD_PORT
KPOPD_PID=""
stop_both() { stop_pid "$auto_pid"; stop_pid "$kpop_pid"; }
trap 'stop_both; e2e_cleanup' EXIT

# kpop client over KPOP, on both listener modes
out=$("$KPOP" -H localhost -p "$auto_port" --auth kpop -u alice --maildir "$E2E_DIR/out-auto" fetch 2>&1)
t_expect_eq "kpop --auth kpop fetches on an auto listener" 0 "$?"
t_expect_eq "3 messages arrive over KPOP" 3 "$(find "$E2E_DIR/out-auto/new" -type f | wc -l)"
if cmp -s "$(ls "$E2E_DIR"/out-auto/new/* | head -n 1)" "$md/new/1000000001.M1.test" ||
   cmp -s "$(ls "$E2E_DIR"/out-auto/new/* | head -n 1)" "$md/new/1000000002.M2.test" ||
   cmp -s "$(ls "$E2E_DIR"/out-auto/new/* | head -n 1)" "$md/new/1000000003.M3.test"; then
	t_pass "a KPOP-fetched message is byte-identical"
else
	t_fail "a KPOP-fetched message is byte-identical" "no match"
fi
out=$("$KPOP" -H localhost -p "$kpop_port" --auth kpop -u alice list 2>&1)
t_expect_eq "kpop --auth kpop lists on a kpop listener" 0 "$?"
t_expect_match "KPOP list shows 3 messages" "^3 messages" "$out"
if grep -q "KPOP: authenticated principal=alice@KPOP.TEST mutual=yes" "$KPOPD_LOG"; then
	t_pass "server logs the KPOP principal and mutual authentication"
else
	t_fail "server logs the KPOP principal and mutual authentication" "not in log"
fi

# GSSAPI and KPOP clients at once on the same auto listener
pids=""
for i in 1 2 3; do
	"$KPOP" -H localhost -p "$auto_port" --auth kpop -u alice list >/dev/null 2>&1 &
	pids="$pids $!"
	"$KPOP" -H localhost -p "$auto_port" list >/dev/null 2>&1 &
	pids="$pids $!"
done
fails=0
for p in $pids; do
	wait "$p" || fails=$((fails + 1))
done
# the maildrop lock lets one session in at a time: the others may get IN-USE (9)
ok=$((6 - fails))
if [ "$ok" -ge 1 ]; then
	t_pass "mixed GSSAPI and KPOP clients on one auto listener ($ok of 6 got in, the rest IN-USE)"
else
	t_fail "mixed GSSAPI and KPOP clients on one auto listener" "none succeeded"
fi
out=$("$KPOP" -H localhost -p "$auto_port" list 2>&1)
t_expect_eq "GSSAPI still works on the auto listener" 0 "$?"

# a GSSAPI client on a kpop-only listener: the server waits for KPOP and gives up
"$KPOP" -H localhost -p "$kpop_port" -t 10 list >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then t_pass "POP3 client on a kpop listener is refused (exit $rc)"; else t_fail "POP3 client on a kpop listener is refused" "exit 0"; fi

# USER must be authorized for the ticket's principal
out=$(tool "$auto_port" user bob 2>&1)
t_expect_match "KPOP principal alice may not open bob's mailbox" "^-ERR \[AUTH\]" "$(printf '%s' "$out" | tail -n 1)"
"$KPOP" -H localhost -p "$auto_port" --auth kpop -u bob list >/dev/null 2>&1
t_expect_eq "kpop --auth kpop -u bob: exit 7 (refused)" 7 "$?"

# pipelined USER/PASS/STAT/QUIT before the greeting are answered in order
out=$(tool "$kpop_port" pipeline 2>&1)
t_expect_match "pipelined commands after the handshake are kept" "Logged in as alice" "$out"
t_expect_match "pipelined STAT answered" "^\+OK 3 " "$(printf '%s\n' "$out" | grep '^+OK 3 ')"

# replay cache: the same AP-REQ twice
out=$(tool "$kpop_port" replay 2>&1)
t_expect_match "first use of an AP-REQ is accepted" "first: OK" "$out"
t_expect_match "replayed AP-REQ is refused" "second: (KRB-ERROR|closed)" "$out"
if grep -q "replay" "$KPOPD_LOG"; then t_pass "replay logged"; else t_fail "replay logged" "no 'replay' in log"; fi

# Kerberos 4
out=$(tool "$kpop_port" v4 2>&1)
t_expect_match "Kerberos 4 client gets a clear refusal" "Kerberos 4" "$out"

# malformed handshakes on the kpop listener: each ends the session, fast, logged
hex_msg() { printf '%08x' "${#1}"; printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
sa=$(hex_msg "KRB5_SENDAUTH_V1.0")00
sa=$(printf '%08x' 19)$(printf 'KRB5_SENDAUTH_V1.0' | od -An -tx1 | tr -d ' \n')00
kp=$(printf '%08x' 9)$(printf 'KPOPV1.0' | od -An -tx1 | tr -d ' \n')00
bad_sa=$(printf '%08x' 19)$(printf 'KRB5_SENDAUTH_V9.9' | od -An -tx1 | tr -d ' \n')00
bad_kp=$(printf '%08x' 9)$(printf 'KPOPV9.9' | od -An -tx1 | tr -d ' \n')00
check_closed() { # name hex expected-regex-of-reply log-regex
	local out
	out=$(timeout 20 "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$kpop_port" raw "$2" 2>&1)
	t_expect_match "$1: server answers and closes" "$3" "$out"
	sleep 0.2
	if grep -Eq "$4" "$KPOPD_LOG"; then t_pass "$1: logged"; else t_fail "$1: logged" "no /$4/ in log"; fi
}
check_closed "length prefix 0" "00000000" "^got 0 bytes" "bad length 0"
check_closed "length prefix 0xFFFFFFFF" "ffffffff" "^got 0 bytes" "bad length 4294967295"
check_closed "wrong sendauth version" "$bad_sa" "^got 1 bytes: b'.x01'" "bad sendauth version"
check_closed "wrong application version" "$sa$bad_kp" "^got 1 bytes: b'.x02'" "bad application version"
check_closed "garbage instead of an AP-REQ" "$sa$kp$(printf '%08x' 8)6761726261676521" "^got [0-9]+ bytes: b[\"'].x00" "KPOP: authentication failed"
# an AP-REQ too large to hold, or empty, is answered with a KRB-ERROR (version byte,
# then a length and the error), not just a close: the client can tell why
check_closed "AP-REQ length 0x7fffffff: KRB-ERROR, no allocation" "$sa$kp""7fffffff" \
	"^got [0-9]{2,} bytes: b[\"'].x00.x00.x00.x00" "AP-REQ of 2147483647 octets is over the limit of 65535"
check_closed "AP-REQ of length 0: KRB-ERROR" "$sa$kp""00000000" \
	"^got [0-9]{2,} bytes: b[\"'].x00.x00.x00.x00" "KPOP: authentication failed"
check_closed "short read: header then EOF" "0000001358585858" "^got 0 bytes" "truncated"
out=$(timeout 20 "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$kpop_port" stall "$sa" 2>&1)
secs=$(printf '%s' "$out" | sed -nE 's/closed after ([0-9]+)\..*/\1/p')
if [ -n "$secs" ] && [ "$secs" -le 4 ]; then
	t_pass "a client stalling mid-handshake is dropped within kpop_timeout (${secs}s)"
else
	t_fail "a client stalling mid-handshake is dropped within kpop_timeout" "$out"
fi

# a ticket for another service is refused even when the keytab holds its key
if printf 'rkt %s\nrkt %s\nwkt %s\n' "$KPOP_TEST_DIR/kpopd.keytab" "$KPOP_TEST_DIR/other.keytab" \
	"$E2E_DIR/both.keytab" | ktutil >/dev/null 2>&1; then
	KPOPD_PID=""
	kpopd_start -L "127.0.0.1:@PORT@ kpop" -o keytab="$E2E_DIR/both.keytab"
	"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop --service imap -u alice list >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q "ticket is for imap/localhost" "$KPOPD_LOG"; then
		t_pass "a ticket for imap/localhost is refused by the service check (exit $rc)"
	else
		t_fail "a ticket for imap/localhost is refused by the service check" "exit $rc"
	fi
	kpopd_stop
else
	t_fail "a ticket for another service is refused" "ktutil could not merge keytabs"
fi

# kpop explains a KPOP failure: no such server principal
err=$("$KPOP" -H 127.0.0.1 -p "$auto_port" --auth kpop -u alice list 2>&1)
t_expect_eq "KPOP to an unknown server principal: exit 5" 5 "$?"
t_expect_match "KPOP unknown principal explained" "not know|unknown|not found" "$err"
err=$(KRB5CCNAME=FILE:$E2E_DIR/none "$KPOP" -H localhost -p "$auto_port" --auth kpop -u alice list 2>&1)
t_expect_eq "KPOP without a ticket: exit 4" 4 "$?"
t_expect_match "KPOP without a ticket: run kinit" "kinit" "$err"

t_summary
