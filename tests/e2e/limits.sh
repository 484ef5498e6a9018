#!/usr/bin/env bash
# tests/e2e/limits.sh - issue 16's limits on what a mailbox or a peer can make the
# server do: a FIFO in place of a message, a crafted size cache, a long usermap
# line, a mail flood above max_messages, per-address connection caps, the login
# deadline and the pre-login idle timeout, a Maildir file name that would forge a
# log line.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
carol=FILE:$KPOP_TEST_DIR/carol.ccache
bobcc=FILE:$KPOP_TEST_DIR/bob.ccache
# pop3tcp SCRIPT & : a scripted client in the background ($! is the client itself)
pop3tcp() { exec "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$@"; }

# knows NAME KEY=VALUE...: this kpopd accepts these settings; else the test NAME
# fails at once (an old kpopd would retry its start for half a minute).
knows() {
	local name=$1 a=() o
	shift
	for o; do a+=(-o "$o"); done
	if "$KPOPD" -t -o keytab="$KPOP_TEST_DIR/kpopd.keytab" "${a[@]}" >"$E2E_DIR/knows.out" 2>&1; then
		return 0
	fi
	t_fail "$name" "kpopd refuses $*: $(tail -n 1 "$E2E_DIR/knows.out")"
	return 1
}

# session_child: the session process of the running daemon, once it is the only
# one (kpopd_start's probe connection has its own, short-lived).
session_child() {
	local i
	for i in $(seq 40); do
		[ "$(children_of "$KPOPD_PID" | wc -l)" -eq 1 ] && break
		sleep 0.05
	done
	children_of "$KPOPD_PID" | head -n 1
}
children_of() {
	local p
	if [ -r "/proc/$1/task/$1/children" ]; then
		tr ' ' '\n' <"/proc/$1/task/$1/children" | grep -E '^[0-9]+$'
		return
	fi
	for p in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

wait_file() { # FILE [PID]: until FILE exists (10 s), or PID is gone
	local i
	for i in $(seq 200); do
		[ -e "$1" ] && return 0
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
		sleep 0.05
	done
	return 1
}

# A fresh Maildir for USER (owned by the mail uid, like lib.sh's).
fresh_maildir() {
	rm -rf "${MAILROOT:?}/$1"
	mk_maildir "$1"
}
own() { chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$@"; }
log_mark() { LOG_MARK=$(wc -l <"$KPOPD_LOG"); }
log_since() { tail -n +"$((LOG_MARK + 1))" "$KPOPD_LOG"; }

# --- 1. RETR/TOP of a message replaced by a FIFO after the listing ------------
name="RETR and TOP of a message replaced by a FIFO answer -ERR at once; the session goes on"
md=$(fresh_maildir alice)
printf 'Subject: one\n\nfirst\n' >"$md/new/1000000001.M1.fifo"
printf 'Subject: two\n\nsecond\n' >"$md/new/1000000002.M2.fifo"
touch -d @1000000001 "$md/new/1000000001.M1.fifo"
touch -d @1000000002 "$md/new/1000000002.M2.fifo"
own "$md"
kpopd_start || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }
cat >"$E2E_DIR/fifo.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 2 messages.*
TOUCH $E2E_DIR/fifo-listed
PAUSE-FOR $E2E_DIR/fifo-ready
C: RETR 1
S~ -ERR .*
C: TOP 1 0
S~ -ERR .*
C: STAT
S~ \+OK 2 .*
C: QUIT
S~ \+OK .*
EOS
timeout 8 "$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" \
	"$E2E_DIR/fifo.script" >"$E2E_DIR/fifo.out" 2>&1 &
client=$!
if wait_file "$E2E_DIR/fifo-listed" "$client"; then
	rm -f "$md/new/1000000001.M1.fifo"
	mkfifo -m 0644 "$md/new/1000000001.M1.fifo"
	own "$md/new/1000000001.M1.fifo"
	touch "$E2E_DIR/fifo-ready"
fi
wait "$client"
rc=$?
case $rc in
0) t_pass "$name" ;;
124) t_fail "$name" "no answer within 8 s (the session hangs in open)" ;;
*) t_fail "$name" "exit $rc: $(cat "$E2E_DIR/fifo.out")" ;;
esac
# a session still blocked in open() of the FIFO (an old kpopd) is released
"$PYTHON" -c 'import os, sys
try:
    os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK))
except OSError:
    pass' "$md/new/1000000001.M1.fifo"
kpopd_stop

