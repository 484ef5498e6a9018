#!/usr/bin/env bash
# tests/e2e/client.sh - kpop as an everyday mail fetcher (issue 9, client side):
# only new mail by UIDL across runs, a state that survives kill -9 without loss,
# delivery through an MDA (exit 0 / 1 / 75 / signal / half read), a config file
# with accounts, --max-size, --stdout separation, --tls's default port, servers
# that never greet / close at once / are not POP3, -v redaction, --daemon.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

# nothing of the developer's own kpop setup is used, nothing is left in $HOME
export XDG_STATE_HOME=$E2E_DIR/xdg-state XDG_CONFIG_HOME=$E2E_DIR/xdg-config
md=$(mk_maildir alice)
newmsg() { # N [extra header line]: a message with a unique id 100000000N.MN.test
	{ [ -n "${2:-}" ] && printf '%s\n' "$2"
	  printf 'From: bob@kpop.test\nSubject: client test %s\n\nbody of message %s\n' "$1" "$1"
	} >"$md/new/100000000$1.M$1.test"
	chown "$KP_MAIL_UID:$KP_MAIL_UID" "$md/new/100000000$1.M$1.test"
}
nfiles() { find "$1" -type f 2>/dev/null | wc -l; }
# subjects DIR: how often each "client test N" subject was stored, sorted
subjects() { cat "$1"/* 2>/dev/null | sed -n 's/^Subject: client test //p' | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '; }
kp() { "$KPOP" -H localhost -p "$KPOPD_PORT" -t 20 "$@"; }
for i in 1 2 3; do newmsg $i; done
kpopd_start || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }

# --- only new mail, by UIDL, across runs -----------------------------------------
out=$E2E_DIR/out1
kp --maildir "$out" fetch 2>"$E2E_DIR/e1"
t_expect_eq "first fetch: exit 0" 0 "$?"
t_expect_eq "first fetch stores 3 messages" 3 "$(nfiles "$out/new")"
kp --maildir "$out" fetch 2>"$E2E_DIR/e2"
t_expect_eq "second fetch: exit 0" 0 "$?"
t_expect_eq "second fetch stores nothing again" 3 "$(nfiles "$out/new")"
t_expect_match "second fetch says the 3 were fetched before" "fetched 0 messages.*3 fetched before" "$(cat "$E2E_DIR/e2")"
newmsg 4
kp --maildir "$out" fetch 2>/dev/null
t_expect_eq "a new message is fetched once" "1x1 2x1 3x1 4x1 " "$(subjects "$out/new")"
kp --maildir "$out" --all fetch 2>/dev/null
t_expect_eq "--all fetches everything again" "1x2 2x2 3x2 4x2 " "$(subjects "$out/new")"
t_expect_eq "the server still has all 4 (keep is the default)" 4 "$(count_msgs "$md")"
sf=$(ls "$XDG_STATE_HOME"/kpop/*maildir* 2>/dev/null | grep -v '\.lock$' | head -n 1)
if [ -n "$sf" ] && [ "$(head -n 1 "$sf")" = "kpop-state 1 @localhost:$KPOPD_PORT" ]; then
	t_pass "state file per account under \$XDG_STATE_HOME/kpop, header names the server"
else
	t_fail "state file per account under \$XDG_STATE_HOME/kpop" "$(ls -la "$XDG_STATE_HOME/kpop" 2>&1)"
fi
t_expect_eq "state file lists the 4 unique ids" 4 "$(tail -n +2 "$sf" | grep -c '\.test$')"
t_expect_eq "state file is private (0600)" 600 "$(stat -c %a "$sf")"
# another destination is another state: it gets everything
kp --maildir "$E2E_DIR/other" fetch 2>/dev/null
t_expect_eq "another Maildir starts afresh" 4 "$(nfiles "$E2E_DIR/other/new")"
# --delete: messages fetched before are deleted without fetching them again
kp --maildir "$out" --delete fetch 2>"$E2E_DIR/e3"
t_expect_eq "--delete: exit 0" 0 "$?"
t_expect_eq "--delete of messages fetched before: nothing fetched again" "1x2 2x2 3x2 4x2 " "$(subjects "$out/new")"
t_expect_eq "--delete: the server is empty" 0 "$(count_msgs "$md")"
t_expect_eq "ids the server no longer has leave the state" 1 "$(wc -l <"$sf")"
# a damaged state file only costs duplicates
newmsg 5
printf 'kpop-state 1 @localhost:%s\n1000000005.M5.te' "$KPOPD_PORT" >"$sf"
kp --maildir "$out" fetch 2>/dev/null
t_expect_eq "a torn last line in the state is not taken as stored" "1x2 2x2 3x2 4x2 5x1 " "$(subjects "$out/new")"
printf 'kpop-state 1 someone@elsewhere:1\n1000000005.M5.test\n' >"$sf"
kp --maildir "$out" fetch 2>"$E2E_DIR/e4"
t_expect_match "a state file for another server is not used" "belongs to another account" "$(cat "$E2E_DIR/e4")"
t_expect_eq "... so the message comes again rather than being skipped" "1x2 2x2 3x2 4x2 5x2 " "$(subjects "$out/new")"
rm -f "$md"/new/* "$md"/cur/*

# --- MDA delivery -----------------------------------------------------------------
mda=$E2E_DIR/mda.sh
mdaout=$E2E_DIR/mda-out
mkdir -p "$mdaout"
cat >"$mda" <<'SH'
#!/bin/sh
# test MDA: MDA_MODE decides; the message goes to $MDA_OUT/N; args to $MDA_OUT/args
out=${MDA_OUT:?}
n=$(ls "$out" | grep -c '^m')
f=$out/m$n.$$
case "${MDA_MODE:-ok}" in
ok) cat >"$f"; printf '%s\n' "$*" >>"$out/args"; exit 0 ;;
fail) cat >/dev/null; exit 1 ;;
tempfail-2) cat >"$f.tmp"; if grep -q 'client test 2' "$f.tmp"; then rm -f "$f.tmp"; exit 75; fi; mv "$f.tmp" "$f"; exit 0 ;;
signal) cat >/dev/null; kill -KILL $$ ;;
half) head -c 20 >/dev/null; exit 0 ;;
kill-during-2) cat >"$f.tmp"; if grep -q 'client test 2' "$f.tmp"; then rm -f "$f.tmp"; echo $$ >"$out/blocked"; exec sleep 30; fi; mv "$f.tmp" "$f" ;;
kill-after-2) cat >"$f"; grep -q 'client test 2' "$f" && kill -KILL "$PPID"; exit 0 ;;
esac
SH
chmod 755 "$mda"
export MDA_OUT=$mdaout
for i in 1 2 3; do newmsg $i "Return-Path: <bob@kpop.test>"; done
MDA_MODE=fail kp --mda "$mda %u" --delete fetch 2>"$E2E_DIR/m1"
t_expect_eq "MDA exits 1: kpop exits 8" 8 "$?"
t_expect_match "MDA exits 1: explained" "MDA .* exited with status 1" "$(cat "$E2E_DIR/m1")"
t_expect_eq "MDA exits 1: nothing deleted" 3 "$(count_msgs "$md")"
MDA_MODE=signal kp --mda "$mda" --delete fetch 2>"$E2E_DIR/m2"
t_expect_eq "MDA killed by a signal: exit 8" 8 "$?"
t_expect_match "MDA killed by a signal: explained" "killed by signal 9" "$(cat "$E2E_DIR/m2")"
t_expect_eq "MDA killed by a signal: nothing deleted" 3 "$(count_msgs "$md")"
MDA_MODE=half kp --mda "$mda" --delete fetch 2>"$E2E_DIR/m3"
t_expect_eq "MDA reads half its input and exits 0: exit 8" 8 "$?"
t_expect_match "MDA reading half: explained" "after reading 20 of" "$(cat "$E2E_DIR/m3")"
t_expect_eq "MDA reading half: nothing deleted" 3 "$(count_msgs "$md")"
MDA_MODE=tempfail-2 kp --mda "$mda" --delete fetch 2>"$E2E_DIR/m4"
t_expect_eq "MDA says EX_TEMPFAIL for one message: exit 8" 8 "$?"
t_expect_match "EX_TEMPFAIL reported as temporary" "temporary failure.*next time" "$(cat "$E2E_DIR/m4")"
t_expect_eq "EX_TEMPFAIL: the others are delivered" "1x1 3x1 " "$(subjects "$mdaout")"
t_expect_eq "EX_TEMPFAIL: only the deferred message stays on the server" 1 "$(count_msgs "$md")"
MDA_MODE=ok kp --mda "$mda %u %f" --delete fetch 2>"$E2E_DIR/m5"
t_expect_eq "MDA exits 0: exit 0" 0 "$?"
t_expect_eq "the deferred message comes next time, once" "1x1 2x1 3x1 " "$(subjects "$mdaout")"
t_expect_eq "MDA exits 0: deleted" 0 "$(count_msgs "$md")"
t_expect_eq "%u is the local user, %f the Return-Path" "$(id -un) bob@kpop.test" "$(cat "$mdaout/args")"
if grep -q $'\r' "$mdaout"/m*; then t_fail "the MDA gets LF line ends" "CR found"; else t_pass "the MDA gets LF line ends"; fi
rm -f "$mdaout"/*
newmsg 6 "Return-Path: <-oQ/tmp/x;rm\`id\`@evil>"
MDA_MODE=ok kp --mda "$mda '%f' --mda-from-line" --mda-from-line fetch 2>/dev/null
t_expect_eq "a hostile Return-Path never reaches the MDA's arguments" "kpop@localhost --mda-from-line" "$(cat "$mdaout/args")"
t_expect_match "--mda-from-line: the MDA gets a From_ line first" "^From kpop@localhost " "$(head -n 1 "$mdaout"/m*)"
rm -f "$md"/new/* "$mdaout"/*

# --- kill -9 at each step: no loss, at most one duplicate --------------------------
exec 3>&2 2>/dev/null # no "Killed" job notices from bash in the output
for step in during after; do
	rm -f "$mdaout"/* "$md"/new/*
	for i in 1 2 3; do newmsg $i; done
	# (not through kp: $! must be kpop itself)
	MDA_MODE=kill-$step-2 "$KPOP" -H localhost -p "$KPOPD_PORT" -t 20 --mda "$mda" --delete \
		--state "$E2E_DIR/kill-$step.state" fetch >/dev/null 2>&1 &
	kpid=$!
	if [ $step = during ]; then
		for _ in $(seq 100); do [ -s "$mdaout/blocked" ] && break; sleep 0.1; done
		kill -KILL "$kpid" 2>/dev/null
		blocked=$(cat "$mdaout/blocked" 2>/dev/null)
		[ -n "$blocked" ] && kill "$blocked" 2>/dev/null # the MDA left behind
		rm -f "$mdaout/blocked"
	fi
	{ wait "$kpid"; } 2>/dev/null
	sleep 0.3 # kpopd notices the dropped connection
	t_expect_eq "kill -9 $step the store of message 2: the server deleted nothing" 3 "$(count_msgs "$md")"
	MDA_MODE=ok kp --mda "$mda" --delete --state "$E2E_DIR/kill-$step.state" fetch 2>"$E2E_DIR/k2"
	rc=$?
	[ $rc = 0 ] || cat "$E2E_DIR/k2"
	t_expect_eq "kill -9 $step the store of message 2: the next fetch exits 0" 0 "$rc"
	got=$(subjects "$mdaout")
	case $step in
	during) want="1x1 2x1 3x1 " ;;   # message 2 was never delivered
	after) want="1x1 2x2 3x1 " ;;    # message 2 was delivered, not yet recorded
	esac
	t_expect_eq "kill -9 $step the store of message 2: each message once (2 at most twice)" "$want" "$got"
	t_expect_eq "kill -9 $step the store: the server is empty after the second run" 0 "$(count_msgs "$md")"
done
exec 2>&3 3>&-
# Maildir: kill -9 while a big message is being written
rm -f "$md"/new/*
newmsg 1
make_test_messages "$E2E_DIR/msgs"
put_msg "$md" 1000000002.M2.test "$E2E_DIR/msgs/big"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$md/new/1000000002.M2.test"
newmsg 3
kout=$E2E_DIR/kill-md
mkdir -p "$kout/tmp" "$kout/new" "$kout/cur"
"$KPOP" -H localhost -p "$KPOPD_PORT" -t 20 --maildir "$kout" --delete fetch >/dev/null 2>&1 &
kpid=$!
# (message 1 waits in tmp/ for its batch's sync while the big one is written)
for _ in $(seq 2000); do [ "$(ls "$kout/tmp" | wc -l)" -ge 2 ] && break; done
landed=0
kill -KILL "$kpid" 2>/dev/null && landed=1
{ wait "$kpid"; } 2>/dev/null
sleep 0.3
kp --maildir "$kout" --delete fetch 2>/dev/null
t_expect_eq "Maildir, kill -9 mid-fetch: the next fetch exits 0" 0 "$?"
t_expect_eq "Maildir, kill -9 mid-fetch: the server is empty" 0 "$(count_msgs "$md")"
ok=0
for f in "$kout"/new/*; do cmp -s "$f" "$E2E_DIR/msgs/big" && ok=$((ok + 1)); done
small=$(subjects "$kout/new")
if [ $landed = 0 ]; then
	t_skip "Maildir, kill -9 mid-fetch" "kpop had finished before the kill"
elif [ $ok -ge 1 ] && [ $ok -le 2 ] && printf '%s' "$small" | grep -Eq '^1x[12] 3x[12] $' &&
   [ "$(nfiles "$kout/new")" -le 4 ]; then
	t_pass "Maildir, kill -9 mid-fetch: every message stored, at most one twice"
else
	t_fail "Maildir, kill -9 mid-fetch: every message stored, at most one twice" "big=$ok small=$small files=$(nfiles "$kout/new")"
fi

# --- config file accounts ----------------------------------------------------------
rm -f "$md"/new/*
for i in 1 2; do newmsg $i; done
mkdir -p "$XDG_CONFIG_HOME/kpop"
cat >"$XDG_CONFIG_HOME/kpop/config" <<EOC
# kpop test configuration
defaults
    host localhost
    port $KPOPD_PORT
    timeout 20

account work
    maildir $E2E_DIR/acct-work

account filter
    mda "$mda" %u
    keep yes
EOC
MDA_MODE=ok MDA_OUT=$mdaout kpop_out=$("$KPOP" fetch 2>&1)
rm -f "$mdaout"/*
"$KPOP" fetch 2>"$E2E_DIR/c1"
t_expect_eq "kpop fetch (all accounts): exit 0" 0 "$?"
MDA_MODE=ok "$KPOP" fetch filter --all 2>"$E2E_DIR/c2"
t_expect_eq "account work got both messages" 2 "$(nfiles "$E2E_DIR/acct-work/new")"
t_expect_eq "kpop fetch ACCOUNT --all: the filter account's MDA got both" "1x1 2x1 " "$(subjects "$mdaout")"
t_expect_match "the summary names the account" "account filter: fetched 2" "$(cat "$E2E_DIR/c2")"
"$KPOP" fetch work --maildir "$E2E_DIR/acct-override" --all 2>/dev/null
t_expect_eq "the command line overrides the account's delivery" 2 "$(nfiles "$E2E_DIR/acct-override/new")"
"$KPOP" fetch work -p 1 -t 2 2>"$E2E_DIR/c3"
t_expect_eq "the command line overrides the account's port (-p 1: exit 2)" 2 "$?"
"$KPOP" fetch nosuch 2>"$E2E_DIR/c4"
t_expect_eq "an unknown account: exit 1" 1 "$?"
t_expect_match "an unknown account is named" "no account nosuch" "$(cat "$E2E_DIR/c4")"
printf 'account a\n    host localhost\n    maildir /tmp/x\n    colour blue\n' >"$E2E_DIR/bad.conf"
"$KPOP" -f "$E2E_DIR/bad.conf" fetch 2>"$E2E_DIR/c5"
t_expect_eq "a malformed config file: exit 1" 1 "$?"
t_expect_match "a malformed config file names file:line" "bad.conf:4: unknown setting \"colour\"" "$(cat "$E2E_DIR/c5")"
printf 'account a\n    maildir /tmp/x\n    mbox /tmp/y\n' >"$E2E_DIR/bad2.conf"
"$KPOP" -f "$E2E_DIR/bad2.conf" fetch 2>"$E2E_DIR/c6"
t_expect_match "two deliveries in one account: file:line" "bad2.conf:3: mbox: a delivery is already set" "$(cat "$E2E_DIR/c6")"
printf 'account a\n    port 99999\n' >"$E2E_DIR/bad3.conf"
"$KPOP" -f "$E2E_DIR/bad3.conf" fetch 2>"$E2E_DIR/c7"
t_expect_match "a bad number: file:line and the range" "bad3.conf:2: port: expected a number from 1 to 65535" "$(cat "$E2E_DIR/c7")"
"$KPOP" -f "$E2E_DIR/missing.conf" fetch 2>"$E2E_DIR/c8"
t_expect_eq "-f with a missing file: exit 1" 1 "$?"
rm -f "$XDG_CONFIG_HOME/kpop/config"

# --- --max-size, --stdout ----------------------------------------------------------
rm -f "$md"/new/*
newmsg 1
put_msg "$md" 1000000002.M2.test "$E2E_DIR/msgs/big"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$md/new/1000000002.M2.test"
kp --maildir "$E2E_DIR/small" --max-size 100000 --delete fetch 2>"$E2E_DIR/s1"
t_expect_eq "--max-size: exit 0" 0 "$?"
t_expect_eq "--max-size: only the small message is stored" "1x1 " "$(subjects "$E2E_DIR/small/new")"
t_expect_eq "--max-size: the big one stays on the server" 1 "$(count_msgs "$md")"
t_expect_match "--max-size: reported" "message 2 \([0-9]+ octets\) is over the size limit" "$(cat "$E2E_DIR/s1")"
rm -f "$md"/new/*
for i in 1 2 3; do newmsg $i; done
kp --stdout fetch >"$E2E_DIR/stdout" 2>/dev/null
t_expect_eq "--stdout: each message starts with a From_ line" 3 "$(grep -c '^From ' "$E2E_DIR/stdout")"
t_expect_eq "--stdout: the three messages are there" "1x1 2x1 3x1 " "$(sed -n 's/^Subject: client test //p' "$E2E_DIR/stdout" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')"

# --- -v redacts tokens ---------------------------------------------------------------
kp -v list >/dev/null 2>"$E2E_DIR/v1"
t_expect_eq "-v list: exit 0" 0 "$?"
t_expect_match "-v shows the AUTH exchange redacted" "C: <redacted [0-9]+ bytes>" "$(cat "$E2E_DIR/v1")"
t_expect_match "-v shows the server's challenges redacted" "S: \+ <redacted [0-9]+ bytes>" "$(cat "$E2E_DIR/v1")"
if grep -Eq '[A-Za-z0-9+/]{40,}' "$E2E_DIR/v1"; then
	t_fail "-v prints no Kerberos token" "$(grep -E '[A-Za-z0-9+/]{40,}' "$E2E_DIR/v1" | head -n 2)"
else
	t_pass "-v prints no Kerberos token"
fi
kpopd_stop

# --- ports and servers that misbehave -------------------------------------------
"$KPOP" -v -H 127.0.0.1 --tls -t 1 list 2>"$E2E_DIR/p1"
t_expect_match "--tls without -p goes to port 995" "port 995" "$(cat "$E2E_DIR/p1")"
"$KPOP" -v -H 127.0.0.1 -t 1 list 2>"$E2E_DIR/p2"
t_expect_match "without --tls the default port is 1109" "port 1109" "$(cat "$E2E_DIR/p2")"
bad() { # MODE: start tests/badserver.py; sets BAD_PID BAD_PORT
	rm -f "$E2E_DIR/bad.port"
	"$PYTHON" "$KP_TOP_SRCDIR/tests/badserver.py" "$1" "$E2E_DIR/bad.port" 20 &
	BAD_PID=$!
	for _ in $(seq 100); do [ -s "$E2E_DIR/bad.port" ] && break; sleep 0.05; done
	BAD_PORT=$(cat "$E2E_DIR/bad.port")
}
bad silent
err=$("$KPOP" -H localhost -p "$BAD_PORT" -t 2 list 2>&1)
t_expect_eq "a server that never greets: exit 2" 2 "$?"
t_expect_match "a server that never greets: explained" "sent no greeting in 2 seconds" "$err"
"$KPOP" -H localhost -p "$BAD_PORT" --tls -t 2 list 2>/dev/null
t_expect_eq "-p wins over --tls's default port" 2 "$?"
stop_pid "$BAD_PID"
bad close
err=$("$KPOP" -H localhost -p "$BAD_PORT" -t 5 list 2>&1)
t_expect_eq "a server that closes at once: exit 2" 2 "$?"
t_expect_match "a server that closes at once: explained" "closed the connection at once" "$err"
stop_pid "$BAD_PID"
bad http
err=$("$KPOP" -H localhost -p "$BAD_PORT" -t 5 list 2>&1)
t_expect_eq "an HTTP server: exit 3" 3 "$?"
t_expect_match "an HTTP server: explained" "web server \(HTTP\), not POP3" "$err"
stop_pid "$BAD_PID"
bad tls
err=$("$KPOP" -H localhost -p "$BAD_PORT" -t 5 list 2>&1)
t_expect_eq "TLS on a plaintext connection: exit 3" 3 "$?"
t_expect_match "TLS on a plaintext connection: explained" "speaks TLS on this port .*--tls" "$err"
stop_pid "$BAD_PID"
bad plain
err=$("$KPOP" -H localhost -p "$BAD_PORT" --tls -t 5 list 2>&1)
t_expect_eq "plaintext on a TLS connection: exit 2" 2 "$?"
t_expect_match "plaintext on a TLS connection: explained" "not TLS|plaintext" "$err"
stop_pid "$BAD_PID"

# --- --daemon --------------------------------------------------------------------
kpopd_start
rm -f "$md"/new/*
newmsg 1
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/daemon" --daemon 1 -q fetch 2>"$E2E_DIR/d1" &
dpid=$!
for _ in $(seq 100); do [ "$(nfiles "$E2E_DIR/daemon/new")" -ge 1 ] && break; sleep 0.1; done
newmsg 2
for _ in $(seq 100); do [ "$(nfiles "$E2E_DIR/daemon/new")" -ge 2 ] && break; sleep 0.1; done
t_expect_eq "--daemon: a message that arrives later is fetched, once" "1x1 2x1 " "$(subjects "$E2E_DIR/daemon/new")"
kill -TERM "$dpid"
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
wait "$dpid"
t_expect_eq "--daemon stops on SIGTERM with exit 0" 0 "$?"
kpopd_stop
t_summary
