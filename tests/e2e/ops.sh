#!/usr/bin/env bash
# tests/e2e/ops.sh - what an admin operates with: stderr log lines with an ISO-8601
# time, log = syslog with a real /dev/log listener (facility from syslog_facility)
# and without one (one warning, then stderr), tls_min_protocol against a TLS 1.0
# client, LISTEN_FDNAMES socket activation.
# The /dev/log cases run in a private mount namespace (unshare -m) whose /dev is a
# tmpfs with null, zero, random and urandom bound in from the real /dev; without
# root or unshare they are skipped with the reason.
if [ "${1:-}" = --ns ]; then # inside the namespace: only its cases, in DIR
	. "$KP_TOP_SRCDIR/tests/lib/common.sh"
	E2E_DIR=$2
	MAILROOT=$E2E_DIR/mail
else
	. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
fi

# The same options as kpopd_start, for kpopd -i and kpopd -t.
base_opts=(-o keytab="$KPOP_TEST_DIR/kpopd.keytab" -o rcache_dir="$KPOP_TEST_DIR/rcache"
	-o maildir="$MAILROOT/%u/Maildir" -o mail_uid="$KP_MAIL_UID")
iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'

# --- log = syslog, with and without a syslog daemon ------------------------------
# (the namespace part; its host part is at the end)
ns_cases=("log = syslog without /dev/log: exactly one warning"
	"log = syslog without /dev/log: the messages go to stderr"
	"log = syslog with a listener on /dev/log: nothing on stderr"
	"log = syslog: the session's lines reach /dev/log"
	"syslog_facility = local3: the lines carry local3.info (<158>)")
ns_skip() {
	local c
	for c in "${ns_cases[@]}"; do t_skip "$c" "$1"; done
}
if [ "${1:-}" = --ns ]; then
	# Inside the namespace: our own /dev, then the cases; results on stdout.
	set -e
	mkdir -p "$E2E_DIR/realdev"
	mount --bind /dev "$E2E_DIR/realdev"
	mount -t tmpfs -o mode=0755 kpop-test-dev /dev
	for n in null zero random urandom; do
		: >"/dev/$n"
		mount --bind "$E2E_DIR/realdev/$n" "/dev/$n"
	done
	set +e
	inetd() { printf 'QUIT\r\n' | "$KPOPD" -i -o log=syslog -o listen="127.0.0.1:1 pop3" \
		"${base_opts[@]}" "$@" 2>&1 >/dev/null; }
	out=$(inetd)
	t_expect_eq "${ns_cases[0]}" 1 "$(printf '%s\n' "$out" | grep -c 'no syslog daemon listens on /dev/log')"
	t_expect_match "${ns_cases[1]}" "^$iso kpopd\[[0-9]+\]: inetd: connect" "$out"
	"$PYTHON" - "$E2E_DIR/syslog.out" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(20)
with open(sys.argv[1], "ab") as f:
    try:
        while True:
            d = s.recv(65536)
            f.write(d.replace(b"\n", b" ") + b"\n")
            f.flush()
            if b"disconnect" in d:
                break
    except socket.timeout:
        pass
PY
	lpid=$!
	for _ in $(seq 100); do [ -e "$E2E_DIR/syslog.out.ready" ] && break; sleep 0.05; done
	out=$(inetd -o syslog_facility=local3)
	for _ in $(seq 100); do grep -q disconnect "$E2E_DIR/syslog.out" 2>/dev/null && break; sleep 0.05; done
	stop_pid "$lpid"
	t_expect_eq "${ns_cases[2]}" "" "$out"
	got=$(cat "$E2E_DIR/syslog.out" 2>/dev/null)
	t_expect_match "${ns_cases[3]}" "kpopd\[[0-9]+\]: inetd: connect" "$got"
	t_expect_match "${ns_cases[4]}" "^<158>.*kpopd\[[0-9]+\]: inetd: connect" "$got"
	exit 0
fi

