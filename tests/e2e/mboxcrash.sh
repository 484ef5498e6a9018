#!/usr/bin/env bash
# tests/e2e/mboxcrash.sh - the mbox UPDATE survives SIGKILL at every step: kpopd's
# test hook (KPOPD_TEST_MBOX_HOOK=STEP[:N][:stop], server/mbox.c) kills the session
# at each named step of the journaled in-place compaction; an MDA then appends a
# message; the next session must leave exactly "all kept + the new mail" or
# "nothing removed + the new mail", never anything in between, and the spool must
# stay an mbox an MDA can append to.  Also: a crash while replaying, mail appended
# while UPDATE is stopped half way, a truncated spool that grew past the old end,
# and a spool directory where no journal can be made.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
make_mbox_blocks "$msgs"
spool=$MAILROOT/alice.mbox
journal=$spool.kpopd-journal
cat "$msgs"/b1 "$msgs"/b2 "$msgs"/b3 "$msgs"/b4 "$msgs"/b5 >"$msgs/orig"
# DELE 1 and 4 keep b2, b3 (5 MB: the copy takes many chunks) and b5
cat "$msgs"/b2 "$msgs"/b3 "$msgs"/b5 >"$msgs/kept"
# a second delivery: no final-newline fix-up needed after "late"
printf 'From mda@kpop.test Tue Dec  1 14:00:00 2026\nSubject: second\n\nlater still\n\n' \
	>"$msgs/late2"

reset_spool() {
	cp "$msgs/orig" "$spool"
	chown "$KP_MAIL_UID:$KP_MAIL_UID" "$spool"
	chmod 600 "$spool"
	rm -f "$journal" "$spool.lock" "$E2E_DIR/marked" "$E2E_DIR/go"
}

cat >"$E2E_DIR/quit.script" <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
C: DELE 1
S: +OK Message 1 deleted
C: DELE 4
S: +OK Message 4 deleted
TOUCH $E2E_DIR/marked
PAUSE-FOR $E2E_DIR/go
C: QUIT
EOS

# start_hooked HOOK [kpopd options...]: kpopd whose sessions run with
# KPOPD_TEST_MBOX_HOOK=HOOK ("" none)
start_hooked() {
	kpopd_stop
	if [ -n "$1" ]; then export KPOPD_TEST_MBOX_HOOK=$1; else unset KPOPD_TEST_MBOX_HOOK; fi
	shift
	kpopd_start -o maildir="$MAILROOT/%u.mbox" -o mailbox_format=mbox "$@"
	local rc=$?
	unset KPOPD_TEST_MBOX_HOOK
	return $rc
}

# quit_session: DELE 1, DELE 4, QUIT; prints the session's PID (found while it
# holds the spool) once the script has sent QUIT.  The client runs in the background.
quit_session() {
	"$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/quit.script" \
		>"$E2E_DIR/quit.out" 2>&1 &
	CLIENT=$!
	for _ in $(seq 100); do [ -e "$E2E_DIR/marked" ] && break; sleep 0.1; done
	SESSION=$(spool_holder "$spool")
	touch "$E2E_DIR/go"
}

# wait_gone PID: until the process is gone (it killed itself) or 30 s passed
wait_gone() {
	local i
	for i in $(seq 300); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.1
	done
	return 1
}

# wait_stopped PID: until the process is stopped (state T) or 30 s passed
wait_stopped() {
	local i
	for i in $(seq 300); do
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		sleep 0.1
	done
	return 1
}

# check_outcome LABEL DONE-FILE UNDONE-FILE: after a session without hook, the
# spool equals one of the two; the journal and the dotlock are gone; kpop can list.
check_outcome() {
	local label=$1 out
	out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
	t_expect_match "$label: the next session opens the spool" "^[0-9]+ messages" "$out"
	if cmp -s "$spool" "$2"; then
		t_pass "$label: spool = the kept messages + new mail (UPDATE finished)"
	elif cmp -s "$spool" "$3"; then
		t_pass "$label: spool = every message + new mail (UPDATE undone)"
	else
		t_fail "$label: spool is all-or-nothing with the new mail kept" \
			"$(stat -c %s "$spool") bytes, matches neither outcome"
	fi
	[ "${4:-}" = done ] && { cmp -s "$spool" "$2" && t_pass "$label: finished, not undone" ||
		t_fail "$label: finished, not undone" "the deletions were lost"; }
	t_expect_eq "$label: no journal left" "" "$(ls "$journal" 2>/dev/null)"
	t_expect_eq "$label: no dotlock left" "" "$(ls "$spool.lock" 2>/dev/null)"
}

