#!/usr/bin/env bash
# tests/e2e/proxy.sh - PROXY protocol listeners: v1 and v2 headers written by hand
# (addresses in logs, per-address limits on the real client, pipelined bytes kept,
# LOCAL health checks, untrusted peers, missing, broken and slow headers), then a
# real HAProxy (send-proxy and send-proxy-v2, tcp-check health checks) in front of
# kpopd with kpop, curl and fetchmail fetching through it from 127.0.0.9.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
. "$KP_TOP_SRCDIR/tests/e2e/lib-farm.sh"
trap 'farm_stop; e2e_cleanup' EXIT

md=$(mk_maildir alice)
msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
put_msg "$md" 1000000001.M1.test "$msgs/dots"
put_msg "$md" 1000000002.M2.test "$msgs/nonl"
touch -d @1000000001 "$md/new/1000000001.M1.test"
touch -d @1000000002 "$md/new/1000000002.M2.test"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"

# run NAME SCRIPT-TEXT [source address]: a pop3tcp.py session against kpopd
run() {
	printf '%s\n' "$2" >"$E2E_DIR/s.script"
	if POP3TCP_SOURCE=${3:-} "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" \
		"$E2E_DIR/s.script" >"$E2E_DIR/s.out" 2>&1; then
		t_pass "$1"
	else
		t_fail "$1" "$(tail -n 3 "$E2E_DIR/s.out")"
	fi
}
# logged REGEX: the kpopd log has a line matching REGEX (after a session ends)
logged() { local i; for i in $(seq 40); do grep -Eq -- "$1" "$KPOPD_LOG" && return 0; sleep 0.05; done; return 1; }
expect_log() { if logged "$2"; then t_pass "$1"; else t_fail "$1" "no /$2/ in the log"; fi; }

kpopd_start -L "127.0.0.1:@PORT@ pop3 proxy" -o proxy_trusted=127.0.0.1 \
	-o max_conn_per_ip=1 -o max_preauth_per_ip=1 ||
	{ t_fail "kpopd starts with a proxy listener" "see log"; t_summary; exit 1; }
expect_log "the listener says it takes PROXY headers" "listening on 127\.0\.0\.1:$KPOPD_PORT \(pop3, PROXY headers\)"

run "v1 header, then the greeting and a session" "R: b'PROXY TCP4 127.0.2.7 127.0.0.1 4444 $KPOPD_PORT\\r\\n'
S~ \+OK kpopd ready.*
C: NOOP
S: +OK
C: QUIT
S~ \+OK.*"
expect_log "v1: the log names the proxy and the client" "PROXY v1 from 127\.0\.0\.1:[0-9]+: client 127\.0\.2\.7:4444"
expect_log "v1: the session's lines carry the client's address" "127\.0\.2\.7:4444: disconnect before login"

# a v2 header and a pipelined command in one write: the command is not lost
v2hdr="\\r\\n\\r\\n\\x00\\r\\nQUIT\\n\\x21\\x11\\x00\\x0c\\x7f\\x33\\x64\\x05\\x7f\\x00\\x00\\x01\\x30\\x39\\x04\\x55"
run "v2 header with a command pipelined behind it" "R: b'${v2hdr}NOOP\\r\\n'
S~ \+OK kpopd ready.*
S: +OK
C: QUIT
S~ \+OK.*"
expect_log "v2: the client 127.51.100.5:12345 from the header" "PROXY v2 from 127\.0\.0\.1:[0-9]+: client 127\.51\.100\.5:12345"

# HAProxy's health check: v2 LOCAL, served as the proxy's own connection
run "v2 LOCAL (a health check) gets the greeting and QUIT" "R: b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n\\x20\\x00\\x00\\x00'
S~ \+OK kpopd ready.*
C: QUIT
S~ \+OK.*"
expect_log "v2 LOCAL is logged as the proxy's own connection" "PROXY v2 LOCAL from 127\.0\.0\.1:[0-9]+: the proxy's own connection"