# --- stderr lines carry the time ----------------------------------------------
out=$(printf 'QUIT\r\n' | "$KPOPD" -i -o log=stderr -o listen="127.0.0.1:1 pop3" \
	"${base_opts[@]}" 2>&1 >/dev/null)
t_expect_match "log = stderr: a line starts with an ISO-8601 time" \
	"^$iso kpopd\[[0-9]+\]: inetd: connect" "$out"
t_expect_match "log = stderr: the session's end carries the time too" \
	"^$iso kpopd\[[0-9]+\]: inetd: disconnect before login" "$out"

# --- settings -----------------------------------------------------------------
out=$("$KPOPD" -t -v "${base_opts[@]}" 2>&1)
t_expect_match "-t -v: tls_min_protocol defaults to TLSv1.2" "tls_min_protocol = TLSv1.2" "$out"
t_expect_match "-t -v: syslog_facility defaults to mail" "syslog_facility = mail" "$out"
out=$("$KPOPD" -t -v "${base_opts[@]}" -o tls_min_protocol=TLSv1 -o syslog_facility=local3 2>&1)
t_expect_match "-t -v: tls_min_protocol = TLSv1 taken" "tls_min_protocol = TLSv1$" "$out"
t_expect_match "-t -v: syslog_facility = local3 taken" "syslog_facility = local3" "$out"
out=$("$KPOPD" -t "${base_opts[@]}" -o tls_min_protocol=SSLv3 2>&1)
t_expect_eq "tls_min_protocol = SSLv3 refused" 2 "$?"
t_expect_match "tls_min_protocol: the error lists the versions" "expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" "$out"
out=$("$KPOPD" -t "${base_opts[@]}" -o syslog_facility=kern 2>&1)
t_expect_eq "syslog_facility = kern refused" 2 "$?"
t_expect_match "syslog_facility: the error lists the facilities" "expected mail, daemon" "$out"

# --- tls_min_protocol against a real TLS 1.0 client ----------------------------
certs=$E2E_DIR/certs
if ! bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs" >/dev/null 2>&1; then
	t_fail "test CA" "mkcerts failed"
elif ! command -v openssl >/dev/null; then
	t_skip "tls_min_protocol with a TLS 1.0 client" "openssl is not installed"
