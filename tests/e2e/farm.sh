#!/usr/bin/env bash
# tests/e2e/farm.sh - kpopd as one node of a farm: three nodes behind one HAProxy
# (send-proxy-v2, tcp-check) over a shared GlusterFS mail store, all on loopback
# addresses.  One glusterfsd brick (a directory here, on 127.1.1.1) without
# glusterd, mounted once per node with the glusterfs FUSE client; the nodes share
# the maildrops and the replay cache through it.  Shows: fetches through HAProxy
# byte-exact with the client's address logged; [IN-USE] across nodes; DELE+QUIT on
# one node seen by another; a node killed mid-session (HAProxy takes it out, its
# deletions are not applied, its lock is gone, nothing lost); a KPOP AP-REQ
# replayed to another node refused (and accepted by a node with its own replay
# cache: why the farm shares one); a header from an untrusted address refused; the
# brick restarted mid-session (clean failures, no mail lost, service resumes).
# It runs itself again in a private mount namespace: the mounts are its own.
if [ -z "${KP_FARM_NS:-}" ]; then
	why=""
	[ "$(id -u)" -eq 0 ] || why="needs root (FUSE mounts)"
	[ -n "$why" ] || [ -c /dev/fuse ] || why="no /dev/fuse"
	[ -n "$why" ] || unshare -m true 2>/dev/null || why="no private mount namespace (unshare -m)"
	for b in glusterfsd glusterfs /usr/sbin/haproxy socat; do
		[ -n "$why" ] || command -v "$b" >/dev/null ||
			why="$b is not installed (scripts/setup.sh installs glusterfs-server, glusterfs-client, haproxy, socat)"
	done
	if [ -n "$why" ]; then
		echo "SKIP - the GlusterFS farm tier: $why"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	exec unshare -m --propagation private env KP_FARM_NS=1 bash "$0" "$@"
fi
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
. "$KP_TOP_SRCDIR/tests/e2e/lib-farm.sh"

trap 'farm_stop; gluster_stop; e2e_cleanup' EXIT

# --- the store ----------------------------------------------------------------
gluster_setup "$E2E_DIR/gluster"
if ! brick_start || ! mount_volume 1 || ! mount_volume 2 || ! mount_volume 3; then
	t_fail "the GlusterFS brick starts and mounts three times" "$(tail -n 5 "$G"/*.log 2>/dev/null)"
	t_summary
	exit 1
fi
echo shared >"$G/m1/probe"
t_expect_eq "the three mounts see one store" "shared shared" "$(cat "$G/m2/probe" "$G/m3/probe" | paste -sd' ')"
rm -f "$G/m1/probe"

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
printf 'From: bob@kpop.test\nSubject: farm four\n\nfour\n' >"$msgs/four"
printf 'From: bob@kpop.test\nSubject: farm five\n\nfive\n' >"$msgs/five"
md=$G/m1/mail/alice/Maildir
brick_md=$G/brick/mail/alice/Maildir
mkdir -p "$md/new" "$md/cur" "$md/tmp" "$G/m1/rcache"
chmod 711 "$G/m1" "$G/m1/mail"
names=(1000000001.M1.farm 1000000002.M2.farm 1000000003.M3.farm 1000000004.M4.farm 1000000005.M5.farm)
files=(dots binary big four five)
for i in 0 1 2 3 4; do
	cp "$msgs/${files[$i]}" "$md/new/${names[$i]}"
	touch -d "@$((1000000001 + i))" "$md/new/${names[$i]}"
done
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$G/m1/mail/alice"
want_all=$(cd "$msgs" && cat dots binary big four five | md5sum)
# store_state: the messages in the brick itself (the truth behind every mount)
store_state() { find "$brick_md/new" "$brick_md/cur" -type f -printf '%f\n' | sed 's/:2,.*//' | sort | paste -sd' '; }
store_md5() { local n; for n in $(store_state); do cat "$brick_md"/new/"$n"* "$brick_md"/cur/"$n"* 2>/dev/null; done | md5sum; }