# 1. SIGKILL at each step, then an MDA appends "late".
#    copy:3 = after the third 64 KiB chunk written over the spool: half rewritten.
for step in journal journaled mark copy:3 copied truncated; do
	reset_spool
	start_hooked "$step" || { t_fail "kpopd starts (hook $step)" "see log"; continue; }
	quit_session
	if [ -n "$SESSION" ] && wait_gone "$SESSION"; then
		t_pass "hook $step: the session was killed there"
	else
		t_fail "hook $step: the session was killed there" "pid '$SESSION'"
	fi
	wait "$CLIENT" 2>/dev/null
	grep -q "test hook: kill at ${step%%:*}" "$KPOPD_LOG" ||
		t_fail "hook $step: the log names the step" "not in $KPOPD_LOG"
	case $step in
	journal) # the journal exists but is not durable yet: the spool untouched
		cmp -s "$spool" "$msgs/orig" && t_pass "hook $step: spool untouched" ||
			t_fail "hook $step: spool untouched" "changed" ;;
	copy:3)
		if ! cmp -s "$spool" "$msgs/orig" && [ -e "$journal" ]; then
			t_pass "hook $step: spool half rewritten, journal present"
		else
			t_fail "hook $step: spool half rewritten, journal present" "not so"
		fi ;;
	esac
	cat "$msgs/late" >>"$spool" # an MDA that broke the dead session's dotlock
	start_hooked "" || { t_fail "kpopd starts" "see log"; continue; }
	cat "$msgs/kept" "$msgs/late" >"$msgs/done"
	cat "$msgs/orig" "$msgs/late" >"$msgs/undone"
	case $step in
	journal | journaled) check_outcome "hook $step" "$msgs/done" "$msgs/undone" ;;
	*) check_outcome "hook $step" "$msgs/done" "$msgs/undone" done ;;
	esac
done

# 2. Killed half way, an MDA appends, the replaying session is killed half way
#    too, another delivery, then a clean session finishes it.
reset_spool
start_hooked copy:3 && quit_session && wait_gone "$SESSION"
wait "$CLIENT" 2>/dev/null
cat "$msgs/late" >>"$spool"
start_hooked copy:2
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_match "replay killed half way: said so in the log" \
	"finishing the UPDATE a killed session began" "$(cat "$KPOPD_LOG")"
t_expect_eq "replay killed half way: journal still there" "$journal" "$(ls "$journal" 2>/dev/null)"
cat "$msgs/late2" >>"$spool"
start_hooked ""
cat "$msgs/kept" "$msgs/late" "$msgs/late2" >"$msgs/done"
check_outcome "crash during replay" "$msgs/done" /dev/null done

# 3. UPDATE stopped after the copy (SIGSTOP); a non-locking writer appends; the
#    session continues, journals the new mail and finishes; QUIT answers +OK.
reset_spool
start_hooked copied:stop
# this client waits for QUIT's answer, which comes after UPDATE and the unlock
cp "$E2E_DIR/quit.script" "$E2E_DIR/quit.script.crash"
printf 'S~ \\+OK .*2 messages deleted.*\n' >>"$E2E_DIR/quit.script"
quit_session
cp "$E2E_DIR/quit.script.crash" "$E2E_DIR/quit.script"
if [ -n "$SESSION" ] && wait_stopped "$SESSION"; then
	cat "$msgs/late" >>"$spool"
	kill -CONT "$SESSION"
	if wait "$CLIENT"; then t_pass "stopped UPDATE: the client's script ran"
	else t_fail "stopped UPDATE: the client's script ran" "$(cat "$E2E_DIR/quit.out")"; fi
	cat "$msgs/kept" "$msgs/late" >"$msgs/done"
	if cmp -s "$spool" "$msgs/done"; then
		t_pass "stopped UPDATE: mail appended half way through UPDATE is kept"
	else
		t_fail "stopped UPDATE: mail appended half way through UPDATE is kept" "spool differs"
	fi
	t_expect_eq "stopped UPDATE: no journal left" "" "$(ls "$journal" 2>/dev/null)"
