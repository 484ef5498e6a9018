#!/usr/bin/env bash
# tests/e2e/faults.sh - fault injection (issue 11): an LD_PRELOAD shim
# (tests/lib/faultinject.c) fails, in turn, every write, fsync, open, link, rename,
# unlink and read that kpop's delivery makes (into a Maildir and into an mbox, and
# of its state file) and every one kpopd's session makes on the maildrop (the
# listing, the size cache, RETR, UPDATE), with ENOSPC or EIO as a full or broken
# disk would, and malloc at points through a whole kpop run.  After each: no
# message is lost (each is still on the server or stored), a failing kpop says
# why, and a clean run afterwards stores everything at most twice and empties the
# server; kpopd serves again.  KP_FAULT_DEBUG=1 prints each injected fault and
# kpop's first words about it.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

shim=$E2E_DIR/faultinject.so
if ! gcc -shared -fPIC -o "$shim" "$KP_TOP_SRCDIR/tests/lib/faultinject.c" -ldl \
	2>"$E2E_DIR/cc.log"; then
	t_fail "the fault-injection shim builds" "$(cat "$E2E_DIR/cc.log")"
	t_summary
	exit 1
fi
md=$(mk_maildir alice)
work=$E2E_DIR/c          # everything kpop writes: its stores and its state
flog=$E2E_DIR/faults     # the shim's reports, from any uid
mkdir -p "$flog"
chmod 1777 "$flog"
NMSG=3
# at most this many steps of one call are failed (spread over all of them)
STEPS_MAX=${KP_FAULT_STEPS_MAX:-10}