# --- three nodes and HAProxy ----------------------------------------------------
for i in 1 2 3; do
	node_start $i "127.0.0.$((i + 1))" "$G/m$i/mail" "$G/m$i/rcache" ||
		{ t_fail "node $i starts" "see its log"; t_summary; exit 1; }
done
FP=$(farm_port 127.0.0.1)
haproxy_start "frontend pop
	bind 127.0.0.1:$FP
	default_backend farm
backend farm
	balance roundrobin
	source 127.0.0.5
	option tcp-check
	tcp-check expect string +OK
	tcp-check send QUIT\\r\\n
	tcp-check expect string +OK
	default-server send-proxy-v2 check inter 1s fall 2 rise 1
$(haproxy_server 1)
$(haproxy_server 2)
$(haproxy_server 3)" || { t_fail "HAProxy starts" "$(cat "$E2E_DIR/haproxy.out")"; t_summary; exit 1; }
up=0
for n in 1 2 3; do haproxy_wait farm "n$n" "UP L7OK" && up=$((up + 1)); done
t_expect_eq "HAProxy's health checks pass on the three nodes" 3 "$up"
RP=$(farm_port 127.0.0.1)
relay_start "$RP" "$FP"
kp() { "$KPOP" -H localhost -p "$RP" -t 20 "$@"; }

# 1. Real clients through HAProxy, byte-exact; the nodes log 127.0.0.9.
out=$(kp --maildir "$E2E_DIR/got" --keep --state "$E2E_DIR/state" fetch 2>&1)
rc=$?
t_expect_eq "kpop fetches through HAProxy from the GlusterFS store (exit 0)" 0 "$rc"
[ $rc -eq 0 ] || printf '    %s\n' "$out"
md5set() { local f; for f in "$@"; do md5sum <"$f"; done | sort | paste -sd' '; }
t_expect_eq "kpop: the five messages byte-exact" \
	"$(cd "$msgs" && md5set dots binary big four five)" "$(md5set "$E2E_DIR"/got/new/*)"
if command -v curl >/dev/null && curl -V | grep -q GSS-API; then
	t_expect_eq "curl through HAProxy: RETR 3 (5 MB) byte-exact" "$(md5sum <"$msgs/big")" \
		"$(printf '%s\n' "$(farm_curl_retr "$FP" 3)" | md5sum)"
else
	t_skip "curl through the farm" "curl with GSS-API is not installed"
fi
if command -v fetchmail >/dev/null; then
	farm_fetchmail "$FP" "$E2E_DIR/fm.mbox"
	t_expect_eq "fetchmail through HAProxy (exit 0)" 0 "$?"
	t_expect_eq "fetchmail: five messages" 5 "$(grep -c '^Subject: ' "$E2E_DIR/fm.mbox" 2>/dev/null)"
else
	t_skip "fetchmail through the farm" "fetchmail is not installed"
fi
served=0
for n in 1 2 3; do
	grep -Eq "PROXY v2 from 127\.0\.0\.5:[0-9]+: client 127\.0\.0\.9:[0-9]+" "${NODE_LOG[$n]}" && served=$((served + 1))
done
t_expect_eq "round robin: each of the three nodes served 127.0.0.9 and logged it" 3 "$served"
t_expect_eq "five messages in the store, untouched" "$want_all" "$(store_md5)"

# pop3 NODE NAME SCRIPT [background]: a session straight to node NODE, starting
# with the PROXY header HAProxy would send (from its address 127.0.0.5)
pop3() {
	{ printf "R: b'PROXY TCP4 127.0.0.9 %s 4%03d %s\\\\r\\\\n'\n" "${NODE_ADDR[$1]}" "$1" "${NODE_PORT[$1]}"
	  printf '%s\n' "$3"; } >"$E2E_DIR/s$1.script"
	POP3TCP_SOURCE=127.0.0.5 "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" "${NODE_ADDR[$1]}" \
		"${NODE_PORT[$1]}" "$E2E_DIR/s$1.script" >"$E2E_DIR/s$1.out" 2>&1
}
expect_pop3() { # NAME NODE SCRIPT
	if pop3 "$2" "$1" "$3"; then t_pass "$1"; else t_fail "$1" "$(tail -n 2 "$E2E_DIR/s$2.out")"; fi
}
hold() { # NODE SCRIPT-BEFORE SCRIPT-AFTER: a session held at a point; sets HOLDER
	rm -f "$E2E_DIR/in" "$E2E_DIR/go"
	pop3 "$1" hold "$2
TOUCH $E2E_DIR/in
PAUSE-FOR $E2E_DIR/go
$3" &
	HOLDER=$!
	local i
	for i in $(seq 200); do [ -e "$E2E_DIR/in" ] && return 0; kill -0 $HOLDER 2>/dev/null || return 1; sleep 0.05; done
	return 1
}
LOGIN='S~ \+OK kpopd ready.*
AUTH
S~ \+OK Logged in as alice.*'