# per-address limits count the client the header names, not the proxy
rm -f "$E2E_DIR/in" "$E2E_DIR/go"
cat >"$E2E_DIR/hold.script" <<EOS
R: b'PROXY TCP4 127.0.2.50 127.0.0.1 5000 $KPOPD_PORT\r\n'
S~ \+OK kpopd ready.*
TOUCH $E2E_DIR/in
PAUSE-FOR $E2E_DIR/go
C: QUIT
S~ \+OK.*
EOS
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/hold.script" >"$E2E_DIR/hold.out" 2>&1 &
holder=$!
for i in $(seq 100); do [ -e "$E2E_DIR/in" ] && break; sleep 0.05; done
run "max_conn_per_ip=1: a second connection of the same client is refused" "R: b'PROXY TCP4 127.0.2.50 127.0.0.1 5001 $KPOPD_PORT\\r\\n'
S: -ERR [SYS/TEMP] Too many connections from your address, try later
EOF"
expect_log "the refusal names the client, not the proxy" "refusing 127\.0\.2\.50:5001: 1 connections from this address"
run "another client through the same proxy is served meanwhile" "R: b'PROXY TCP4 127.0.2.51 127.0.0.1 5002 $KPOPD_PORT\\r\\n'
S~ \+OK kpopd ready.*
C: QUIT
S~ \+OK.*"
touch "$E2E_DIR/go"
wait "$holder"
t_expect_eq "the held session ended normally" 0 "$?"

# refused before anything else is read
run "no header: the connection is closed without a greeting" "C: CAPA
EOF"
expect_log "no header: logged" "refusing 127\.0\.0\.1:[0-9]+: no PROXY header \(the connection began with 0x43\)"
run "a broken v1 header is refused" "R: b'PROXY TCP4 127.0.2.7 127.0.0.1 4444 99999\\r\\n'
EOF"
expect_log "a broken header: logged with the reason" "refusing 127\.0\.0\.1:[0-9]+: PROXY v1 header: bad TCP4 address or port"
run "a v2 header with an overrunning TLV is refused" "R: b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n\\x21\\x11\\x00\\x10\\xc6\\x33\\x64\\x05\\x7f\\x00\\x00\\x01\\x30\\x39\\x04\\x55\\x04\\x00\\x09\\x00'
EOF"
expect_log "the TLV refusal: logged" "TLV 0x04 of 9 bytes overruns"
run "half a header and silence: closed after the PROXY timeout" "R: b'PROXY TCP4 127.0.2.7'
EOF"
expect_log "the timeout: logged" "no complete PROXY header within 3000 ms \(20 bytes\)"
kpopd_stop

# KPOP with an addressful ticket (kinit with noaddresses = false and an
# extra_addresses entry): good only from an address the ticket lists, and behind a
# proxy the client's address is the one in the header (krb5_rd_req with the remote
# address set; addressless tickets, the default, are checked against nothing)
kpopd_start -L "127.0.0.1:@PORT@ kpop proxy" -o proxy_trusted=127.0.0.1 ||
	{ t_fail "kpopd starts with a KPOP proxy listener" "see log"; t_summary; exit 1; }
# (127.0.0.1 too: the KDC checks the TGT's addresses against the TGS request's)
sed 's/^\[libdefaults\]$/[libdefaults]\n\tnoaddresses = false\n\textra_addresses = 127.0.2.77, 127.0.0.1/' \
	"$KRB5_CONFIG" >"$E2E_DIR/addr-krb5.conf"
addr_cc=FILE:$E2E_DIR/addr.ccache
echo alice-pw | KRB5_CONFIG=$E2E_DIR/addr-krb5.conf kinit -c "$addr_cc" alice >/dev/null 2>&1
t_expect_match "the addressful ticket lists 127.0.2.77" "127\.0\.2\.77" \
	"$(KRB5CCNAME=$addr_cc klist -a 2>&1)"
addr_tool() {
	KRB5_CONFIG=$E2E_DIR/addr-krb5.conf KRB5CCNAME=$addr_cc KPOPTOOL_PROXY=$1 \
		"$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$KPOPD_PORT" ok 2>&1 | tr '\n' ' '
}
t_expect_match "an addressful ticket from a client it lists (the PROXY header's) logs in" \
	"^OK .*\+OK 2 " "$(addr_tool 127.0.2.77)"
t_expect_match "the same ticket from a client it does not list is refused" \
	"KRB-ERROR|closed" "$(addr_tool 127.0.2.78)"
expect_log "the refusal is logged with the client the header named" "auth 127\.0\.2\.78;[0-9]+: .*Incorrect net address"
kpopd_stop