# --- 2. A crafted .kpopd.sizes: 64 MiB of short lines, one real message -------
# The session's peak RSS (VmHWM) with the crafted cache is compared with a login to
# the same maildrop without it: the crafted cache must not be held in memory (64
# MiB of text; today about 400 MiB with its table).  A memory bound, not a time one.
# Twice: a cache of the old format (no header: it looks stale), and one whose
# header carries the current stamps of new/ and cur/ (their inode and mtime in ns,
# which the mailbox owner can read as well as kpopd: they are hers).
md=$(fresh_maildir bob)
printf 'Subject: the only message\n\nbody\n' >"$md/new/1000000001.M1.bomb"
touch -d @1000000001 "$md/new/1000000001.M1.bomb"
touch -d '-1 hour' "$md/new" "$md/cur" # settled directories: their stamps count
own "$md"
kpopd_start
cat >"$E2E_DIR/bomb.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as bob, 1 messages.*
TOUCH $E2E_DIR/bomb-in
HOLD 10
EOS
peak_login() { # prints the logged-in session's VmHWM in kB, or nothing
	local client child hwm=""
	rm -f "$E2E_DIR/bomb-in"
	KRB5CCNAME=$bobcc pop3tcp "$E2E_DIR/bomb.script" >"$E2E_DIR/bomb.out" 2>&1 &
	client=$!
	if wait_file "$E2E_DIR/bomb-in" "$client"; then
		child=$(session_child)
		[ -n "$child" ] && hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$child/status" 2>/dev/null)
	fi
	stop_pid "$client"
	for _ in $(seq 40); do [ -z "$(children_of "$KPOPD_PID")" ] && break; sleep 0.05; done
	echo "$hwm"
}
craft_cache() { # MAILDIR old|current: 64 MiB of short cache lines
	"$PYTHON" - "$1" "$2" <<'PY'
import os, sys
md, kind = sys.argv[1:3]
if kind == "old":
    head, line = b"", b"1 1 1 1 x\n"            # ino mtime fsize wsize name
else:
    n, c = os.stat(os.path.join(md, "new")), os.stat(os.path.join(md, "cur"))
    head = b"kpopd-sizes-2 %d %d %d %d\n" % (n.st_ino, n.st_mtime_ns, c.st_ino, c.st_mtime_ns)
    line = b"1 1 1 1 0 x\n"                     # ino mtime fsize wsize sub name
count = (64 * 1024 * 1024 - len(head)) // len(line)
with open(os.path.join(md, ".kpopd.sizes"), "wb") as f:
    f.write(head)
    for _ in range(count // 65536):
        f.write(line * 65536)
    f.write(line * (count % 65536))
PY
	own "$1/.kpopd.sizes"
}
plain=$(peak_login)
# (the header kpopd itself just wrote: the crafted one below must be as current)
written=$(head -n 1 "$md/.kpopd.sizes" 2>/dev/null)
for kind in old current; do
	name="a 64 MiB crafted size cache ($kind format): 1 message, under 32 MiB more than without it"
	craft_cache "$md" "$kind"
	crafted=$(head -n 1 "$md/.kpopd.sizes")
	bomb=$(peak_login)
	if [ "$kind" = current ] && [ "${written#kpopd-sizes-2 }" != "$written" ] &&
	   [ "$written" != "$crafted" ]; then
		t_fail "$name" "the crafted header '$crafted' is not the current one '$written'"
	elif [ -z "$plain" ] || [ -z "$bomb" ]; then
		t_fail "$name" "no logged-in session to measure (without: '$plain' kB, with: '$bomb' kB): $(cat "$E2E_DIR/bomb.out")"
	elif [ $((bomb - plain)) -lt $((32 * 1024)) ]; then
		t_pass "$name"
	else
		t_fail "$name" "peak RSS $((plain / 1024)) MiB without the crafted cache, $((bomb / 1024)) MiB with it"
	fi
done
kpopd_stop

# --- 3. usermap = file: the tail of a line longer than the buffer ------------
name="usermap file: the tail of a 1,052-character comment line maps nobody"
md=$(fresh_maildir alice)
printf 'Subject: for alice\n\nalice only\n' >"$md/new/1000000001.M1.map"
own "$md"
{
	printf '# a long comment %s' "$(head -c 1008 /dev/zero | tr '\0' x)"
	printf 'carol/admin@%s alice\n' "$KPOP_TEST_REALM"
} >"$E2E_DIR/users.long"
kpopd_start -o usermap=file -o usermap_file="$E2E_DIR/users.long"
log_mark
out=$(KRB5CCNAME=$carol "$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
rc=$?
if [ $rc -eq 7 ] && ! log_since | grep -q "login user=alice"; then
	t_pass "$name"
else
	t_fail "$name" "carol/admin logged in as alice? kpop exit $rc: $(printf '%s' "$out" | head -n 1)"
fi
t_expect_match "usermap file: the over-long line is logged with its file and line" \
	"users\.long.*(longer than|too long)" "$(log_since)"
kpopd_stop

# --- 4. A mail flood above max_messages: the oldest are served ----------------
name="25 messages, max_messages=20: STAT says 20, the 20 oldest, a warning logged"
if knows "$name" max_messages=20; then
	md=$(fresh_maildir alice)
	# names run against the mtimes: the 20 oldest are names 25 down to 6
	for i in $(seq -w 1 25); do
		f="$md/new/10000000$i.M$i.flood"
		printf 'Subject: flood %s\n\nbody %s\n' "$i" "$i" >"$f"
		touch -d "@$((1000000100 - 10#$i))" "$f"
	done
	own "$md"
	kpopd_start -o max_messages=20
	log_mark
	out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
	rc=$?
	got_ids=$(printf '%s\n' "$out" | awk '/^unique ids:/ {u = 1; next} u {print $2}' | sort | tr '\n' ' ')
	want_ids=$(for i in $(seq -w 6 25); do echo "10000000$i.M$i.flood"; done | sort | tr '\n' ' ')
	warned=no
	log_since | grep -Eq "warning: .*(max_messages|oldest 20)" && warned=yes
	t_expect_eq "$name" "0 / 20 messages / $want_ids/ warned=yes" \
		"$rc / $(printf '%s\n' "$out" | grep -Eo '^[0-9]+ messages' | head -n 1) / $got_ids/ warned=$warned"
	kpopd_stop
fi

# --- 5. Per-address caps ---------------------------------------------------------
# conns.py N: from 127.0.0.1 open N connections and read each greeting, then one
# more from 127.0.0.1 and one from 127.0.0.2, all held open together.
cat >"$E2E_DIR/conns.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
def conn(src):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s
def greeting(s):
    buf = b""
    try:
        while b"\n" not in buf:
            c = s.recv(512)
            if not c:
                return "EOF"
            buf += c
    except OSError as e:
        return "<%s>" % e
    return buf.split(b"\r\n")[0].decode("latin-1")
held, ok = [], 0
for _ in range(n):
    s = conn("127.0.0.1")
    held.append(s)
    ok += greeting(s).startswith("+OK")
extra = conn("127.0.0.1")
g = greeting(extra)
closed = "closed"
try:
    extra.settimeout(2)
    if extra.recv(100):
        closed = "open"
except OSError:
    closed = "open"
other = conn("127.0.0.2")
print("%d +OK; next: %s (%s); 127.0.0.2: %s" % (ok, g.split(" ")[0], closed, greeting(other).split(" ")[0]))
print(g)
PY
hold_login() { # SCRIPT-FILE MARK: a logged-in alice session held open; sets holder
	cat >"$1" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
TOUCH $2
HOLD 20
EOS
	pop3tcp "$1" >/dev/null 2>&1 &
	holder=$!
	wait_file "$2" "$holder"
}
md=$(fresh_maildir alice)
own "$md"
kpopd_start
log_mark
if hold_login "$E2E_DIR/hold1.script" "$E2E_DIR/held1"; then
	sleep 0.3
	out=$("$PYTHON" "$E2E_DIR/conns.py" "$KPOPD_PORT" 10 2>&1)
	t_expect_eq "a logged-in session and 10 idle connections from one address are served, the 11th refused" \
		"10 +OK; next: -ERR (closed)" "$(printf '%s\n' "$out" | head -n 1 | sed 's/; 127.0.0.2.*//')"
	t_expect_match "the refusal says why" "^-ERR .*([Tt]oo many|address)" "$(printf '%s\n' "$out" | sed -n 2p)"
	t_expect_eq "the cap is per address: at the same moment 127.0.0.2 is served" \
		"next: -ERR; 127.0.0.2: +OK" \
		"$(printf '%s\n' "$out" | head -n 1 | sed -E 's/.*next: ([^ ]*) .*127.0.0.2: (.*)/next: \1; 127.0.0.2: \2/')"
	t_expect_match "the per-address refusal is logged" \
		"127\.0\.0\.1.*(max_preauth_per_ip|not logged in)" "$(log_since | grep -i refus)"
else
	t_fail "per-address cap" "alice could not log in"
fi
stop_pid "$holder"
kpopd_stop

name="max_conn_per_ip=3: a logged-in session counts; the 3rd idle connection is refused"
if knows "$name" max_conn_per_ip=3; then
	kpopd_start -o max_conn_per_ip=3
	if hold_login "$E2E_DIR/hold2.script" "$E2E_DIR/held2"; then
		sleep 0.3
		out=$("$PYTHON" "$E2E_DIR/conns.py" "$KPOPD_PORT" 2 2>&1)
		t_expect_eq "$name" "2 +OK; next: -ERR (closed); 127.0.0.2: +OK" "$(printf '%s\n' "$out" | head -n 1)"
	else
		t_fail "$name" "alice could not log in"
	fi
	stop_pid "$holder"
	kpopd_stop
fi

# --- 6. The login deadline: NOOP every second does not extend it -------------
# noop.py: greeting, then NOOP each second until the server closes (at most 15 s);
# prints "answered=N closed=yes|no last=LINE".
cat >"$E2E_DIR/noop.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
f = s.makefile("rb")
f.readline()
answered, last, closed, end = 0, "", "no", time.time() + 15
while time.time() < end:
    try:
        s.sendall(b"NOOP\r\n")
        ln = f.readline()
    except OSError:
        closed = "yes"
        break
    if not ln:
        closed = "yes"
        break
    last = ln.decode("latin-1").strip()
    if last.startswith("+OK"):
        answered += 1
    elif last.startswith("-ERR"):
        try:
            closed = "yes" if not f.readline() else "no"
        except OSError:
            closed = "yes"
        break
    time.sleep(1)
print("answered=%s closed=%s last=%s" % ("some" if answered >= 2 else answered, closed, last))
PY
name="login_timeout=3: a client sending NOOP every second is dropped at the deadline"
if knows "$name" login_timeout=3; then
	kpopd_start -o login_timeout=3
	log_mark
	out=$("$PYTHON" "$E2E_DIR/noop.py" "$KPOPD_PORT" 2>&1)
	t_expect_match "$name" "^answered=some closed=yes" "$out"
	t_expect_match "login_timeout: the drop is logged" "[Ll]ogin timeout" "$(log_since)"
	kpopd_stop
fi

# --- 7. The pre-login idle timeout -------------------------------------------
name="preauth_idle_timeout=2: a silent client is dropped before login, a logged-in one is not"
if knows "$name" preauth_idle_timeout=2; then
	kpopd_start -o preauth_idle_timeout=2
	log_mark
	cat >"$E2E_DIR/idle-in.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
SLEEP 4
C: NOOP
S~ \+OK.*
C: QUIT
S~ \+OK .*
EOS
	pop3tcp "$E2E_DIR/idle-in.script" >"$E2E_DIR/idle-in.out" 2>&1 &
	idle_in=$!
	silent=$("$PYTHON" - "$KPOPD_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=12)
t0 = time.time()
data = b""
try:
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
except OSError:
    print("kept (not closed within 12 s)")
    sys.exit(0)
print("dropped" if time.time() - t0 < 12 else "kept")
PY
)
	wait "$idle_in"
	rc=$?
	t_expect_eq "$name" "silent: dropped; logged in: kept" \
		"silent: $silent; logged in: $([ $rc -eq 0 ] && echo kept || echo "dropped ($(cat "$E2E_DIR/idle-in.out"))")"
	t_expect_match "preauth_idle_timeout: the drop is logged" "idle .*before login|before login.*idle" "$(log_since)"
	kpopd_stop
fi

# --- 8. A Maildir file name with a newline cannot forge a log line -------------
name="a message name with a newline is logged escaped, never as a line of its own"
md=$(fresh_maildir alice)
forged="kpopd[1]: 127.0.0.1:1: login user=root principal=root@$KPOP_TEST_REALM messages=0 octets=0"
evil="1000000001.M1.esc"$'\n'"$forged:2,S"
printf 'Subject: newline in my name\n\nbody\n' >"$md/cur/$evil"
own "$md"
kpopd_start
cat >"$E2E_DIR/esc.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 1 messages.*
C: DELE 1
S~ \+OK .*
TOUCH $E2E_DIR/esc-marked
PAUSE-FOR $E2E_DIR/esc-ready
C: QUIT
S~ [-+].*
EOS
pop3tcp "$E2E_DIR/esc.script" >"$E2E_DIR/esc.out" 2>&1 &
client=$!
if wait_file "$E2E_DIR/esc-marked" "$client"; then
	# the message becomes a directory: removing it fails, and the failure names it
	rm -f "$md/cur/$evil"
	mkdir "$md/cur/$evil"
	own "$md/cur/$evil"
	touch "$E2E_DIR/esc-ready"
fi
wait "$client"
sleep 0.2
if grep -q '^kpopd\[1\]: ' "$KPOPD_LOG"; then
	t_fail "$name" "a forged line: $(grep '^kpopd\[1\]: ' "$KPOPD_LOG" | head -n 1)"
elif ! grep -qF '1000000001.M1.esc\x0akpopd[1]' "$KPOPD_LOG"; then
	t_fail "$name" "the name is not in the log, escaped: $(grep -i 'remove\|esc' "$KPOPD_LOG" | head -n 2) / $(cat "$E2E_DIR/esc.out")"
else
	t_pass "$name"
fi
kpopd_stop
t_summary