# 2. One maildrop, two nodes: the fcntl lock holds across GlusterFS clients.
if hold 1 "$LOGIN" "C: QUIT
S~ \+OK.*"; then
	expect_pop3 "a second session for alice on node 2 gets [IN-USE]" 2 'S~ \+OK kpopd ready.*
AUTH
S: -ERR [IN-USE] Mailbox is locked by another POP3 session'
	touch "$E2E_DIR/go"
	wait "$HOLDER"
	t_expect_eq "the first session (node 1) ends normally" 0 "$?"
else
	t_fail "a session held on node 1" "$(cat "$E2E_DIR/s1.out")"
fi

# 3. DELE + QUIT on node 1; node 2 sees exactly the rest.
expect_pop3 "node 1: DELE 1 and QUIT" 1 "$LOGIN
C: DELE 1
S~ \+OK.*
C: QUIT
S: +OK kpopd signing off (1 messages deleted, 4 left)"
expect_pop3 "node 2 then lists exactly the four others" 2 "$LOGIN
C: STAT
S~ \+OK 4 [0-9]+
C: UIDL
S~ \+OK.*
S: 1 ${names[1]}
S: 2 ${names[2]}
S: 3 ${names[3]}
S: 4 ${names[4]}
S: .
C: QUIT
S~ \+OK.*"
t_expect_eq "the store holds the four" "${names[*]:1}" "$(store_state)"

# 4. A node dies mid-session (SIGKILL of kpopd and of its GlusterFS client).
before=$(store_md5)
if hold 3 "$LOGIN
C: DELE 1
S~ \+OK.*
C: DELE 2
S~ \+OK.*" ""; then
	node_kill 3
	kill -KILL "$(cat "$G/m3.pid")" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	if haproxy_wait farm n3 DOWN; then t_pass "HAProxy marks the killed node DOWN"; else t_fail "HAProxy marks the killed node DOWN" "$(haproxy_status farm n3)"; fi
	ok=0
	for i in 1 2 3; do kp list >/dev/null 2>&1 && ok=$((ok + 1)); done
	t_expect_eq "the next sessions through HAProxy are served by the other nodes" 3 "$ok"
	t_expect_eq "the killed session's deletions were not applied" "${names[*]:1}" "$(store_state)"
	t_expect_eq "nothing was lost or changed" "$before" "$(store_md5)"
	expect_pop3 "its lock went with it: node 1 logs alice in" 1 "$LOGIN
C: STAT
S~ \+OK 4 [0-9]+
C: QUIT
S~ \+OK.*"
else
	t_fail "a session held on node 3" "$(cat "$E2E_DIR/s3.out")"
fi

# 5. KPOP: an AP-REQ replayed to another node.  The nodes share one replay cache
# (rcache_dir on the store, MIT's file2 format, fcntl-locked while a record is
# checked and written): refused, both ways, after both nodes have used (and, but
# for --fopen-keep-cache=off, cached) the file in the sessions above.
tool() { KPOPTOOL_SOURCE=127.0.0.5 KPOPTOOL_PROXY=127.0.0.9 "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" "$@"; }
for pair in "1 2" "2 1" "1 2"; do
	set -- $pair
	out=$(tool "${NODE_ADDR[$1]}" "${NODE_PORT[$1]}" replay-to "${NODE_ADDR[$2]}:${NODE_PORT[$2]}" 2>&1)
	t_expect_match "an AP-REQ accepted by node $1 is refused as a replay by node $2" \
		"^first: OK second: (KRB-ERROR|closed)" "$(printf '%s' "$out" | tr '\n' ' ')"