# a peer outside proxy_trusted is refused before a byte is read, even with a
# well-formed header (it could claim any address)
kpopd_start -L "127.0.0.1:@PORT@ pop3 proxy=127.0.0.2,::1" -o proxy_trusted=127.0.0.1 ||
	{ t_fail "kpopd starts" "see log"; t_summary; exit 1; }
run "a header from an untrusted address is refused" "R: b'PROXY TCP4 127.0.2.7 127.0.0.1 4444 $KPOPD_PORT\\r\\n'
EOF"
expect_log "the listener's own proxy= list wins over proxy_trusted: logged" "refusing 127\.0\.0\.1:[0-9]+: a proxy listener, and 127\.0\.0\.1:[0-9]+ is not in proxy_trusted"
run "from 127.0.0.2, in the listener's list, the header is taken" "R: b'PROXY TCP4 127.0.2.8 127.0.0.1 4444 $KPOPD_PORT\\r\\n'
S~ \+OK kpopd ready.*
C: QUIT
S~ \+OK.*" 127.0.0.2
expect_log "the trusted proxy 127.0.0.2 passed client 127.0.2.8" "PROXY v1 from 127\.0\.0\.2:[0-9]+: client 127\.0\.2\.8:4444"
kpopd_stop

# system-user mode (root, no mail_uid): the session parent stays root and never
# reads a client byte, so the header is read by its unprivileged front
if [ "$(id -u)" -eq 0 ]; then
	kpopd_start -L "127.0.0.1:@PORT@ pop3 proxy" -o proxy_trusted=127.0.0.1 -o mail_uid= ||
		{ t_fail "kpopd starts in system-user mode" "see log"; t_summary; exit 1; }
	rm -f "$E2E_DIR/in" "$E2E_DIR/go"
	sed -e "s/127.0.2.50 127.0.0.1 5000/127.0.2.60 127.0.0.1 6000/" "$E2E_DIR/hold.script" >"$E2E_DIR/hold2.script"
	"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/hold2.script" >"$E2E_DIR/hold.out" 2>&1 &
	holder=$!
	for i in $(seq 100); do [ -e "$E2E_DIR/in" ] && break; sleep 0.05; done
	reader=$(sed -nE 's/.*kpopd\[([0-9]+)\]: .*PROXY v1 from 127\.0\.0\.1:[0-9]+: client 127\.0\.2\.60:6000.*/\1/p' "$KPOPD_LOG" | tail -n 1)
	ruid=$(awk '/^Uid:/ {print $2}' "/proc/${reader:-0}/status" 2>/dev/null)
	if [ -n "$ruid" ] && [ "$ruid" != 0 ]; then
		t_pass "system-user mode: the PROXY header is read by the unprivileged front (uid $ruid)"
	else
		t_fail "system-user mode: the PROXY header is read by the unprivileged front" "pid ${reader:-none}, uid ${ruid:-?}"
	fi
	touch "$E2E_DIR/go"
	wait "$holder"
	t_expect_eq "system-user mode: the session behind the header ran" 0 "$?"
	kpopd_stop
	# A login: after the verdict the root session parent serves TRANSACTION as the
	# user (alice mapped to nobody, a passwd entry every system has); its lines
	# name the client from the header, not the proxy.
	printf 'alice@%s nobody\n' "$KPOP_TEST_REALM" >"$E2E_DIR/su.users"
	mkdir -p "$MAILROOT/nobody/Maildir/new" "$MAILROOT/nobody/Maildir/cur" "$MAILROOT/nobody/Maildir/tmp"
	printf 'Subject: su\n\nsu\n' >"$MAILROOT/nobody/Maildir/new/1000000001.M1.su"
	chown -R nobody "$MAILROOT/nobody"
	kpopd_start -L "127.0.0.1:@PORT@ pop3 proxy" -o proxy_trusted=127.0.0.1 -o mail_uid= \
		-o usermap=file -o usermap_file="$E2E_DIR/su.users" ||
		{ t_fail "kpopd starts in system-user mode with a usermap" "see log"; t_summary; exit 1; }
	cat >"$E2E_DIR/su.script" <<EOS
