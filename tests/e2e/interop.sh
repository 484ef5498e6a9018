#!/usr/bin/env bash
# tests/e2e/interop.sh - real clients against kpopd: curl (AUTH GSSAPI, no mutual
# auth), mpop (AUTH GSSAPI), fetchmail (AUTH GSSAPI, and legacy KPOP through
# --plugin with service "kpop").  scripts/setup.sh installs both; a missing one is a loud SKIP.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

md=$(mk_maildir alice)
printf 'From: bob@kpop.test\nSubject: interop one\n\n.leading dot\nbody\n' >"$md/new/1000000001.M1.test"
printf 'Subject: interop two\n\nsecond' >"$md/new/1000000002.M2.test"
touch -d @1000000001 "$md/new/1000000001.M1.test"
touch -d @1000000002 "$md/new/1000000002.M2.test"
kpopd_start -L "127.0.0.1:@PORT@ auto" || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }

# curl: user given as user@REALM, GSSAPI without mutual authentication
if command -v curl >/dev/null && curl -V | grep -q GSS-API; then
	out=$(timeout 30 curl -sS --login-options AUTH=GSSAPI -u "alice@$KPOP_TEST_REALM:" \
		"pop3://localhost:$KPOPD_PORT/1" 2>&1)
	t_expect_eq "curl AUTH GSSAPI RETR exits 0" 0 "$?"
	want=$(sed 's/^$//' "$md/new/1000000001.M1.test")
	t_expect_eq "curl gets message 1 intact" "$want" "$(printf '%s' "$out" | tr -d '\r')"
	out=$(timeout 30 curl -sS --login-options AUTH=GSSAPI -u "alice@$KPOP_TEST_REALM:" \
		"pop3://localhost:$KPOPD_PORT/" 2>&1)
	t_expect_match "curl LIST over AUTH GSSAPI" "^1 [0-9]+" "$out"
	# (curl sends no authzid: the ticket alone decides whose mailbox it gets)
	out=$(KRB5CCNAME=FILE:$E2E_DIR/none timeout 30 curl -sS --login-options AUTH=GSSAPI \
		-u "alice@$KPOP_TEST_REALM:" "pop3://localhost:$KPOPD_PORT/" 2>&1)
	if [ $? -ne 0 ]; then t_pass "curl without a ticket gets nothing"; else t_fail "curl without a ticket gets nothing" "$out"; fi
else
	t_skip "curl interop" "curl with GSS-API is not installed"
fi

# mpop (libgsasl's GSSAPI): final message 01ffffff without authzid
if command -v mpop >/dev/null; then
	: >"$E2E_DIR/mpop.mbox"
	out=$(timeout 30 mpop --host=localhost --port="$KPOPD_PORT" --auth=gssapi --user=alice \
		--tls=off --keep=on --received-header=off --uidls-file="$E2E_DIR/mpop.uidls" \
		--delivery=mbox,"$E2E_DIR/mpop.mbox" 2>&1)
	t_expect_eq "mpop --auth=gssapi exits 0" 0 "$?"
	t_expect_eq "mpop delivers 2 messages" 2 "$(grep -c '^Subject: interop' "$E2E_DIR/mpop.mbox")"
else
	t_skip "mpop interop" "mpop is not installed"
fi

if command -v fetchmail >/dev/null; then
	fm() { # fetchmail with a private HOME, no TLS, delivering to an mbox via an MDA
		HOME=$E2E_DIR/fmhome FETCHMAILHOME=$E2E_DIR/fmhome timeout 60 fetchmail --pidfile $E2E_DIR/fmhome/fetchmail.pid -N --nosslcertck --sslproto '' -a -k \
			--mda "cat >> $E2E_DIR/fm.mbox" "$@" localhost
	}
	mkdir -p "$E2E_DIR/fmhome"
	out=$(fm -p POP3 --auth gssapi -u alice -P "$KPOPD_PORT" 2>&1)
	t_expect_eq "fetchmail --auth gssapi exits 0" 0 "$?"
	t_expect_eq "fetchmail (GSSAPI) delivers 2 messages" 2 "$(grep -c '^Subject: interop' "$E2E_DIR/fm.mbox" 2>/dev/null)"
	if grep -q '^\.leading dot' "$E2E_DIR/fm.mbox" && grep -q '^second' "$E2E_DIR/fm.mbox"; then
		t_pass "fetchmail (GSSAPI) message bodies intact"
	else
		t_fail "fetchmail (GSSAPI) message bodies intact" "content differs"
	fi
	rm -f "$E2E_DIR/fm.mbox"
	# KPOP: fetchmail sends its dummy "PASS krb_ticket" only when the service is
	# literally "kpop"; --plugin reaches our free port without /etc/services.
	out=$(fm -p KPOP --auth kerberos_v5 --service kpop -u alice \
		--plugin "socat STDIO TCP:127.0.0.1:$KPOPD_PORT" 2>&1)
	t_expect_eq "fetchmail -p KPOP --auth kerberos_v5 exits 0" 0 "$?"
	t_expect_eq "fetchmail (KPOP) delivers 2 messages" 2 "$(grep -c '^Subject: interop' "$E2E_DIR/fm.mbox" 2>/dev/null)"
	if grep -q "KPOP: authenticated principal=alice@$KPOP_TEST_REALM mutual=yes" "$KPOPD_LOG"; then
		t_pass "fetchmail used KPOP with mutual authentication"
	else
		t_fail "fetchmail used KPOP with mutual authentication" "not in the server log"
	fi
	# fetchmail's KPOP with --delete: messages go only after QUIT
	out=$(fm -p KPOP --auth kerberos_v5 --service kpop -u alice --nokeep \
		--plugin "socat STDIO TCP:127.0.0.1:$KPOPD_PORT" 2>&1)
	t_expect_eq "fetchmail KPOP --nokeep exits 0" 0 "$?"
	t_expect_eq "fetchmail --nokeep emptied the maildrop after QUIT" 0 "$(count_msgs "$md")"
else
	t_skip "fetchmail interop" "fetchmail is not installed"
fi
t_summary
