#!/usr/bin/env bash
# tests/e2e/mbox.sh - kpopd serves a classic mbox spool (MAILROOT/USER.mbox):
# byte-exact RETR with mboxrd ">From " un-quoting and a message without final
# newline, UIDLs stable across sessions and deletions, DELE+QUIT compacts exactly,
# a killed session removes nothing, mail appended during a session survives,
# [IN-USE], and a symlinked or foreign-owned spool is refused.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
spool=$MAILROOT/alice.mbox
make_mbox_blocks "$msgs"
cat "$msgs"/b1 "$msgs"/b2 "$msgs"/b3 "$msgs"/b4 "$msgs"/b5 >"$spool"
cp "$spool" "$msgs/orig"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$spool"
chmod 600 "$spool"

# fetched_match DIR N...: DIR/new holds exactly one file equal to each want file
fetched_match() {
	local dir=$1 label=$2 n f found
	shift 2
	t_expect_eq "$label: $# messages stored" "$#" "$(find "$dir/new" -type f | wc -l)"
	for n in "$@"; do
		found=0
		for f in "$dir"/new/*; do cmp -s "$f" "$msgs/want$n" && found=1; done
		if [ $found = 1 ]; then
			t_pass "$label: message '$n' arrives byte for byte"
		else
			t_fail "$label: message '$n' arrives byte for byte" "no stored file matches"
		fi
	done
}
# uidl_of LISTFILE N: message N's unique id from kpop list's "unique ids:" part
uidl_of() {
	sed -n '/^unique ids:/,$p' "$1" | awk -v n="$2" '$1 == n { print $2 }'
}

kpopd_start -o maildir="$MAILROOT/%u.mbox" ||
	{ t_fail "kpopd starts" "see log"; t_summary; exit 1; }
t_pass "kpopd starts with maildir = MAILROOT/%u.mbox (format auto)"

out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>"$E2E_DIR/list.err")
t_expect_eq "kpop list exits 0" 0 "$?"
t_expect_match "kpop list counts 5 messages" "^5 messages" "$out"
printf '%s\n' "$out" >"$E2E_DIR/list1"
size_plain=$("$PYTHON" -c 'import sys; d=open(sys.argv[1],"rb").read(); print(len(d.replace(b"\n", b"\r\n")))' "$msgs/want1")
t_expect_match "LIST size is the CRLF size" "(^|[^0-9])$size_plain([^0-9]|$)" "$(sed -n 2p "$E2E_DIR/list1")"

"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/out1" fetch 2>"$E2E_DIR/fetch1.err"
t_expect_eq "kpop fetch (keep) exits 0" 0 "$?"
fetched_match "$E2E_DIR/out1" "fetch" 1 2 3 4 5
if cmp -s "$spool" "$msgs/orig"; then t_pass "fetch without --delete leaves the spool as it was"
else t_fail "fetch without --delete leaves the spool as it was" "spool changed"; fi
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>/dev/null)
t_expect_eq "UIDLs stable across sessions" "$(cat "$E2E_DIR/list1")" "$out"
t_expect_eq "no dotlock left behind" "" "$(ls "$MAILROOT" | grep '\.lock')"

# A session killed with SIGKILL after DELE removes nothing.
cat >"$E2E_DIR/dele.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
C: DELE 1
S: +OK Message 1 deleted
C: DELE 3
S: +OK Message 3 deleted
TOUCH $E2E_DIR/deleted
HOLD 30
EOS
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/dele.script" >/dev/null 2>&1 &
client=$!
for _ in $(seq 100); do [ -e "$E2E_DIR/deleted" ] && break; sleep 0.1; done
session=$(spool_holder "$spool")
if [ -n "$session" ]; then
	# [IN-USE] while it holds the spool
	err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
	t_expect_eq "spool in use: exit 9" 9 "$?"
	t_expect_match "spool in use: said so" "in use|IN-USE|locked" "$err"
	kill -KILL "$session"
	sleep 0.3
	t_expect_eq "SIGKILL: the dotlock stays behind" 1 "$(ls "$MAILROOT" | grep -c '^alice.mbox.lock$')"
	if cmp -s "$spool" "$msgs/orig"; then t_pass "SIGKILL after DELE: spool unchanged"
	else t_fail "SIGKILL after DELE: spool unchanged" "spool differs"; fi
else
	t_fail "SIGKILL after DELE: spool unchanged" "no session process found"
fi
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_match "after a killed session the spool is free again" "^5 messages" "$out"
if grep -q "alice.mbox: removing a stale dotlock" "$KPOPD_LOG"; then
	t_pass "the killed session's dotlock was recognised as stale"
else
	t_fail "the killed session's dotlock was recognised as stale" "not in the log"
fi

# DELE 2 + QUIT while an MDA appends a message: exactly message 2 goes, the new
# one stays.
cat >"$E2E_DIR/quit.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
C: DELE 2
S: +OK Message 2 deleted
TOUCH $E2E_DIR/marked
PAUSE-FOR $E2E_DIR/appended
C: QUIT
S~ \+OK .*1 messages deleted.*
EOS
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/quit.script" \
	>"$E2E_DIR/quit.out" 2>&1 &
client=$!
for _ in $(seq 100); do [ -e "$E2E_DIR/marked" ] && break; sleep 0.1; done
cat "$msgs/late" >>"$spool"
touch "$E2E_DIR/appended"
if wait "$client"; then t_pass "DELE 2 + QUIT answered +OK"
else t_fail "DELE 2 + QUIT answered +OK" "$(cat "$E2E_DIR/quit.out")"; fi
cat "$msgs"/b1 "$msgs"/b3 "$msgs"/b4 "$msgs"/b5 "$msgs/late" >"$msgs/after"
if cmp -s "$spool" "$msgs/after"; then t_pass "UPDATE removed exactly message 2, kept the late mail"
else t_fail "UPDATE removed exactly message 2, kept the late mail" "spool differs from expected"; fi
t_expect_eq "spool still owned by the user" "$KP_MAIL_UID" "$(stat -c %u "$spool")"

"$KPOP" -H localhost -p "$KPOPD_PORT" list >"$E2E_DIR/list2" 2>/dev/null
t_expect_match "5 messages after the update" "^5 messages" "$(cat "$E2E_DIR/list2")"
old="$(uidl_of "$E2E_DIR/list1" 1) $(uidl_of "$E2E_DIR/list1" 3) $(uidl_of "$E2E_DIR/list1" 4) $(uidl_of "$E2E_DIR/list1" 5)"
new="$(uidl_of "$E2E_DIR/list2" 1) $(uidl_of "$E2E_DIR/list2" 2) $(uidl_of "$E2E_DIR/list2" 3) $(uidl_of "$E2E_DIR/list2" 4)"
t_expect_match "list shows UIDLs" "^mb[0-9a-f]{16} mb" "$old"
t_expect_eq "UIDLs of the kept messages unchanged after deleting another" "$old" "$new"
late=$(uidl_of "$E2E_DIR/list2" 5)
if [ -n "$late" ] && ! grep -q -- "$late" "$E2E_DIR/list1"; then
	t_pass "the late message has a new UIDL"
else
	t_fail "the late message has a new UIDL" "'$late'"
fi

# mailbox_format = mbox, fetch --delete: everything arrives, the spool is empty.
kpopd_stop
kpopd_start -o maildir="$MAILROOT/%u.mbox" -o mailbox_format=mbox ||
	{ t_fail "kpopd starts (mailbox_format = mbox)" "see log"; t_summary; exit 1; }
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/out2" --delete fetch 2>"$E2E_DIR/fetch2.err"
t_expect_eq "kpop --delete fetch exits 0" 0 "$?"
fetched_match "$E2E_DIR/out2" "fetch --delete" 1 3 4 5 late
t_expect_eq "spool empty after --delete" 0 "$(stat -c %s "$spool")"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_match "an empty spool lists 0 messages" "^0 messages" "$out"

# Blank lines before the first From_ line are tolerated and left in place, so
# deleting every message leaves only them: that spool is empty, not "not an mbox"
# (every later login failed; found by fuzz-mbox, its input is a seed).
{ printf '\n\n'; cat "$msgs/b1"; } >"$spool"
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/out3" --delete fetch 2>"$E2E_DIR/fetch3.err"
t_expect_eq "blank lines before the first From_: fetch --delete exits 0" 0 "$?"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_match "the blank lines UPDATE left list as 0 messages" "^0 messages" "$out"

# Two identical messages get distinct UIDLs; TOP streams header + n lines,
# un-quoted and dot-stuffed; the final separator of an mbox is not content.
dup=$(printf 'From a@kpop.test Tue Dec  1 12:00:00 2026\nSubject: same\n\nbody\n\n')
{ printf '%s\n\n' "$dup"; printf '%s\n\n' "$dup"
  printf 'From a@kpop.test Tue Dec  1 12:00:01 2026\nSubject: top\n\n>From one\n.two\nthree\n\n'; } >"$spool"
cat >"$E2E_DIR/top.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 3 messages \(85 octets\)
C: UIDL
S~ \\+OK.*
S~ 1 mb[0-9a-f]{16}
S~ 2 mb[0-9a-f]{16}-2
S~ 3 mb[0-9a-f]{16}
S: .
C: LIST 3
S: +OK 3 39
C: TOP 3 2
S~ \\+OK.*
S: Subject: top
S:
S: From one
S: ..two
S: .
C: RETR 1
S: +OK 23 octets
S: Subject: same
S:
S: body
S: .
C: QUIT
S~ \+OK .*
EOS
if out=$("$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/top.script" 2>&1); then
	t_pass "duplicate messages: distinct UIDLs; TOP and RETR un-quote and stuff"
else
	t_fail "duplicate messages: distinct UIDLs; TOP and RETR un-quote and stuff" "$out"
fi

# Removing a last message that had no final newline while an MDA appends (it
# first ends that line and adds the blank separator): those newlines go with it,
# and the spool still starts with a From_ line.
cat "$msgs/b1" "$msgs/b5" >"$spool"
rm -f "$E2E_DIR/marked" "$E2E_DIR/appended"
sed 's/DELE 2$/DELE 2/' "$E2E_DIR/quit.script" >"$E2E_DIR/quit2.script"
"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/quit2.script" \
	>"$E2E_DIR/quit2.out" 2>&1 &
client=$!
for _ in $(seq 100); do [ -e "$E2E_DIR/marked" ] && break; sleep 0.1; done
cat "$msgs/late" >>"$spool"
touch "$E2E_DIR/appended"
if wait "$client"; then t_pass "DELE of the unterminated last message + QUIT answered +OK"
else t_fail "DELE of the unterminated last message + QUIT answered +OK" "$(cat "$E2E_DIR/quit2.out")"; fi
{ cat "$msgs/b1"; tail -c +3 "$msgs/late"; } >"$msgs/after2"
if cmp -s "$spool" "$msgs/after2"; then t_pass "its separator newlines went with it; the late mail stays"
else t_fail "its separator newlines went with it; the late mail stays" "spool differs from expected"; fi
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_match "the compacted spool opens: 2 messages" "^2 messages" "$out"

# bob: a symlink to a spool of the right owner is refused, then a file owned by
# somebody else.
export KRB5CCNAME=FILE:$KPOP_TEST_DIR/bob.ccache
cp "$msgs/orig" "$MAILROOT/target"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT/target"
ln -s "$MAILROOT/target" "$MAILROOT/bob.mbox"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "bob.mbox: a symbolic link: refused" "$KPOPD_LOG"; then
	t_pass "symlinked spool refused"
else
	t_fail "symlinked spool refused" "exit $rc: $err"
fi
rm -f "$MAILROOT/bob.mbox"
if [ "$(id -u)" = 0 ] && [ "$KP_MAIL_UID" != 0 ]; then
	cp "$msgs/orig" "$MAILROOT/bob.mbox"
	chmod 666 "$MAILROOT/bob.mbox" # readable and writable: only the owner check stops it
	err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q "bob.mbox: not a regular file owned by uid $KP_MAIL_UID" "$KPOPD_LOG"; then
		t_pass "foreign-owned spool refused"
	else
		t_fail "foreign-owned spool refused" "exit $rc: $err"
	fi
	if cmp -s "$MAILROOT/bob.mbox" "$msgs/orig"; then t_pass "foreign-owned spool untouched"
	else t_fail "foreign-owned spool untouched" "changed"; fi
else
	t_skip "foreign-owned spool refused" "needs root to create a file of another owner"
fi
# not an mbox: refused without touching it
rm -f "$MAILROOT/bob.mbox"
printf 'Subject: no From_ line\n\nbody\n' >"$MAILROOT/bob.mbox"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT/bob.mbox"
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "does not start with a From_ line" "$KPOPD_LOG"; then
	t_pass "a file that is not an mbox is refused"
else
	t_fail "a file that is not an mbox is refused" "exit $rc: $err"
fi

t_summary