R: b'PROXY TCP4 127.0.2.61 127.0.0.1 6100 $KPOPD_PORT\r\n'
S~ \+OK kpopd ready.*
AUTH
S~ \+OK Logged in as nobody.*
C: STAT
S~ \+OK 1 [0-9]+
C: QUIT
S~ \+OK.*
EOS
	if "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/su.script" >"$E2E_DIR/su.out" 2>&1; then
		t_pass "system-user mode behind a header: a login and STAT"
	else
		t_fail "system-user mode behind a header: a login and STAT" "$(tail -n 3 "$E2E_DIR/su.out")"
	fi
	# the session parent logs login and logout (pid= names it; the front only
	# relays TRANSACTION)
	spid=$(sed -nE 's/.* login user=nobody .* pid=([0-9]+)$/\1/p' "$KPOPD_LOG" | tail -n 1)
	plines=$(grep -E "kpopd\[${spid:-none}\]: .*(login|logout) user=nobody" "$KPOPD_LOG")
	t_expect_eq "system-user mode: the session parent's login and logout lines name the client 127.0.2.61:6100" \
		2 "$(printf '%s\n' "$plines" | grep -cE "kpopd\[$spid\]: 127\.0\.2\.61:6100: (login|logout) ")"
	kpopd_stop
else
	t_skip "system-user mode behind a proxy" "needs root"
fi

# --- a real HAProxy in front of two nodes sharing one mail directory ------------
if [ ! -x /usr/sbin/haproxy ] || ! command -v socat >/dev/null; then
	t_skip "HAProxy in front of kpopd" "haproxy or socat is not installed (scripts/setup.sh installs both)"
