#!/usr/bin/env bash
# tests/e2e/plain.sh - password logins as mail clients make them, inside TLS only:
# AUTH PLAIN from curl (pop3s and STLS), mpop, Cyrus pop3test and Python poplib;
# fetchmail's password auth; the password never in the log; PLAIN neither listed
# nor accepted without TLS.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
certs=$E2E_DIR/certs
if ! bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs"; then
	t_fail "test CA" "mkcerts failed"
	t_summary
	exit 1
fi
md=$(mk_maildir alice)
printf 'From: bob@kpop.test\nSubject: plain one\n\n.leading dot\nbody\n' >"$md/new/1000000001.M1.test"
printf 'Subject: plain two\n\nsecond' >"$md/new/1000000002.M2.test"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"
KPOPD_PORT2=$(free_port)
if ! kpopd_start -L "127.0.0.1:@PORT@ pop3" -L "127.0.0.1:$KPOPD_PORT2 pop3s" \
	-o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" -o plaintext_login=yes; then
	t_fail "kpopd with TLS starts" "see log"
	t_summary
	exit 1
fi
port=$KPOPD_PORT
sport=$KPOPD_PORT2
wait_port "$sport" 5
pw=alice-pw
mechs() { grep -c "auth ok mech=$1 principal=alice@$KPOP_TEST_REALM" "$KPOPD_LOG"; }

# curl: AUTH PLAIN with an initial response
if command -v curl >/dev/null; then
	n=$(mechs PLAIN)
	out=$(timeout 30 curl -sS --cacert "$certs/ca.pem" --login-options AUTH=PLAIN \
		-u "alice:$pw" "pop3s://localhost:$sport/1" 2>&1)
	t_expect_eq "curl AUTH PLAIN over pop3s exits 0" 0 "$?"
	t_expect_match "curl AUTH PLAIN over pop3s gets message 1" "Subject: plain one" "$out"
	out=$(timeout 30 curl -sS --ssl-reqd --cacert "$certs/ca.pem" --login-options AUTH=PLAIN \
		-u "alice:$pw" "pop3://localhost:$port/" 2>&1)
	t_expect_eq "curl AUTH PLAIN after STLS exits 0" 0 "$?"
	t_expect_match "curl AUTH PLAIN after STLS lists 2 messages" "^2 [0-9]+" "$(printf '%s' "$out" | tr -d '\r' | tail -n 1)"
	t_expect_eq "the server logged both as mech=PLAIN" $((n + 2)) "$(mechs PLAIN)"
	out=$(timeout 30 curl -sS --cacert "$certs/ca.pem" --login-options AUTH=PLAIN \
		-u "alice:wrong-$pw" "pop3s://localhost:$sport/" 2>&1)
	if [ $? -ne 0 ]; then t_pass "curl AUTH PLAIN with a wrong password is refused"; else t_fail "curl AUTH PLAIN with a wrong password is refused" "$out"; fi
	out=$(timeout 30 curl -sS --login-options AUTH=PLAIN -u "alice:$pw" "pop3://localhost:$port/" 2>&1)
	if [ $? -ne 0 ]; then
		t_pass "curl AUTH PLAIN without TLS gets nothing"
	else
		t_fail "curl AUTH PLAIN without TLS gets nothing" "$out"
	fi
else
	t_skip "curl AUTH PLAIN" "curl is not installed"
fi

# mpop: auth plain, STLS and pop3s
if command -v mpop >/dev/null; then
	for mode in starttls pop3s; do
		p=$port st=on
		[ $mode = pop3s ] && p=$sport st=off
		: >"$E2E_DIR/mpop-$mode.mbox"
		n=$(mechs PLAIN)
		out=$(timeout 30 mpop --host=localhost --port="$p" --auth=plain --user=alice \
			--passwordeval="echo $pw" --tls=on --tls-starttls=$st \
			--tls-trust-file="$certs/ca.pem" --keep=on --received-header=off \
			--uidls-file="$E2E_DIR/mpop-$mode.uidls" \
			--delivery=mbox,"$E2E_DIR/mpop-$mode.mbox" 2>&1)
		t_expect_eq "mpop --auth=plain ($mode) exits 0" 0 "$?"
		t_expect_eq "mpop ($mode) delivers 2 messages" 2 "$(grep -c '^Subject: plain' "$E2E_DIR/mpop-$mode.mbox")"
		t_expect_eq "mpop ($mode) used AUTH PLAIN" $((n + 1)) "$(mechs PLAIN)"
	done
