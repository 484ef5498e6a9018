#!/usr/bin/env bash
# tests/e2e/tls.sh - STLS and implicit TLS with GSSAPI, certificate failures in the
# client, STLS command injection, USER/PASS only over TLS (checked against the KDC),
# SASL integrity and privacy layers with a 5 MB RETR, a corrupted wrapped packet,
# and curl / fetchmail / Cyrus pop3test over TLS or a layer.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
certs=$E2E_DIR/certs
if ! bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs"; then
	t_fail "test CA" "mkcerts failed"
	t_summary
	exit 1
fi
probe() { "$PYTHON" "$KP_TOP_SRCDIR/tests/tlsprobe.py" "$@" 2>&1; }

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
md=$(mk_maildir alice)
put_msg "$md" 1000000001.M1.test "$msgs/big"
put_msg "$md" 1000000002.M2.test "$msgs/dots"

tls_opts=(-o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" -o plaintext_login=yes)
KPOPD_PORT2=$(free_port)
if ! kpopd_start -L "127.0.0.1:@PORT@ auto" -L "127.0.0.1:$KPOPD_PORT2 pop3s" "${tls_opts[@]}"; then
	t_fail "kpopd with TLS starts" "see log"
	t_summary
	exit 1
fi
port=$KPOPD_PORT
sport=$KPOPD_PORT2
wait_port "$sport" 5

fetch_check() { # name extra-kpop-args...
	local name=$1 out=$E2E_DIR/out-$RANDOM
	shift
	if "$KPOP" -q -H localhost "$@" --maildir "$out" fetch 2>"$E2E_DIR/err"; then
		local ok=0 f
		for f in "$out"/new/*; do cmp -s "$f" "$msgs/big" && ok=1; done
		if [ $ok = 1 ] && [ "$(find "$out/new" -type f | wc -l)" = 2 ]; then
			t_pass "$name: 5 MB message intact"
		else
			t_fail "$name: 5 MB message intact" "content differs"
		fi
	else
		t_fail "$name" "exit $?: $(cat "$E2E_DIR/err")"
	fi
}
in_log() { # name regex
	if grep -Eq -- "$2" "$KPOPD_LOG"; then t_pass "$1"; else t_fail "$1" "/$2/ not in the server log"; fi
}
fetch_check "STLS + GSSAPI" -p "$port" --cafile "$certs/ca.pem" --starttls required
in_log "server logs the STLS protocol and cipher" "STLS: TLSv1"
fetch_check "implicit TLS (pop3s) + GSSAPI" -p "$sport" --tls --cafile "$certs/ca.pem"
fetch_check "integrity layer" -p "$port" --starttls off --sasl-layer integrity
in_log "integrity layer negotiated" "SASL security layer: integrity"
fetch_check "privacy layer" -p "$port" --starttls off --sasl-layer privacy
in_log "privacy layer negotiated" "SASL security layer: privacy"
fetch_check "KPOP + STLS" -p "$port" --auth kpop -u alice --cafile "$certs/ca.pem" --starttls required
out=$("$KPOP" -H localhost -p "$port" --cafile "$certs/ca.pem" --sasl-layer privacy list 2>&1)
t_expect_eq "no security layer on top of TLS: a client insisting on one is refused" 3 "$?"

# a client that sends STLS and then no handshake is dropped at the idle timeout
main_pid=$KPOPD_PID
KPOPD_PID=""
kpopd_start -L "127.0.0.1:@PORT@ pop3" "${tls_opts[@]}" -o idle_timeout=2
out=$(timeout 20 "$PYTHON" "$KP_TOP_SRCDIR/tests/tlsprobe.py" "$KPOPD_PORT" "$certs/ca.pem" stall 2>&1)
secs=$(printf '%s' "$out" | sed -nE 's/closed after ([0-9]+) s/\1/p')
if [ -n "$secs" ] && [ "$secs" -le 5 ]; then
	t_pass "a stalled TLS handshake is dropped at the idle timeout (${secs}s)"
else
	t_fail "a stalled TLS handshake is dropped at the idle timeout" "$out"
fi
kpopd_stop
KPOPD_PID=$main_pid
KPOPD_PORT=$port

# a layer inside TLS, when the admin asks for it (sasl_layers_over_tls)
main_pid=$KPOPD_PID
KPOPD_PID=""
kpopd_start -L "127.0.0.1:@PORT@ pop3" "${tls_opts[@]}" -o sasl_layers_over_tls=yes
fetch_check "privacy layer inside TLS" -p "$KPOPD_PORT" --cafile "$certs/ca.pem" --starttls required --sasl-layer privacy
kpopd_stop
KPOPD_PID=$main_pid
KPOPD_PORT=$port

# certificate failures in the client, never a plaintext fallback
err=$("$KPOP" -H localhost -p "$port" list 2>&1)
t_expect_eq "untrusted CA (system store): exit 2" 2 "$?"
t_expect_match "untrusted CA explained" "does not trust" "$err"
main_pid=$KPOPD_PID
KPOPD_PID=""
kpopd_start -L "127.0.0.1:@PORT@ pop3" -o tls_cert="$certs/wrong.pem" -o tls_key="$certs/wrong.key"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --cafile "$certs/ca.pem" list 2>&1)
t_expect_eq "host name mismatch: exit 2" 2 "$?"
t_expect_match "host name mismatch explained" "not valid for the host name localhost" "$err"
kpopd_stop
kpopd_start -L "127.0.0.1:@PORT@ pop3" -o tls_cert="$certs/rogue.pem" -o tls_key="$certs/rogue.key"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --cafile "$certs/ca.pem" list 2>&1)
t_expect_eq "certificate from another CA: exit 2" 2 "$?"
kpopd_stop
kpopd_start -L "127.0.0.1:@PORT@ pop3"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --starttls required list 2>&1)
t_expect_eq "--starttls required against a server without TLS: exit 2" 2 "$?"
t_expect_match "no plaintext fallback, said plainly" "does not offer STLS" "$err"
kpopd_stop
KPOPD_PID=$main_pid
KPOPD_PORT=$port

# TLS 1.2 is the minimum
if openssl s_client -help 2>&1 | grep -q -- -tls1_1; then
	if echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$sport" -tls1_1 >/dev/null 2>&1; then
		t_fail "TLS 1.1 is refused" "handshake succeeded"
	else
		t_pass "TLS 1.1 is refused"
	fi
	echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$sport" -tls1_2 -CAfile "$certs/ca.pem" >/dev/null 2>&1
	t_expect_eq "TLS 1.2 is accepted" 0 "$?"
fi

# STLS edges
out=$(probe "$port" "$certs/ca.pem" inject)
t_expect_match "STLS injection: the pipelined CAPA is not executed" "first reply inside TLS: \+OK$" "$out"
in_log "STLS injection logged" "discarded 6 bytes pipelined after STLS"
out=$(probe "$port" "$certs/ca.pem" twice)
t_expect_match "a second STLS is refused" "second STLS: -ERR" "$out"
if printf '%s' "$out" | grep "capa inside TLS" | grep -q STLS; then
	t_fail "CAPA inside TLS does not offer STLS" "$out"
else
	t_pass "CAPA inside TLS does not offer STLS"
fi

# USER/PASS: refused without TLS, checked against the KDC with TLS
out=$(probe "$port" "$certs/ca.pem" userplain)
t_expect_match "USER refused without TLS" "Plaintext login needs TLS" "$out"
if command -v curl >/dev/null; then
	out=$(timeout 30 curl -sS --cacert "$certs/ca.pem" -u alice:alice-pw "pop3s://localhost:$sport/" 2>&1)
	t_expect_eq "USER/PASS over TLS with the right password (curl pop3s)" 0 "$?"
	# (curl takes AUTH PLAIN where CAPA lists it: the same PASSWORD check)
	in_log "password verified against the KDC and our keytab" "auth ok mech=(USER/PASS|PLAIN) principal=alice@$KPOP_TEST_REALM"
	out=$(timeout 30 curl -sS --cacert "$certs/ca.pem" -u alice:wrong-pw "pop3s://localhost:$sport/" 2>&1)
	if [ $? -ne 0 ]; then t_pass "USER/PASS with a wrong password is refused"; else t_fail "USER/PASS with a wrong password is refused" "$out"; fi
	if grep -q "wrong-pw" "$KPOPD_LOG"; then t_fail "the password never reaches the log" "found"; else t_pass "the password never reaches the log"; fi
	out=$(timeout 30 curl -sS --cacert "$certs/ca.pem" --login-options AUTH=GSSAPI \
		-u "alice@$KPOP_TEST_REALM:" "pop3s://localhost:$sport/1" 2>&1)
	t_expect_eq "curl pop3s + GSSAPI" 0 "$?"
	out=$(timeout 30 curl -sS --ssl-reqd --cacert "$certs/ca.pem" --login-options AUTH=GSSAPI \
		-u "alice@$KPOP_TEST_REALM:" "pop3://localhost:$port/" 2>&1)
	t_expect_eq "curl STLS + GSSAPI" 0 "$?"
else
	t_skip "curl over TLS" "curl not installed"
fi

# a corrupted wrapped packet ends the session cleanly
out=$(probe "$port" "$certs/ca.pem" corrupt)
t_expect_match "corrupted security-layer packet: connection closed" "after corrupt packet: closed" "$out"
in_log "corrupted packet logged" "security layer: could not decode the peer"

if command -v fetchmail >/dev/null; then
	mkdir -p "$E2E_DIR/fmhome"
	out=$(HOME=$E2E_DIR/fmhome FETCHMAILHOME=$E2E_DIR/fmhome timeout 60 fetchmail --pidfile $E2E_DIR/fmhome/fetchmail.pid -N -a -k --sslcertck --sslcertfile "$certs/ca.pem" \
		--sslproto 'TLS1.2+' -p POP3 --auth gssapi -u alice -P "$port" \
		--mda "cat >> $E2E_DIR/fm.mbox" localhost 2>&1)
	t_expect_eq "fetchmail STLS + GSSAPI exits 0" 0 "$?"
	t_expect_eq "fetchmail over STLS got both messages" 2 "$(grep -c '^Subject: ' "$E2E_DIR/fm.mbox" 2>/dev/null)"
else
	t_skip "fetchmail over TLS" "fetchmail not installed"
fi
pop3test=$(command -v pop3test || ls /usr/lib/cyrus/bin/pop3test 2>/dev/null || true)
if [ -n "$pop3test" ]; then
	for layer in "1 1 integrity" "2 256 privacy"; do
		set -- $layer
		before=$(grep -c "SASL security layer: $3" "$KPOPD_LOG")
		out=$(printf 'STAT\r\nQUIT\r\n' | timeout 30 "$pop3test" -m GSSAPI -k "$1" -l "$2" -u alice \
			-p "$port" localhost 2>&1)
		after=$(grep -c "SASL security layer: $3" "$KPOPD_LOG")
		if printf '%s' "$out" | grep -q '^+OK 2 ' && [ "$after" -gt "$before" ]; then
			t_pass "Cyrus pop3test negotiates the $3 layer and runs STAT through it"
		else
			t_fail "Cyrus pop3test negotiates the $3 layer" "$(printf '%s' "$out" | tail -n 3)"
		fi
	done
else
	t_skip "Cyrus pop3test" "pop3test (cyrus-clients) not installed"
fi
t_summary
