#!/usr/bin/env bash
# tests/e2e/pool.sh - the master and its pre-started session workers: who serves a
# session, process titles, a worker killed mid-session, SIGHUP reload, stray
# signals, SIGTERM.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

md=$(mk_maildir alice)
msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
put_msg "$md" 1000000001.M1.test "$msgs/dots"
put_msg "$md" 1000000002.M2.test "$msgs/nonl"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"

# children PID: the processes whose parent is PID (read from /proc)
children() {
	local f
	for f in /proc/[0-9]*/stat; do
		awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p) print FILENAME }' "$f" 2>/dev/null
	done | sed -E 's|/proc/([0-9]+)/stat|\1|'
}
title() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | sed 's/ *$//'; }
# wait_for CMD...: until CMD succeeds, at most 5 s
wait_for() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.05; done; return 1; }
idle_count() { local n=0 p; for p in $(children "$KPOPD_PID"); do [ "$(title "$p")" = "kpopd: worker idle" ] && n=$((n + 1)); done; echo $n; }
has_idle() { [ "$(idle_count)" -ge "$1" ]; } # reusable workers come back idle too

conf=$E2E_DIR/kpopd.conf
printf 'greeting = first configuration\n' >"$conf"
kpopd_start -f "$conf" -o pool_spare=3
t_expect_eq "the master's title" "kpopd: master" "$(title "$KPOPD_PID")"
if wait_for has_idle 3; then t_pass "pool_spare=3: three idle workers wait"; else t_fail "pool_spare=3: three idle workers wait" "$(idle_count) idle"; fi
before=" $(children "$KPOPD_PID" | tr '\n' ' ') "

# A held session: its worker was pre-started, and ps says who is connected.
cat >"$E2E_DIR/hold.script" <<EOS
S: +OK first configuration
AUTH
S~ \+OK Logged in as alice.*
TOUCH $E2E_DIR/in
PAUSE-FOR $E2E_DIR/go
C: STAT
S~ \+OK 2 .*
C: QUIT
S~ \+OK kpopd signing off.*
EOS
rm -f "$E2E_DIR/in" "$E2E_DIR/go"
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/hold.script" >"$E2E_DIR/hold.out" 2>&1 &
holder=$!
wait_for test -e "$E2E_DIR/in"
wpid=$(sed -nE 's/.*connect on .* \(worker pid ([0-9]+)[,)].*/\1/p' "$KPOPD_LOG" | tail -n 1)
case "$before" in *" $wpid "*) t_pass "the session is served by a worker started before it connected" ;;
	*) t_fail "the session is served by a worker started before it connected" "worker $wpid, idle before: $before" ;; esac
t_expect_match "the worker's title names the peer and the user" "^kpopd: worker 127\.0\.0\.1:[0-9]+ alice$" "$(title "$wpid")"
if wait_for has_idle 3; then t_pass "the pool refilled behind the busy worker"; else t_fail "the pool refilled behind the busy worker" "$(idle_count) idle"; fi

# SIGHUP: new sessions get the new configuration; the open one carries on.
printf 'greeting = second configuration\n' >"$conf"
kill -HUP "$KPOPD_PID"
greet() { timeout 5 "$PYTHON" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); print(s.recv(200).decode().strip())' "$KPOPD_PORT"; }
is_second() { [ "$(greet)" = "+OK second configuration" ]; }
if wait_for is_second; then t_pass "SIGHUP: new connections get the new configuration"; else t_fail "SIGHUP: new connections get the new configuration" "$(greet)"; fi
printf 'greeting = x\nno_such_setting = 1\n' >"$conf"
kill -HUP "$KPOPD_PID"
sleep 0.3
t_expect_eq "SIGHUP with a broken file: the old configuration stays" "+OK second configuration" "$(greet)"
t_expect_match "SIGHUP with a broken file: logged" "new configuration has errors" "$(cat "$KPOPD_LOG")"
kill -USR1 "$KPOPD_PID"
kill -USR2 "$KPOPD_PID"
sleep 0.2
if kill -0 "$KPOPD_PID" 2>/dev/null; then t_pass "SIGUSR1 and SIGUSR2 do not stop the daemon"; else t_fail "SIGUSR1 and SIGUSR2 do not stop the daemon" "gone"; fi
touch "$E2E_DIR/go"
wait "$holder"
t_expect_eq "the session opened before SIGHUP finished normally" 0 "$?"

# SIGKILL of a worker mid-session: nothing is lost, the pool refills, others go on.
cat >"$E2E_DIR/dele.script" <<EOS
S: +OK second configuration
AUTH
S~ \+OK Logged in as alice.*
C: DELE 1
S~ \+OK.*
TOUCH $E2E_DIR/deleted
HOLD 30
EOS
rm -f "$E2E_DIR/deleted"
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/dele.script" >/dev/null 2>&1 &
holder=$!
wait_for test -e "$E2E_DIR/deleted"
wpid=$(sed -nE 's/.*connect on .* \(worker pid ([0-9]+)[,)].*/\1/p' "$KPOPD_LOG" | tail -n 1)
kill -KILL "$wpid"
sleep 0.2
stop_pid "$holder"
t_expect_eq "a worker killed after DELE: both messages are still there" 2 "$(count_msgs "$md")"
if wait_for has_idle 3; then t_pass "the pool refilled after a worker was killed"; else t_fail "the pool refilled after a worker was killed" "$(idle_count) idle"; fi
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_match "a new session works after a worker was killed" "^2 messages" "$out"

# SIGTERM: idle and busy workers are stopped, nothing removed, the master exits.
cat >"$E2E_DIR/term.script" <<EOS
S: +OK second configuration
AUTH
S~ \+OK Logged in as alice.*
C: DELE 1
S~ \+OK.*
TOUCH $E2E_DIR/termin
HOLD 30
EOS
rm -f "$E2E_DIR/termin"
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/term.script" >/dev/null 2>&1 &
holder=$!
wait_for test -e "$E2E_DIR/termin"
kids=$(children "$KPOPD_PID")
kill -TERM "$KPOPD_PID"
gone() { ! kill -0 "$KPOPD_PID" 2>/dev/null; }
if wait_for gone; then t_pass "SIGTERM: the master exits"; else t_fail "SIGTERM: the master exits" "still running"; fi
left=0
for p in $kids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
t_expect_eq "SIGTERM: no worker is left" 0 "$left"
stop_pid "$holder"
KPOPD_PID=""
t_expect_eq "SIGTERM during a session: nothing removed" 2 "$(count_msgs "$md")"

t_summary