else
	t_skip "mpop AUTH PLAIN" "mpop is not installed"
fi

# fetchmail: --auth password (USER/PASS) over STLS; the password from its rc file
if command -v fetchmail >/dev/null; then
	fh=$E2E_DIR/fmhome
	mkdir -p "$fh"
	printf 'poll localhost proto pop3 port %s auth password user alice password "%s"\n' \
		"$port" "$pw" >"$fh/fetchmailrc"
	chmod 600 "$fh/fetchmailrc"
	n=$(mechs USER/PASS)
	out=$(HOME=$fh FETCHMAILHOME=$fh timeout 60 fetchmail -f "$fh/fetchmailrc" \
		--pidfile "$fh/fetchmail.pid" -N -a -k --sslcertck --sslcertfile "$certs/ca.pem" \
		--sslproto 'TLS1.2+' --mda "cat >> $E2E_DIR/fm.mbox" 2>&1)
	t_expect_eq "fetchmail --auth password over STLS exits 0" 0 "$?"
	t_expect_eq "fetchmail got both messages" 2 "$(grep -c '^Subject: plain' "$E2E_DIR/fm.mbox" 2>/dev/null)"
	t_expect_eq "fetchmail's password checked (mech=USER/PASS)" $((n + 1)) "$(mechs USER/PASS)"
else
	t_skip "fetchmail password auth" "fetchmail is not installed"
fi

# Cyrus pop3test -m PLAIN (libsasl2's PLAIN client) over pop3s and STLS
pop3test=$(command -v pop3test || ls /usr/lib/cyrus/bin/pop3test 2>/dev/null || true)
if [ -n "$pop3test" ] && [ -n "$(ls /usr/lib/*/sasl2/libplain.so* 2>/dev/null)" ]; then
	for mode in pop3s starttls; do
		if [ $mode = pop3s ]; then tlsopt=(-s -p "$sport"); else tlsopt=(-t "" -p "$port"); fi
		n=$(mechs PLAIN)
		out=$(printf 'STAT\r\nQUIT\r\n' | timeout 30 "$pop3test" -m PLAIN -a alice -u alice \
			-w "$pw" "${tlsopt[@]}" localhost 2>&1)
		if printf '%s' "$out" | grep -q '^+OK 2 ' && [ "$(mechs PLAIN)" = $((n + 1)) ]; then
			t_pass "Cyrus pop3test -m PLAIN ($mode) logs in and runs STAT"
		else
			t_fail "Cyrus pop3test -m PLAIN ($mode)" "$(printf '%s' "$out" | tail -n 4)"
		fi
	done
else
	t_skip "Cyrus pop3test -m PLAIN" "pop3test (cyrus-clients) or libsasl2-modules' PLAIN not installed"
fi

# Python poplib: CAPA, then AUTH PLAIN as a command (poplib has no AUTH method)
out=$("$PYTHON" - "$port" "$certs/ca.pem" "$pw" <<'PY' 2>&1
import base64, poplib, ssl, sys
port, ca, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3("127.0.0.1", port, timeout=20)
print("before STLS: SASL", " ".join(p.capa().get("SASL", [])))
p.stls(context=ssl.create_default_context(cafile=ca))
print("after STLS: SASL", " ".join(p.capa().get("SASL", [])))
msg = base64.b64encode(b"\0alice\0" + pw.encode()).decode()
print(p._shortcmd("AUTH PLAIN " + msg).decode())
print("stat", p.stat())
p.quit()
PY
)
t_expect_match "poplib: PLAIN not listed before STLS" "^before STLS: SASL GSSAPI$" "$(printf '%s' "$out" | grep before)"
t_expect_match "poplib: PLAIN listed inside TLS" "^after STLS: SASL GSSAPI PLAIN$" "$(printf '%s' "$out" | grep after)"
t_expect_match "poplib: AUTH PLAIN logs in" "^\+OK Logged in as alice" "$out"
t_expect_match "poplib: STAT after AUTH PLAIN" "^stat \(2, " "$out"

# the password is never logged, not even in the debug protocol trace
if grep -q -- "$pw\|$(printf '\0alice\0%s' "$pw" | base64)" "$KPOPD_LOG"; then
	t_fail "no password in the server log" "found"
else
	t_pass "no password in the server log"
fi
t_summary
