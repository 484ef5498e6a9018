#!/usr/bin/env bash
# tests/e2e/client2.sh - kpop against canned servers (tests/fakepop3.py quirks, real
# AUTH GSSAPI): no CAPA, CAPA refused after login, DELE refused, no UIDL (refused
# when keeping, every message with --delete or --all), and kpop killed with SIGKILL
# before storing a message and after its DELE: each message stored once, the
# exit status and the message for each.  (Servers that never greet, close at once,
# speak TLS or HTTP, and the MDA exits are in client.sh.)
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
. "$KP_TOP_SRCDIR/tests/e2e/lib-fake.sh"

# quirk N DIR: how many stored files of DIR/new carry "Subject: quirk N"
quirk() { grep -l "^Subject: quirk $1\$" "$2"/new/* 2>/dev/null | wc -l; }

# fake_quirks NAME VARIANT CONNECTIONS
fake_quirks() {
	fake_stop
	fake_start "$1" quirks --variant "$2" --connections "$3"
}

# --- no CAPA (an RFC 1939 server): AUTH GSSAPI is tried anyway ----------------------
md=$E2E_DIR/nocapa
fake_quirks nocapa no-capa 1 && kpop_fake --maildir "$md" --state "$E2E_DIR/nocapa.state" fetch
t_expect_eq "no CAPA: exit 0" 0 "$rc"
t_expect_eq "no CAPA: both messages stored once" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"
t_expect_eq "no CAPA: CAPA asked, AUTH sent anyway" "1 1" "$(sent CAPA) $(grep -c '^C: AUTH GSSAPI' "$FAKE_LOG")"

# --- CAPA refused once logged in --------------------------------------------------------
md=$E2E_DIR/capaerr
fake_quirks capaerr capa-err-after 1 && kpop_fake --maildir "$md" --state "$E2E_DIR/capaerr.state" fetch
t_expect_eq "CAPA -ERR after login: exit 0" 0 "$rc"
t_expect_eq "CAPA -ERR after login: both messages stored" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"

# --- DELE refused: stored and recorded, reported, tried again next time ---------------
md=$E2E_DIR/dele
fake_quirks dele dele-refused 2 && kpop_fake --delete --maildir "$md" --state "$E2E_DIR/dele.state" fetch
t_expect_eq "DELE refused: exit 3" 3 "$rc"
t_expect_match "DELE refused: said so with the server's text" \
	"DELE 1 refused: this server does not delete \(the message stays on the server" "$(cat "$E2E_DIR/err")"
t_expect_eq "DELE refused: both messages stored anyway" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"
kpop_fake --delete --maildir "$md" --state "$E2E_DIR/dele.state" fetch
t_expect_eq "DELE refused, second run: nothing fetched again" "1 1 0" \
	"$(quirk 1 "$md") $(quirk 2 "$md") $(grep -c '^C: RETR' "$FAKE_LOG" | awk '{print $1 - 2}')"
t_expect_eq "DELE refused, second run: DELE tried again" 4 "$(sent DELE)"

# --- no UIDL -----------------------------------------------------------------------------
md=$E2E_DIR/nouidl
fake_quirks nouidl no-uidl 3 && kpop_fake --maildir "$md" --state "$E2E_DIR/nouidl.state" fetch
t_expect_eq "no UIDL, keeping: exit 3" 3 "$rc"
t_expect_match "no UIDL, keeping: refused with the reason and the way out" \
	"gives no unique ids \(UIDL\): kpop cannot tell new messages .*--delete, or --all" \
	"$(cat "$E2E_DIR/err")"
t_expect_eq "no UIDL, keeping: nothing fetched" "0 0" "$(files_in "$md") $(sent RETR)"
kpop_fake --delete --maildir "$md" --state "$E2E_DIR/nouidl.state" fetch
t_expect_eq "no UIDL, --delete: exit 0" 0 "$rc"
t_expect_match "no UIDL, --delete: says it fetches every message" \
	"gives no unique ids \(UIDL\): fetching every message" "$(cat "$E2E_DIR/err")"
t_expect_eq "no UIDL, --delete: both stored, both deleted" "1 1 2" \
	"$(quirk 1 "$md") $(quirk 2 "$md") $(sent DELE)"
kpop_fake --all --maildir "$md" --state "$E2E_DIR/nouidl.state" fetch
t_expect_eq "no UIDL, --all: exit 0, every message again" "0 2 2" \
	"$rc $(quirk 1 "$md") $(quirk 2 "$md")"

# --- SIGKILL of kpop before a store and after the DELEs --------------------------------
# kpop_killed VARIANT: kpop --delete fetch against a server that hangs at VARIANT,
# killed with SIGKILL once the server logs that it hangs.
kpop_killed() {
	local i kpid
	"$KPOP" -H localhost -p "$FAKE_PORT" -t 30 --delete --maildir "$md" \
		--state "$E2E_DIR/$1.state" fetch >/dev/null 2>&1 &
	kpid=$!
	for i in $(seq 200); do grep -q "^E: hanging at" "$FAKE_LOG" && break; sleep 0.05; done
	kill -KILL "$kpid"
	{ wait "$kpid"; } 2>/dev/null
}
exec 3>&2 2>/dev/null # no "Killed" job notices from bash in the output
md=$E2E_DIR/killretr
fake_quirks hang-retr2 hang-retr2 2 && kpop_killed hang-retr2
t_expect_eq "SIGKILL before storing message 2: message 1 stored, 2 not" "1 0" \
	"$(quirk 1 "$md") $(quirk 2 "$md")"
t_expect_eq "SIGKILL before storing message 2: no tmp/ file left visible in new/" 1 "$(files_in "$md/new")"
kpop_fake --delete --maildir "$md" --state "$E2E_DIR/hang-retr2.state" fetch
t_expect_eq "SIGKILL before a store: the next run exits 0" 0 "$rc"
t_expect_eq "SIGKILL before a store: each message stored once" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"
t_expect_eq "SIGKILL before a store: the next run fetches only message 2" 2 "$(grep -c '^C: RETR 2$' "$FAKE_LOG")"

md=$E2E_DIR/killquit
fake_quirks hang-quit hang-quit 2 && kpop_killed hang-quit
t_expect_eq "SIGKILL after the DELEs (QUIT unanswered): both stored" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"
t_expect_eq "SIGKILL after the DELEs: DELE 1 and DELE 2 were sent" 2 "$(sent DELE)"
kpop_fake --delete --maildir "$md" --state "$E2E_DIR/hang-quit.state" fetch
t_expect_eq "SIGKILL after DELE: the next run exits 0" 0 "$rc"
t_expect_eq "SIGKILL after DELE: nothing stored twice" "1 1" "$(quirk 1 "$md") $(quirk 2 "$md")"
t_expect_eq "SIGKILL after DELE: the next run deletes without fetching again" "2 4" \
	"$(grep -c '^C: RETR' "$FAKE_LOG") $(sent DELE)"

# --- mbox delivery: a From_ line from Return-Path, the lock held per message ------------
mbox=$E2E_DIR/lock.mbox
fake_quirks mbox-hang hang-retr2 2
"$KPOP" -H localhost -p "$FAKE_PORT" -t 30 --mbox "$mbox" --state "$E2E_DIR/mbox.state" \
	fetch >/dev/null 2>&1 &
kpid=$!
for i in $(seq 200); do grep -q "^E: hanging at" "$FAKE_LOG" && break; sleep 0.05; done
t_expect_eq "mbox, between messages: no dotlock held" "" "$(ls "$mbox.lock" 2>/dev/null)"
t_expect_eq "mbox, between messages: the fcntl lock is free for an MDA" free "$("$PYTHON" -c '
import fcntl, sys
f = open(sys.argv[1], "r+")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except OSError:
    print("held")' "$mbox")"
kill -KILL "$kpid"
{ wait "$kpid"; } 2>/dev/null
t_expect_match "mbox: the From_ line carries the Return-Path sender" \
	"^From quirk@kpop.test [A-Z][a-z][a-z] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]{8} [0-9]{4}\$" "$(head -n 1 "$mbox")"
t_expect_eq "mbox: killed before message 2: message 1 only, whole" "1 0" \
	"$(grep -c '^Subject: quirk 1$' "$mbox") $(grep -c '^Subject: quirk 2$' "$mbox")"
# a stale dotlock (10 minutes old, a crashed MDA) is taken over
touch "$mbox.lock"
touch -d '10 minutes ago' "$mbox.lock"
kpop_fake --mbox "$mbox" --state "$E2E_DIR/mbox.state" fetch
t_expect_eq "mbox: a stale dotlock is taken over: exit 0" 0 "$rc"
t_expect_eq "mbox: ... message 2 stored, once each" "1 1" \
	"$(grep -c '^Subject: quirk 1$' "$mbox") $(grep -c '^Subject: quirk 2$' "$mbox")"
t_expect_eq "mbox: no dotlock left" "" "$(ls "$mbox".lock* 2>/dev/null)"
exec 2>&3 3>&-

t_summary