else
	t_fail "stopped UPDATE: the session stopped at the hook" "pid '$SESSION'"
	kill "$CLIENT" 2>/dev/null
	wait "$CLIENT" 2>/dev/null
fi

# 4. Killed after the truncation; then more mail than the removed messages held
#    arrives (the spool grows past the old end): the journal must be dropped, not
#    replayed over the new mail.
reset_spool
start_hooked truncated && quit_session && wait_gone "$SESSION"
wait "$CLIENT" 2>/dev/null
{ printf '\nFrom mda@kpop.test Tue Dec  1 15:00:00 2026\n'; cat "$msgs/b3"; cat "$msgs/b3"; } \
	>"$msgs/bigmail"
cat "$msgs/bigmail" >>"$spool"
if [ "$(stat -c %s "$spool")" -gt "$(stat -c %s "$msgs/orig")" ]; then
	t_pass "truncated, then grown past the old end"
else
	t_fail "truncated, then grown past the old end" "spool too small for the case"
fi
start_hooked ""
cat "$msgs/kept" "$msgs/bigmail" >"$msgs/done"
check_outcome "grown past the old end" "$msgs/done" /dev/null done

# 5. A spool directory where the session cannot create the journal: nothing is
#    removed and the client is told so; with mbox_journal_dir the journal goes
#    there, and a crash is finished from there.  6. A journal somebody else
#    planted is never replayed.
if [ "$(id -u)" = 0 ] && [ "$KP_MAIL_UID" != 0 ]; then
	reset_spool
	start_hooked ""
	chown root:root "$MAILROOT"
	chmod 755 "$MAILROOT"
	sed 's/^C: QUIT$/C: QUIT\nS~ -ERR \\[SYS\/TEMP\\] .*/' "$E2E_DIR/quit.script" >"$E2E_DIR/quit3.script"
	# refused_quit LABEL: DELE 1, DELE 4, QUIT answered -ERR, the spool unchanged
	refused_quit() {
		local out
		touch "$E2E_DIR/go"
		out=$("$PYTHON" "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" \
			"$E2E_DIR/quit3.script" 2>&1)
		t_expect_eq "$1: QUIT answers -ERR [SYS/TEMP]" "" "$out"
		cmp -s "$spool" "$msgs/orig" && t_pass "$1: nothing removed" ||
			t_fail "$1: nothing removed" "spool changed"
	}
	refused_quit "no journal possible"
	t_expect_match "no journal possible: the log says why" \
		"no UPDATE journal: nothing removed" "$(cat "$KPOPD_LOG")"

	jdir=$E2E_DIR/journals
	mkdir -p "$jdir"
	chown "$KP_MAIL_UID:$KP_MAIL_UID" "$jdir"
	chmod 700 "$jdir"
	start_hooked copy:3 -o mbox_journal_dir="$jdir"
	rm -f "$E2E_DIR/marked" "$E2E_DIR/go"
	quit_session
	wait_gone "$SESSION"
	wait "$CLIENT" 2>/dev/null
	t_expect_eq "mbox_journal_dir: the journal is there" "$jdir/alice.mbox.kpopd-journal" \
		"$(ls "$jdir"/* 2>/dev/null)"
	cat "$msgs/late" >>"$spool"
	start_hooked "" -o mbox_journal_dir="$jdir"
	cat "$msgs/kept" "$msgs/late" >"$msgs/done"
	check_outcome "mbox_journal_dir, killed half way" "$msgs/done" /dev/null done
	t_expect_eq "mbox_journal_dir: the journal is gone" "" "$(ls "$jdir")"
	chown "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT"

	reset_spool
	printf 'KPOPJ1 0 10 1 0000000000000000\n' >"$journal" # root's, not the user's
	start_hooked ""
	out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
	t_expect_match "a planted journal: the spool still opens" "^5 messages" "$out"
	t_expect_match "a planted journal: logged and ignored" "is not a regular file of uid" \
		"$(cat "$KPOPD_LOG")"
	refused_quit "a planted journal"
	t_expect_eq "a planted journal is left for an administrator" root "$(stat -c %U "$journal")"
	rm -f "$journal"
else
	t_skip "no journal possible, mbox_journal_dir, planted journal" "needs root and a separate mail uid"
fi

t_summary