else
	tls1() { # port [version option]: the protocol openssl s_client negotiated over STLS
		printf 'QUIT\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$1" -starttls pop3 \
			"${2:--tls1}" -cipher 'DEFAULT:@SECLEVEL=0' -CAfile "$certs/ca.pem" 2>&1 |
			sed -nE 's/^New, ([^,]+), Cipher is ([^(].*)$/\1/p' | head -n 1
	}
	tls_opts=(-o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key")
	if kpopd_start "${tls_opts[@]}"; then
		t_expect_eq "default: a TLS 1.2 client over STLS gets TLS 1.2" TLSv1.2 \
			"$(tls1 "$KPOPD_PORT" -tls1_2)"
		got=$(tls1 "$KPOPD_PORT")
		if [ -n "$got" ]; then
			t_fail "default: a TLS 1.0 client is refused" "it negotiated $got"
		else
			t_pass "default: a TLS 1.0 client is refused"
		fi
		kpopd_stop
	else
		t_fail "kpopd with TLS starts" "$(tail -n 5 "$KPOPD_LOG")"
	fi
	if kpopd_start "${tls_opts[@]}" -o tls_min_protocol=TLSv1; then
		t_expect_eq "tls_min_protocol = TLSv1: a TLS 1.0 client (UW c-client) gets TLS 1.0" \
			TLSv1.0 "$(tls1 "$KPOPD_PORT")"
		kpopd_stop
	else
		t_fail "kpopd with tls_min_protocol = TLSv1 starts" "$(tail -n 5 "$KPOPD_LOG")"
	fi
fi

if [ "$(id -u)" -ne 0 ]; then
	ns_skip "needs root for a private mount namespace"
elif ! command -v unshare >/dev/null; then
	ns_skip "unshare is not installed"
elif ! err=$(unshare -m --propagation private true 2>&1); then
	ns_skip "unshare -m failed: $err"
else
	t_collect < <(timeout -k 5 60 unshare -m --propagation private -- \
		bash "$KP_TOP_SRCDIR/tests/e2e/ops.sh" --ns "$E2E_DIR" 2>&1)
fi

# --- socket activation: LISTEN_FDNAMES names the modes ----------------------------
# systemd-socket-activate passes its sockets as systemd does (LISTEN_FDS, LISTEN_PID,
# LISTEN_FDNAMES) and execs kpopd at the first connection.
activate() { # port1 port2 fdnames [kpopd options...]: sets KPOPD_PID
	local p1=$1 p2=$2 names=$3 pidfile=$E2E_DIR/act-$1.pid
	shift 3
	systemd-socket-activate -l "127.0.0.1:$p1" -l "127.0.0.1:$p2" ${names:+--fdname="$names"} \
		"$KPOPD" -F -o log=stderr -o pidfile="$pidfile" "${base_opts[@]}" \
		-o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" "$@" \
		>>"$KPOPD_LOG" 2>&1 &
	KPOPD_PID=$!
	wait_port "$p1" 5
	for _ in $(seq 100); do [ -s "$pidfile" ] && break; sleep 0.05; done
}
greets() { # port: the first line a client that waits gets
	"$PYTHON" - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    print(s.makefile("rb").readline().decode("latin-1").strip())
except OSError as e:
    print("no greeting: %s" % e)
PY
}
tls_greets() { # port: the greeting over implicit TLS, or nothing
	printf 'QUIT\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$1" -quiet \
		-CAfile "$certs/ca.pem" 2>/dev/null | head -n 1 | tr -d '\r'
}
if ! command -v systemd-socket-activate >/dev/null; then
	t_skip "socket activation with LISTEN_FDNAMES" "systemd-socket-activate is not installed"
else
	p1=$(free_port) p2=$(free_port)
	# names reverse the order of the listen settings: the names win
	activate "$p1" "$p2" "pop3s:pop3" -o listen="127.0.0.1:1 pop3" -o listen="127.0.0.1:2 pop3s"
	t_expect_match "LISTEN_FDNAMES pop3: that socket greets at once" "^\+OK" "$(greets "$p2")"
	t_expect_match "LISTEN_FDNAMES pop3s: that socket speaks TLS first" "^\+OK" "$(tls_greets "$p1")"
	t_expect_match "the log names the socket's name and mode" \
		"listening on 127\.0\.0\.1:$p1 \(pop3s, socket activation, name pop3s\)" "$(cat "$KPOPD_LOG")"
	kpopd_stop
	p1=$(free_port) p2=$(free_port)
	activate "$p1" "$p2" "kpopd.socket:pop3-v6" -o listen="127.0.0.1:1 pop3s"
	t_expect_match "an unnamed socket (the unit's name) takes the listen setting's mode" \
		"^\+OK" "$(tls_greets "$p1")"
	t_expect_match "a NAME-suffix name (pop3-v6) takes the mode before the dash" \
		"^\+OK" "$(greets "$p2")"
	kpopd_stop
	: >"$KPOPD_LOG"
	p1=$(free_port) p2=$(free_port)
	activate "$p1" "$p2" "pop3:pop3s" -o tls_cert= -o tls_key=
	for _ in $(seq 100); do kill -0 "$KPOPD_PID" 2>/dev/null || break; sleep 0.05; done
	t_expect_match "a pop3s socket without tls_cert is refused at start" \
		"fd 4 is a pop3s listener, and pop3s needs tls_cert" "$(cat "$KPOPD_LOG")"
	kpopd_stop
fi

# --- kpopd -s: the live sessions, from the master's control socket -----------------
md=$(mk_maildir alice)
printf 'Subject: one\n\nbody\n' >"$md/new/1.M1.ops"
ctl=$E2E_DIR/kpopd.ctl
: >"$KPOPD_LOG"
if kpopd_start -o control_socket="$ctl"; then
	# the master makes it after the listeners (the port is up first)
	for _ in $(seq 100); do [ -S "$ctl" ] && break; sleep 0.05; done
	t_expect_eq "the control socket is root's only (0600 socket)" "600 socket" \
		"$(stat -c '%a %F' "$ctl" 2>&1)"
	cat >"$E2E_DIR/in.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
TOUCH $E2E_DIR/in
PAUSE-FOR $E2E_DIR/go
C: QUIT
S~ \+OK .*
EOS
	cat >"$E2E_DIR/pre.script" <<EOS
S~ \+OK .*
TOUCH $E2E_DIR/pre
PAUSE-FOR $E2E_DIR/go
C: QUIT
S~ \+OK .*
EOS
	rm -f "$E2E_DIR/in" "$E2E_DIR/pre" "$E2E_DIR/go"
	"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/in.script" \
		>"$E2E_DIR/in.out" 2>&1 &
	h1=$!
	"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/pre.script" \
		>"$E2E_DIR/pre.out" 2>&1 &
	h2=$!
	for _ in $(seq 200); do [ -e "$E2E_DIR/in" ] && [ -e "$E2E_DIR/pre" ] && break; sleep 0.05; done
	sleep 1 # a second of session time to see in the list
	out=$("$KPOPD" -s -o control_socket="$ctl" 2>&1)
	t_expect_eq "kpopd -s: exit 0" 0 "$?"
	t_expect_match "kpopd -s: the summary counts both sessions, one logged in" \
		"master pid $KPOPD_PID, up [0-9]+:[0-9]{2}:[0-9]{2}: 2 sessions \(1 logged in\), [0-9]+ idle workers" "$out"
	t_expect_match "kpopd -s: the logged-in session: pid, peer, user, mechanism, state, time" \
		"^[0-9]+ +127\.0\.0\.1:[0-9]+ +alice +GSSAPI +transaction +0:00:0[1-9]" "$out"
	t_expect_match "kpopd -s: the session that has not logged in yet" \
		"^[0-9]+ +127\.0\.0\.1:[0-9]+ +- +- +authorization +0:00:0[0-9]" "$out"
	wpid=$(printf '%s\n' "$out" | awk '$3 == "alice" {print $1}')
	t_expect_match "kpopd -s: the pid is the worker's (its title names alice)" "^kpopd: worker .* alice$" \
		"$(tr '\0' ' ' <"/proc/$wpid/cmdline" 2>/dev/null | sed 's/ *$//')"
	touch "$E2E_DIR/go"
	wait "$h1" "$h2"
	for _ in $(seq 100); do
		out=$("$KPOPD" -s -o control_socket="$ctl" 2>&1)
		printf '%s' "$out" | grep -q ": 0 sessions" && break
		sleep 0.05
	done
	t_expect_match "kpopd -s: after QUIT no session is listed" ": 0 sessions \(0 logged in\)" "$out"
	kpopd_stop
	t_expect_eq "the control socket is removed at shutdown" no "$([ -e "$ctl" ] && echo yes || echo no)"
else
	t_fail "kpopd with a control socket starts" "$(tail -n 5 "$KPOPD_LOG")"
fi
out=$("$KPOPD" -s -o control_socket="$ctl" 2>&1)
t_expect_eq "kpopd -s with no daemon: exit 1" 1 "$?"
t_expect_match "kpopd -s with no daemon: says so" "control_socket .*kpopd.ctl: .*is kpopd running" "$out"
out=$("$KPOPD" -s 2>&1)
t_expect_eq "kpopd -s without control_socket: exit 2 with the setting named" \
	"2 kpopd: -s needs control_socket in kpopd.conf (the running daemon's setting)" "$? $out"

t_summary