reset_server() {
	rm -f "$md"/new/* "$md"/cur/* "$md"/.kpopd.sizes
	local i
	for i in $(seq $NMSG); do
		printf 'From: bob@kpop.test\nSubject: fault test %s\n\nbody %s\n' "$i" "$i" \
			>"$md/new/100000000$i.M$i.fault"
	done
	chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"
}

# stored KIND I: how often message I is in kpop's store
stored() {
	if [ "$1" = mbox ]; then
		grep -c "^Subject: fault test $2\$" "$work/out.mbox" 2>/dev/null
	else
		cat "$work"/out/new/* 2>/dev/null | grep -c "^Subject: fault test $2\$"
	fi
}

on_server() { [ -f "$md/new/100000000$1.M$1.fault" ] || [ -n "$(ls "$md"/cur/100000000"$1".M"$1".fault* 2>/dev/null)" ]; }

dest() { if [ "$1" = mbox ]; then echo "--mbox $work/out.mbox"; else echo "--maildir $work/out"; fi; }

# fetch KIND [VAR=VALUE...]: kpop fetch --delete into KIND with extra environment
fetch() {
	local kind=$1
	shift
	# shellcheck disable=SC2046
	env XDG_STATE_HOME="$work/state" "$@" "$KPOP" -H localhost -p "$KPOPD_PORT" -t 20 \
		$(dest "$kind") --delete fetch
}

# the steps to fail of a call that was made COUNT times: all, or STEPS_MAX of them
steps() {
	local count=$1
	if [ "$count" -le "$STEPS_MAX" ]; then
		seq "$count"
	else
		seq 1 $(((count + STEPS_MAX - 1) / STEPS_MAX)) "$count"
	fi
}

# check WHAT KIND RC ERRFILE: after a faulty run, then a clean one
check() {
	local what=$1 kind=$2 rc=$3 err=$4 i lost="" twice="" rc2
	for i in $(seq $NMSG); do
		on_server "$i" || [ "$(stored "$kind" "$i")" -ge 1 ] || lost="$lost $i"
	done
	if [ -n "$lost" ]; then
		t_fail "$what: no message lost" "message(s)$lost neither on the server nor stored (kpop exit $rc: $(head -c 300 "$err"))"
		return
	fi
	if [ "$rc" -ne 0 ] && ! grep -q '^kpop: ' "$err"; then
		t_fail "$what: kpop says why it failed" "exit $rc, stderr: $(head -c 300 "$err")"
		return
	fi
	fetch "$kind" >/dev/null 2>"$work/clean.err"
	rc2=$?
	for i in $(seq $NMSG); do
		local n
		n=$(stored "$kind" "$i")
		[ "$n" -ge 1 ] && [ "$n" -le 2 ] || twice="$twice $i:$n"
	done
	if [ "$rc2" -ne 0 ] || [ -n "$twice" ] || [ "$(count_msgs "$md")" -ne 0 ]; then
		t_fail "$what: a clean run then stores all and empties the server" "exit $rc2, counts$twice, left $(count_msgs "$md"): $(head -c 300 "$work/clean.err")"
		return
	fi
	t_pass "$what: nothing lost${rc:+ (kpop exit $rc)}"
}

errno_for() {
	case "$1" in
	write|open|openat|linkat|ftruncate) echo ENOSPC ;;
	*) echo EIO ;;
	esac
}

kpopd_start -o worker_max_sessions=1 || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }

# --- kpop's delivery and state file --------------------------------------------
for kind in maildir mbox; do
	reset_server
	rm -rf "$work"
	mkdir -p "$work"
	fetch "$kind" KP_FAULT_COUNT="$E2E_DIR/count.$kind" KP_FAULT_MATCH="$work/" \
		LD_PRELOAD="$shim" >/dev/null 2>&1
	t_expect_eq "$kind: the counting run stores all $NMSG" "$NMSG" \
		"$(for i in $(seq $NMSG); do stored "$kind" "$i"; done | grep -c '^1$')"
	for func in write fsync open openat linkat unlinkat rename ftruncate; do
		count=$(grep -c "^$func\$" "$E2E_DIR/count.$kind" 2>/dev/null)
		[ "${count:-0}" -gt 0 ] || continue
		for n in $(steps "$count"); do
			reset_server
			rm -rf "$work"
			mkdir -p "$work"
			fetch "$kind" KP_FAULT="$func:$n:$(errno_for "$func")" KP_FAULT_MATCH="$work/" \
				KP_FAULT_LOG="$flog/log" LD_PRELOAD="$shim" >/dev/null 2>"$work/fault.err"
			rc=$?
			[ -z "${KP_FAULT_DEBUG:-}" ] || { echo "DEBUG $kind $func $n rc=$rc"; cat "$flog/log"; : >"$flog/log"; head -3 "$work/fault.err"; }
			check "kpop $kind, $func $n/$count fails ($(errno_for "$func"))" "$kind" $rc \
				"$work/fault.err"
		done
	done
done
# a full disk: every write from the Nth on fails
reset_server
rm -rf "$work"
mkdir -p "$work"
fetch maildir KP_FAULT="write:2:ENOSPC:sticky" KP_FAULT_MATCH="$work/" LD_PRELOAD="$shim" \
	>/dev/null 2>"$work/fault.err"
rc=$?
check "kpop maildir, the disk fills up at the 2nd write" maildir $rc "$work/fault.err"
t_expect_eq "a full disk: kpop exits non-zero" 1 "$([ $rc -ne 0 ] && echo 1 || echo 0)"

# --- malloc at points through a whole kpop run ----------------------------------
reset_server
rm -rf "$work"
mkdir -p "$work"
fetch maildir KP_FAULT="malloc:0:ENOMEM" KP_FAULT_COUNT="$E2E_DIR/count.malloc" \
	LD_PRELOAD="$shim" >/dev/null 2>&1
count=$(grep -c '^malloc$' "$E2E_DIR/count.malloc" 2>/dev/null)
for n in $(steps "${count:-0}"); do
	reset_server
	rm -rf "$work"
	mkdir -p "$work"
	fetch maildir KP_FAULT="malloc:$n:ENOMEM" LD_PRELOAD="$shim" >/dev/null 2>"$work/fault.err"
	rc=$?
	if [ $rc -ge 128 ]; then
		t_fail "kpop, malloc $n/$count fails: no crash" "killed by signal $((rc - 128)): $(head -c 300 "$work/fault.err")"
		continue
	fi
	check "kpop, malloc $n/$count fails" maildir $rc "$work/fault.err"
done

# --- kpopd's session on the maildrop ---------------------------------------------
# each session is a fresh worker (worker_max_sessions=1), whose counts start at 0
srv_start() { # [VAR=VALUE...]: kpopd with the shim in its environment
	kpopd_stop
	KPOPD_WRAP="env LD_PRELOAD=$shim KP_FAULT_MATCH=$md $*" kpopd_start -o worker_max_sessions=1
}
reset_server
rm -rf "$work" "$flog"/count.srv
mkdir -p "$work"
srv_start KP_FAULT_COUNT="$flog/count.srv" || t_fail "kpopd with the shim starts" "see log"
fetch maildir >/dev/null 2>&1
t_expect_eq "kpopd counting run: all $NMSG fetched" "$NMSG" \
	"$(for i in $(seq $NMSG); do stored maildir "$i"; done | grep -c '^1$')"
for func in openat read fsync write rename renameat unlinkat; do
	count=$(grep -c "^$func\$" "$flog/count.srv" 2>/dev/null)
	[ "${count:-0}" -gt 0 ] || continue
	for n in $(steps "$count"); do
		reset_server
		rm -rf "$work"
		mkdir -p "$work"
		srv_start KP_FAULT="$func:$n:EIO" KP_FAULT_LOG="$flog/log" ||
			{ t_fail "kpopd with the shim starts" "see log"; continue; }
		fetch maildir >/dev/null 2>"$work/fault.err"
		rc=$?
		kpopd_stop
		kpopd_start -o worker_max_sessions=1 || t_fail "kpopd restarts" "see log"
		check "kpopd, $func $n/$count on the maildrop fails (EIO)" maildir $rc "$work/fault.err"
	done
done
t_expect_match "faults were injected (the shim's log)" "^[a-z]+ [0-9]+ E" "$(head -n 1 "$flog/log" 2>/dev/null)"
grep -q 'kpopd' "$KPOPD_LOG" && t_pass "kpopd logged" || t_fail "kpopd logged" "empty log"
t_summary