else
	rm -f "$md"/new/* "$md"/cur/*
	put_msg "$md" 1000000001.M1.test "$msgs/dots"
	put_msg "$md" 1000000002.M2.test "$msgs/binary"
	chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"
	want=$(cat "$msgs/dots" "$msgs/binary" | md5sum)
	mkdir -p "$E2E_DIR/rc1" "$E2E_DIR/rc2"
	node_start 1 127.0.0.2 "$MAILROOT" "$E2E_DIR/rc1" && node_start 2 127.0.0.3 "$MAILROOT" "$E2E_DIR/rc2" ||
		{ t_fail "two nodes start" "see their logs"; t_summary; exit 1; }
	fp1=$(farm_port 127.0.0.1)
	fp2=$(farm_port 127.0.0.1)
	checks='	balance roundrobin
	source 127.0.0.5
	option tcp-check
	tcp-check expect string +OK
	tcp-check send QUIT\r\n
	tcp-check expect string +OK'
	haproxy_start "frontend v1
	bind 127.0.0.1:$fp1
	default_backend v1
backend v1
$checks
	default-server send-proxy check inter 1s fall 2 rise 1
$(haproxy_server 1) 
$(haproxy_server 2)
frontend v2
	bind 127.0.0.1:$fp2
	default_backend v2
backend v2
$checks
	default-server send-proxy-v2 check inter 1s fall 2 rise 1
$(haproxy_server 1)
$(haproxy_server 2)" || { t_fail "HAProxy starts" "$(cat "$E2E_DIR/haproxy.out")"; t_summary; exit 1; }
	up=0
	for b in v1 v2; do for n in n1 n2; do haproxy_wait $b $n "UP L7OK" && up=$((up + 1)); done; done
	t_expect_eq "HAProxy's health checks (send-proxy and send-proxy-v2) passed on all four servers" 4 "$up"
	if grep -Eq "PROXY v2 LOCAL from 127\.0\.0\.5:[0-9]+: the proxy's own connection" "${NODE_LOG[1]}"; then
		t_pass "the v2 health checks arrive as LOCAL and are served"
	else
		t_fail "the v2 health checks arrive as LOCAL and are served" "no LOCAL line in node 1's log"
	fi

	# kpop through each frontend, its connections leaving from 127.0.0.9
	for v in 1 2; do
		rp=$(farm_port 127.0.0.1)
		fp=$([ $v = 1 ] && echo "$fp1" || echo "$fp2")
		relay_start "$rp" "$fp"
		rm -rf "$E2E_DIR/got$v"
		out=$("$KPOP" -H localhost -p "$rp" -t 20 --maildir "$E2E_DIR/got$v" --keep \
			--state "$E2E_DIR/state$v" fetch 2>&1)
		rc=$?
		t_expect_eq "kpop fetches through HAProxy send-proxy$([ $v = 2 ] && echo -v2) (exit 0)" 0 "$rc"
		[ $rc -eq 0 ] || printf '    %s\n' "$out"
		t_expect_eq "kpop through send-proxy$([ $v = 2 ] && echo -v2): both messages byte-exact" "$want" \
			"$(cat "$E2E_DIR/got$v"/new/* 2>/dev/null | md5sum)"
	done
	nlog() { cat "${NODE_LOG[1]}" "${NODE_LOG[2]}"; }
	if nlog | grep -Eq "PROXY v1 from 127\.0\.0\.5:[0-9]+: client 127\.0\.0\.9:[0-9]+" &&
		nlog | grep -Eq "PROXY v2 from 127\.0\.0\.5:[0-9]+: client 127\.0\.0\.9:[0-9]+"; then
		t_pass "the nodes log the real client 127.0.0.9 behind v1 and v2 headers"
	else
		t_fail "the nodes log the real client 127.0.0.9 behind v1 and v2 headers" "not in the node logs"
	fi
	if nlog | grep -Eq "127\.0\.0\.9:[0-9]+: login user=alice"; then
		t_pass "the login line carries the client's address"
	else
		t_fail "the login line carries the client's address" "$(nlog | grep 'login user=alice' | head -2)"
	fi
	# round robin: both nodes served sessions of 127.0.0.9
	t_expect_eq "round robin spread the sessions over both nodes" "1 1" \
		"$(for n in 1 2; do grep -Eq 'client 127\.0\.0\.9' "${NODE_LOG[$n]}" && echo 1 || echo 0; done | paste -sd' ')"

	if command -v curl >/dev/null && curl -V | grep -q GSS-API; then
		t_expect_eq "curl through HAProxy send-proxy-v2: RETR 1 byte-exact" \
			"$(md5sum <"$msgs/dots")" "$(printf '%s\n' "$(farm_curl_retr "$fp2" 1)" | md5sum)"
	else
		t_skip "curl through HAProxy" "curl with GSS-API is not installed"
	fi
	if command -v fetchmail >/dev/null; then
		farm_fetchmail "$fp1" "$E2E_DIR/fm.mbox"
		t_expect_eq "fetchmail (AUTH GSSAPI) through HAProxy send-proxy exits 0" 0 "$?"
		t_expect_eq "fetchmail through HAProxy: both messages" 2 "$(grep -c '^Subject: ' "$E2E_DIR/fm.mbox" 2>/dev/null)"
	else
		t_skip "fetchmail through HAProxy" "fetchmail is not installed"
	fi
	t_expect_eq "nothing was deleted (every client kept the mail)" 2 "$(count_msgs "$md")"
	farm_stop
fi

# configuration errors
out=$("$KPOPD" -t -o keytab="$KPOP_TEST_DIR/kpopd.keytab" -o rcache_dir="$KPOP_TEST_DIR/rcache" \
	-L "127.0.0.1:1 pop3 proxy" 2>&1)
t_expect_match "a proxy listener without trusted networks is a configuration error" \
	"a proxy listener needs proxy_trusted" "$out"
out=$("$KPOPD" -t -o proxy_trusted="127.0.0.0/33" 2>&1)
t_expect_match "a bad network in proxy_trusted is named" "proxy_trusted: \"127\.0\.0\.0/33\" is not ADDRESS\[/BITS\] or local" "$out"
out=$("$KPOPD" -t -v -o keytab="$KPOP_TEST_DIR/kpopd.keytab" -o rcache_dir="$KPOP_TEST_DIR/rcache" \
	-o proxy_trusted="127.0.0.0/8 ::1" -L "127.0.0.1:1 auto proxy" -L "127.0.0.1:2 pop3 proxy=127.0.0.3" 2>&1)
t_expect_match "kpopd -t -v prints proxy_trusted" "^proxy_trusted = 127\.0\.0\.0/8 ::1/128$" "$(printf '%s\n' "$out" | grep '^proxy_trusted')"
t_expect_eq "kpopd -t -v prints the listeners' proxy options" \
	"listen = 127.0.0.1:1 auto proxy|listen = 127.0.0.1:2 pop3 proxy=127.0.0.3/32" \
	"$(printf '%s\n' "$out" | grep '^listen' | paste -sd'|')"

t_summary