done
t_expect_match "node 2 logged it as a replay" "Request is a replay" "$(grep -h 'KPOP: authentication failed' "${NODE_LOG[2]}")"
# the same replay to a node with a replay cache of its own is accepted: the
# shared cache is what stops it
mkdir -p "$E2E_DIR/rc4"
if node_start 4 127.0.0.6 "$G/m1/mail" "$E2E_DIR/rc4"; then
	out=$(tool "${NODE_ADDR[1]}" "${NODE_PORT[1]}" replay-to "${NODE_ADDR[4]}:${NODE_PORT[4]}" 2>&1)
	t_expect_match "(why) a node with its own replay cache accepts the replayed AP-REQ" \
		"^first: OK second: OK" "$(printf '%s' "$out" | tr '\n' ' ')"
	stop_pid "${NODE_PID[4]}"
else
	t_fail "a fourth node with a local replay cache starts" "see its log"
fi

# 6. A PROXY header from an address outside proxy_trusted: refused unread.
printf "R: b'PROXY TCP4 127.0.2.1 %s 1 %s\\\\r\\\\n'\nEOF\n" "${NODE_ADDR[1]}" "${NODE_PORT[1]}" >"$E2E_DIR/u.script"
if POP3TCP_SOURCE=127.0.0.9 "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" "${NODE_ADDR[1]}" "${NODE_PORT[1]}" \
	"$E2E_DIR/u.script" >"$E2E_DIR/u.out" 2>&1 &&
	grep -Eq "refusing 127\.0\.0\.9:[0-9]+: a proxy listener, and 127\.0\.0\.9:[0-9]+ is not in proxy_trusted" "${NODE_LOG[1]}"; then
	t_pass "a header from 127.0.0.9 (not a trusted proxy) is refused and logged"
else
	t_fail "a header from 127.0.0.9 (not a trusted proxy) is refused and logged" "$(cat "$E2E_DIR/u.out")"
fi

# 7. The brick restarts in the middle of a session that marked a deletion.
before=$(store_md5)
state_before=$(store_state)
mark=$(wc -l <"${NODE_LOG[1]}")
since() { tail -n "+$((mark + 1))" "${NODE_LOG[1]}"; }
if hold 1 "$LOGIN
C: DELE 1
S~ \+OK.*" "C: QUIT
S~ (\+OK|-ERR).*"; then
	brick_stop
	out=$(kp list 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then t_pass "while the brick is down a login fails cleanly (kpop exit $rc)"; else t_fail "while the brick is down a login fails cleanly" "kpop list succeeded: $out"; fi
	brick_start || t_fail "the brick starts again" "$(tail -n 3 "$G/brick.log")"
	touch "$E2E_DIR/go"
	wait "$HOLDER"
	if since | grep -q "lock was lost"; then
		reply="the lock was lost, nothing deleted"
	elif since | grep -q "1 messages deleted"; then
		reply="the deletion was applied"
	else
		reply="see node 1's log"
	fi
	now=$(store_state)
	if [ "$now" = "$state_before" ] || [ "$now" = "$(echo "$state_before" | cut -d' ' -f2-)" ]; then
		t_pass "the session across the brick restart ended at QUIT ($reply); no mail lost"
	else
		t_fail "the session across the brick restart lost no mail" "before: $state_before; now: $now"
	fi
	kept=$(echo "$state_before" | cut -d' ' -f2-)
	for n in $kept; do
		grep -q "$n" <<<"$now" || t_fail "a message not deleted survived the restart" "$n is gone"
	done
	ok=0
	for i in $(seq 60); do kp list >/dev/null 2>&1 && { ok=1; break; }; sleep 0.5; done
	t_expect_eq "after the restart the farm serves sessions again" 1 "$ok"
	since | grep -h "lock was lost\|UPDATE:\|signing off" | tail -n 3 | sed 's/^/    /'
else
	t_fail "a session held on node 1 before the brick restart" "$(cat "$E2E_DIR/s1.out")"
fi
t_summary
