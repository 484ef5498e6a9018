#!/usr/bin/env bash
# tests/e2e/security.sh - issue 16's local-user attacks on a ROOT kpopd, each run by
# an unprivileged test user with her own ticket: the ~/Maildir symlink race, a link
# to a root-owned directory, a link to another user's Maildir, root@REALM, a system
# account; a non-root kpopd; the uid a logged-in session runs as.
#
# It needs root.  The test users get real passwd entries without touching /etc: the
# tests run in a private mount namespace (unshare -m --propagation private) whose
# root is a tmpfs of mode 0755 with /usr, /tmp, /dev, /proc and the source and build
# trees bind-mounted (at the same paths), /etc bind-mounted read-only, and a test
# copy of passwd and group bind-mounted over the namespace's /etc/passwd and
# /etc/group; homes live in the tmpfs; then chroot.  Without root, or if the
# namespace cannot be made, every case is reported as SKIP with the reason.
#
# The race is bounded: at most SEC_RACE_TRIES logins (today's kpopd loses within a
# few dozen).
#
# Phases (the same file): host (sourced lib.sh, principals, counts) -> --ns DIR
# (inside unshare: builds the root) -> --chroot DIR (inside it: the tests).

# shellcheck disable=SC2088 # "~/Maildir" is text here
SEC_CASES=(
	"a logged-in session runs as the user's uid and gid"
	"a logged-in session has the user's supplementary groups"
	"symlink race on ~/Maildir: the root-only file is never listed (every try authenticated)"
	"symlink race on ~/Maildir: the root-only file is never sent"
	"symlink race on ~/Maildir: the root-only file is never deleted"
	"~/Maildir -> a root-owned dir with cur -> a root-only dir: refused"
	"~/Maildir -> a root-owned dir: the root-only file is never sent or deleted"
	"~/Maildir -> ~bob/Maildir: alice is refused"
	"~/Maildir -> ~bob/Maildir: bob's mail is intact"
	"~/Maildir -> ~bob/Maildir: the log says the Maildir is not alice's"
	"~/Maildir -> ~bob/Maildir: bob still reads his 2 messages"
	"~/Maildir/cur -> another directory of hers: its messages are not listed"
	"root@REALM is refused"
	"root@REALM: the refusal is logged"
	"a system account (uid < min_uid) is refused"
	"a system account: the refusal is logged"
	"a non-root kpopd serves its own uid's Maildir, not one owned by another uid"
	"system-user mode: the session's front (TLS, AUTHORIZATION) runs as worker_user"
	"system-user mode: the front cannot open the keytab"
	"system-user mode: the session parent logs the session, the front says nothing"
	"system-user mode: AUTH GSSAPI with a privacy layer fetches and deletes byte-exact"
	"system-user mode: KPOP fetches and deletes byte-exact"
	"worker_chroot: the front's root directory is the empty directory"
	"worker_chroot: AUTH GSSAPI with a privacy layer fetches from a chrooted front"
	"inetd mode as root: the session is split too, and a privacy-layer fetch works"
	"system-user mode: expire_days 0 removes the RETR'd message at QUIT, the state file is the user's"
	"system-user mode: a second login within login_delay gets -ERR [LOGIN-DELAY]"
	"system-user mode: kpopd -s lists the logged-in session as transaction, with its user and mechanism"
	"passwd_cache_sec: a passwd change within the TTL is not seen (the answer is cached)"
	"passwd_cache_sec: once the TTL has passed the new entry is read (now a system account: refused)"
)
SEC_RACE_TRIES=300
SEC_SECRET="ROOT-ONLY-SECRET-f00d1e"
SEC_SYS_USER=kpsys

# --- phase 3: inside the chroot ------------------------------------------------

sec_children() { # PID: its child processes
	local p
	if [ -r "/proc/$1/task/$1/children" ]; then
		tr ' ' '\n' <"/proc/$1/task/$1/children" | grep -E '^[0-9]+$'
		return
	fi
	for p in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

# as_user_exec USER CMD...: become CMD run as USER (uid, gid, no supplementary
# groups), in her home, with a clean environment and her own ticket.  Call it with
# & (then $! is CMD itself, to stop by PID) or through as_user.
as_user_exec() {
	local u=$1 uid gid
	shift
	uid=$(id -u "$u") gid=$(id -g "$u")
	[ -z "${SEC_FIXED_IDS:-}" ] || read -r uid gid <<<"$SEC_FIXED_IDS" # passwd being changed
	cd "/home/$u" || exit 1
	# (the sanitizer tier's options go through: without LSAN_OPTIONS' suppression
	# file the one explained libsasl2 leak fails every kpop run by a test user)
	exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env -i PATH=/usr/bin:/bin HOME="/home/$u" USER="$u" LOGNAME="$u" \
		KRB5_CONFIG=/krb5.conf KRB5CCNAME="FILE:/home/$u/krb5cc" \
		${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
		${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
		${LSAN_OPTIONS:+LSAN_OPTIONS="$LSAN_OPTIONS"} \
		PYTHONDONTWRITEBYTECODE=1 "$@"
}
as_user() { (as_user_exec "$@"); }

# kpop_as USER [kpop args...]: kpop as USER against the kpopd under test (the root
# one, or alice's on SEC_PORT2); output in $OUT.
kpop_as() {
	local u=$1
	shift
	OUT=$(as_user "$u" timeout 20 "$KPOP" -H localhost -p "${SEC_PORT2:-$SEC_PORT}" -t 10 "$@" 2>&1)
}

log_mark() { SEC_MARK=$(wc -l <"$SEC_LOG"); }
log_since() { tail -n +"$((SEC_MARK + 1))" "$SEC_LOG"; }

mk_user_maildir() { # USER: an empty Maildir of hers, mode 0755; prints its path
	local md=/home/$1/Maildir
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	chown -R "$1:$1" "$md"
	chmod -R 0755 "$md"
	printf '%s\n' "$md"
}

reset_secret() {
	mkdir -p /secret
	chmod 0700 /secret
	printf 'Subject: %s\n\nroot only\n' "$SEC_SECRET" >/secret/shadow
	chmod 0600 /secret/shadow
}

# fetched_secret USER: did anything USER fetched carry the secret?
fetched_secret() {
	grep -rqs "$SEC_SECRET" "/home/$1/got"
}

reset_got() {
	rm -rf "/home/$1/got"
	mkdir -p "/home/$1/got/new" "/home/$1/got/cur" "/home/$1/got/tmp"
	chown -R "$1:$1" "/home/$1/got"
}

sec_stop_all() {
	local p
	for p in $SEC_PIDS; do stop_pid "$p"; done
	SEC_PIDS=""
}

sec_finish() {
	sec_stop_all
	echo "$T_PASS $T_FAIL $T_SKIP" >"$SEC_DIR/ns.counts"
}

sec_start_kpopd() { # LOG PORT [as USER]: a root (or USER's) kpopd; sets SEC_KPID
	local log=$1 port=$2 user=${3:-} pidfile keytab rcache
	if [ -z "$user" ]; then
		pidfile=$SEC_DIR/kpopd-root.pid keytab=$KPOP_TEST_DIR/kpopd.keytab
		rcache=$KPOP_TEST_DIR/rcache
		"$KPOPD" -F -o log=stderr -o log_level=debug -o keytab="$keytab" \
			-o rcache_dir="$rcache" -o pidfile="$pidfile" -o maildir=%h/Maildir \
			-o auth_failure_delay_ms=0 -L "127.0.0.1:$port pop3" $SEC_XOPT \
			-o control_socket="$SEC_DIR/kpopd-root.ctl" \
			${SEC_KPORT:+-L "127.0.0.1:$SEC_KPORT kpop"} >>"$log" 2>&1 &
	else
		pidfile=/home/$user/kpopd.pid keytab=/home/$user/kpopd.keytab
		rcache=/home/$user/rcache
		as_user_exec "$user" "$KPOPD" -F -o log=stderr -o log_level=debug -o keytab="$keytab" \
			-o rcache_dir="$rcache" -o pidfile="$pidfile" -o maildir=%h/Maildir \
			-o auth_failure_delay_ms=0 -L "127.0.0.1:$port pop3" >>"$log" 2>&1 &
	fi
	SEC_KPID=$!
	SEC_PIDS="$SEC_PIDS $SEC_KPID"
	wait_port "$port" 5 && kill -0 "$SEC_KPID" 2>/dev/null
}

sec_tests() {
	SEC_DIR=$1
	. "$KP_TOP_SRCDIR/tests/lib/common.sh"
	SEC_PIDS=""
	trap sec_finish EXIT
	trap 'exit 143' TERM INT
	SEC_LOG=$SEC_DIR/kpopd-root.log
	: >"$SEC_LOG"

	# Homes, tickets, a krb5.conf everyone can read.
	cp "$KRB5_CONFIG" /krb5.conf
	chmod 0644 /krb5.conf
	local u
	for u in alice bob "$SEC_SYS_USER"; do
		mkdir -p "/home/$u"
		chown "$u:$u" "/home/$u"
		chmod 0755 "/home/$u"
	done
	bash "$KP_TOP_SRCDIR/kdc-test/kdc-test.sh" kinit "$KPOP_TEST_DIR" alice /home/alice/krb5cc
	bash "$KP_TOP_SRCDIR/kdc-test/kdc-test.sh" kinit "$KPOP_TEST_DIR" bob /home/bob/krb5cc
	echo root-pw | kinit -c FILE:/root/krb5cc "root@$KPOP_TEST_REALM" >/dev/null
	echo kpsys-pw | kinit -c "FILE:/home/$SEC_SYS_USER/krb5cc" "$SEC_SYS_USER@$KPOP_TEST_REALM" >/dev/null
	for u in alice bob "$SEC_SYS_USER"; do
		chown "$u:$u" "/home/$u/krb5cc"
		chmod 0600 "/home/$u/krb5cc"
	done
	reset_got alice
	reset_secret

	SEC_PORT=$(free_port)
	SEC_KPORT=$(free_port)
	if ! sec_start_kpopd "$SEC_LOG" "$SEC_PORT"; then
		local c
		for c in "${SEC_CASES[@]}"; do t_fail "$c" "the root kpopd did not start: $(tail -n 3 "$SEC_LOG")"; done
		return
	fi
	local root_kpopd=$SEC_KPID

	# 1. The uid of a logged-in session: alice has no Maildir yet (a new user), so
	# nothing on disk names her; the passwd entry alone must.
	rm -rf /home/alice/Maildir /home/alice/holding
	cat >/home/alice/hold.script <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice.*
TOUCH /home/alice/holding
HOLD 15
EOS
	as_user_exec alice python3 "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$SEC_PORT" \
		/home/alice/hold.script >"$SEC_DIR/hold.out" 2>&1 &
	local holder=$! i child="" st=""
	for i in $(seq 200); do
		[ -e /home/alice/holding ] && break
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.05
	done
	if [ -e /home/alice/holding ]; then
		# the process that serves her session logs its pid with the login
		child=$(sed -nE 's/.*login user=alice .* pid=([0-9]+).*/\1/p' "$SEC_LOG" | tail -n 1)
		[ -n "$child" ] && st=$(cat "/proc/$child/status" 2>/dev/null)
	fi
	if [ -z "$st" ]; then
		t_fail "${SEC_CASES[0]}" "no logged-in session to look at: $(cat "$SEC_DIR/hold.out")"
		t_fail "${SEC_CASES[1]}" "no logged-in session to look at"
	else
		t_expect_eq "${SEC_CASES[0]}" "2001 2001 2001 2001 / 2001 2001 2001 2001" \
			"$(printf '%s\n' "$st" | awk '/^Uid:/ {u=$2" "$3" "$4" "$5} /^Gid:/ {g=$2" "$3" "$4" "$5} END {print u" / "g}')"
		t_expect_eq "${SEC_CASES[1]}" "2001 2100" \
			"$(printf '%s\n' "$st" | awk '/^Groups:/ {for (i = 2; i <= NF; i++) print $i}' | sort -n | tr '\n' ' ' | sed 's/ $//')"
	fi
	# 1a. kpopd -s: the session parent said LOGIN to the master, so the held
	# session is in TRANSACTION with alice and GSSAPI, not still "authorization".
	local status
	status=$("$KPOPD" -s -o control_socket="$SEC_DIR/kpopd-root.ctl" 2>&1)
	t_expect_match "${SEC_CASES[27]}" \
		"^${child:-none} +127\.0\.0\.1:[0-9]+ +alice +GSSAPI +transaction " "$status"
	# 1b. Its front: the session parent's one child, which read every byte alice
	# sent before login; worker_user is the built-in default, absent here: nobody.
	local front="" fst="" nobody
	nobody=$(id -u nobody)
	[ -n "$child" ] && front=$(sec_children "$child" | head -n 1)
	[ -n "$front" ] && fst=$(cat "/proc/$front/status" 2>/dev/null)
	if [ -z "$fst" ]; then
		t_fail "${SEC_CASES[17]}" "no front process under the session parent ${child:-?}"
		t_fail "${SEC_CASES[18]}" "no front process"
	else
		t_expect_eq "${SEC_CASES[17]}" "$nobody $nobody $nobody $nobody" \
			"$(printf '%s\n' "$fst" | awk '/^Uid:/ {print $2" "$3" "$4" "$5}')"
		local held
		held=$(ls -l "/proc/$front/fd" 2>/dev/null | grep -c "kpopd.keytab")
		if [ "$held" -ne 0 ]; then
			t_fail "${SEC_CASES[18]}" "the front holds the keytab open"
		elif setpriv --reuid="$nobody" --regid="$(id -g nobody)" --clear-groups \
			cat "$KPOP_TEST_DIR/kpopd.keytab" >/dev/null 2>&1; then
			t_fail "${SEC_CASES[18]}" "worker_user read $KPOP_TEST_DIR/kpopd.keytab"
		else
			t_pass "${SEC_CASES[18]}"
		fi
	fi
	stop_pid "$holder"
	rm -f /home/alice/holding
	local n_login n_logout
	for i in $(seq 50); do
		grep -q "logout user=alice" "$SEC_LOG" && break
		sleep 0.1
	done
	n_login=$(grep -c "login user=alice .* pid=$child" "$SEC_LOG")
	n_logout=$(grep -c "logout user=alice" "$SEC_LOG")
	t_expect_eq "${SEC_CASES[19]}" "1 1" "$n_login $n_logout"

	# 1c. Whole sessions through the two processes: the layer is the front's, the
	# maildrop the parent's.
	local md mech port want got
	for mech in gssapi kpop; do
		rm -rf /home/alice/Maildir
		md=$(mk_user_maildir alice)
		printf 'Subject: split %s one\n\nbody one\n' "$mech" >"$md/new/1000000010.M1.x"
		printf 'Subject: split %s two\n\n%s\n' "$mech" "$(head -c 30000 /dev/zero | tr '\0' 'z')" \
			>"$md/new/1000000011.M2.x"
		chown alice:alice "$md"/new/*
		want=$(cat "$md"/new/* | md5sum)
		reset_got alice
		if [ "$mech" = gssapi ]; then
			port=$SEC_PORT
			kpop_as alice --maildir /home/alice/got --delete --sasl-layer privacy fetch
		else
			port=$SEC_KPORT
			OUT=$(as_user alice timeout 20 "$KPOP" -H localhost -p "$port" -t 10 -a kpop -u alice \
				--maildir /home/alice/got --delete fetch 2>&1)
		fi
		rc=$?
		got=$(cat /home/alice/got/new/* 2>/dev/null | md5sum)
		t_expect_eq "${SEC_CASES[$([ "$mech" = gssapi ] && echo 20 || echo 21)]}" \
			"0 2 $want 0" "$rc $(find /home/alice/got/new -type f | wc -l) $got \
$(find "$md/new" "$md/cur" -type f | wc -l)"
		[ $rc -eq 0 ] || printf '    %s\n' "$OUT"
	done
	rm -rf /home/alice/Maildir

	# 1d. worker_chroot: the front runs in an empty root-owned directory, and can
	# still import the GSS context for the layer.
	local cport cpid clog=$SEC_DIR/kpopd-chroot.log cfront="" cparent=""
	mkdir -p /var/empty-kpopd
	chmod 0755 /var/empty-kpopd
	# the copy of krb5.conf a chroot needs for the layer (kpopd.conf(5))
	mkdir -p "/var/empty-kpopd$(dirname "$KRB5_CONFIG")"
	cp "$KRB5_CONFIG" "/var/empty-kpopd$KRB5_CONFIG"
	cport=$(free_port)
	"$KPOPD" -F -o log=stderr -o log_level=debug -o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
		-o rcache_dir="$KPOP_TEST_DIR/rcache" -o pidfile="$SEC_DIR/kpopd-chroot.pid" \
		-o maildir=%h/Maildir -o auth_failure_delay_ms=0 -o worker_chroot=/var/empty-kpopd \
		-L "127.0.0.1:$cport pop3" >>"$clog" 2>&1 &
	cpid=$!
	SEC_PIDS="$SEC_PIDS $cpid"
	md=$(mk_user_maildir alice)
	printf 'Subject: chrooted\n\nfrom a chrooted front\n' >"$md/new/1000000020.M1.x"
	chown alice:alice "$md"/new/*
	if wait_port "$cport" 5; then
		as_user_exec alice python3 "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$cport" \
			/home/alice/hold.script >"$SEC_DIR/hold2.out" 2>&1 &
		holder=$!
		for i in $(seq 200); do
			[ -e /home/alice/holding ] && break
			kill -0 "$holder" 2>/dev/null || break
			sleep 0.05
		done
		cparent=$(sed -nE 's/.*login user=alice .* pid=([0-9]+).*/\1/p' "$clog" | tail -n 1)
		[ -n "$cparent" ] && cfront=$(sec_children "$cparent" | head -n 1)
		t_expect_eq "${SEC_CASES[22]}" "/var/empty-kpopd" \
			"$([ -n "$cfront" ] && readlink "/proc/$cfront/root")"
		stop_pid "$holder"
		rm -f /home/alice/holding
		reset_got alice
		OUT=$(as_user alice timeout 20 "$KPOP" -H localhost -p "$cport" -t 10 \
			--maildir /home/alice/got --delete --sasl-layer privacy fetch 2>&1)
		rc=$?
		t_expect_eq "${SEC_CASES[23]}" "0 1 0" "$rc $(grep -rl 'from a chrooted front' \
/home/alice/got/new | wc -l) $(find "$md/new" "$md/cur" -type f | wc -l)"
		[ $rc -eq 0 ] || { printf "    %s\n" "$OUT"; grep -m3 "security layer" "$clog" | sed "s/^/    /"; }
	else
		t_fail "${SEC_CASES[22]}" "kpopd with worker_chroot did not start: $(tail -n 3 "$clog")"
		t_fail "${SEC_CASES[23]}" "no kpopd"
	fi
	stop_pid "$cpid"
	rm -rf /home/alice/Maildir

	# 1e. kpopd -i as root (socat plays inetd): the same two processes
	local iport ipid ilog=$SEC_DIR/kpopd-inetd.log
	iport=$(free_port)
	socat "TCP-LISTEN:$iport,bind=127.0.0.1,reuseaddr,fork" \
		EXEC:"$KPOPD -i -o log=stderr -o log_level=debug -o keytab=$KPOP_TEST_DIR/kpopd.keytab -o rcache_dir=$KPOP_TEST_DIR/rcache -o maildir=%h/Maildir -o auth_failure_delay_ms=0" \
		2>>"$ilog" &
	ipid=$!
	SEC_PIDS="$SEC_PIDS $ipid"
	md=$(mk_user_maildir alice)
	printf 'Subject: inetd\n\nserved by kpopd -i\n' >"$md/new/1000000030.M1.x"
	chown alice:alice "$md"/new/*
	reset_got alice
	if wait_port "$iport" 5; then
		OUT=$(as_user alice timeout 20 "$KPOP" -H localhost -p "$iport" -t 10 \
			--maildir /home/alice/got --delete --sasl-layer privacy fetch 2>&1)
		rc=$?
		t_expect_eq "${SEC_CASES[24]}" "0 1 0 1" "$rc $(grep -rl 'served by kpopd -i' \
/home/alice/got/new | wc -l) $(find "$md/new" "$md/cur" -type f | wc -l) \
$(grep -c 'login user=alice .*uid=2001' "$ilog")"
		[ $rc -eq 0 ] || { printf "    %s\n" "$OUT"; tail -n 5 "$ilog" | sed "s/^/    /"; }
	else
		t_fail "${SEC_CASES[24]}" "socat did not listen: $(tail -n 3 "$ilog")"
	fi
	stop_pid "$ipid"
	rm -rf /home/alice/Maildir

	# 1f. LOGIN-DELAY and EXPIRE in system-user mode: the session parent, as alice,
	# keeps the state in her Maildir.
	local pport ppid plog=$SEC_DIR/kpopd-policy.log
	pport=$(free_port)
	"$KPOPD" -F -o log=stderr -o log_level=debug -o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
		-o rcache_dir="$KPOP_TEST_DIR/rcache" -o pidfile="$SEC_DIR/kpopd-policy.pid" \
		-o maildir=%h/Maildir -o auth_failure_delay_ms=0 -o login_delay=3600 \
		-o expire_days=0 -L "127.0.0.1:$pport pop3" >>"$plog" 2>&1 &
	ppid=$!
	SEC_PIDS="$SEC_PIDS $ppid"
	md=$(mk_user_maildir alice)
	printf 'Subject: p1\n\none\n' >"$md/new/1000000030.M1.x"
	printf 'Subject: p2\n\ntwo\n' >"$md/new/1000000031.M2.x"
	chown alice:alice "$md"/new/*
	cat >/home/alice/policy.script <<EOS
S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 2 messages.*
C: RETR 1
S~ \+OK .*
S: Subject: p1
S:
S: one
S: .
C: QUIT
S: +OK kpopd signing off (1 messages deleted, 1 left)
EOS
	cat >/home/alice/delay.script <<EOS
S~ \+OK .*
AUTH
S~ -ERR \[LOGIN-DELAY\] .*
EOF
EOS
	if wait_port "$pport" 5; then
		OUT=$(as_user alice python3 "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$pport" \
			/home/alice/policy.script 2>&1)
		rc=$?
		t_expect_eq "${SEC_CASES[25]}" "0 1 2001 600" "$rc $(find "$md/new" "$md/cur" -type f | \
wc -l) $(stat -c '%u %a' "$md/.kpopd.state" 2>&1)"
		[ $rc -eq 0 ] || printf '    %s\n' "$OUT"
		OUT=$(as_user alice python3 "$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$pport" \
			/home/alice/delay.script 2>&1)
		rc=$?
		t_expect_eq "${SEC_CASES[26]}" "0 1" "$rc $(find "$md/new" "$md/cur" -type f | wc -l)"
		[ $rc -eq 0 ] || printf '    %s\n' "$OUT"
	else
		t_fail "${SEC_CASES[25]}" "kpopd with policies did not start: $(tail -n 3 "$plog")"
		t_fail "${SEC_CASES[26]}" "no kpopd"
	fi
	stop_pid "$ppid"
	rm -rf /home/alice/Maildir

	# 2. The race: ~/Maildir absent, toggled to a link to ~/evil whose cur is a link to
	# a root-only directory, while alice logs in and fetches with --delete.
	mkdir -p /home/alice/evil
	ln -sfn /secret /home/alice/evil/cur
	chown -h alice:alice /home/alice/evil /home/alice/evil/cur
	rm -rf /home/alice/Maildir
	reset_secret
	log_mark
	as_user_exec alice python3 -c '
import os, sys, time
link, target = sys.argv[1:3]
end = time.time() + 60
while time.time() < end:
    for _ in range(2000):
        try:
            os.symlink(target, link)
        except FileExistsError:
            pass
        try:
            os.unlink(link)
        except FileNotFoundError:
            pass
' /home/alice/Maildir /home/alice/evil &
	local toggler=$!
	SEC_PIDS="$SEC_PIDS $toggler"
	# the logins: one Python client (tests/pop3tcp.py, transcript.py) logging in
	# again and again, fetching and deleting whatever a session lists
	cat >/home/alice/race.py <<'PY'
import os, re, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
import time  # noqa: E402
import pop3tcp, transcript  # noqa: E402
port, tries, outdir = sys.argv[2], int(sys.argv[3]), sys.argv[4]


def session():
    """A connection with a +OK greeting (sessions that just ended may still count
    against the per-address cap for a moment: wait for them, it is not a try)."""
    for _ in range(100):
        s = pop3tcp.TcpSession("127.0.0.1", port)
        if s.line().startswith("+OK"):
            return s
        s.close()
        time.sleep(0.05)
    raise OSError("no +OK greeting")


done = 0
for i in range(tries):
    done += 1
    n = 0
    try:
        s = session()
        r = transcript.gssapi_auth(s, "")
        m = re.match(r"\+OK Logged in as \S+, (\d+) messages", r)
        n = int(m.group(1)) if m else 0
        for k in range(1, n + 1):
            s.send(b"RETR %d\r\n" % k)
            if s.line().startswith("+OK"):
                body = []
                while True:
                    ln = s.line()
                    if ln == ".":
                        break
                    body.append(ln)
                with open(os.path.join(outdir, "try%d.%d" % (done, k)), "w") as f:
                    f.write("\n".join(body) + "\n")
            s.send(b"DELE %d\r\n" % k)
            s.line()
        if m:
            s.send(b"QUIT\r\n")
            s.line()
        s.close()
    except (OSError, EOFError, AssertionError):
        pass
    if n > 0:
        break
print(done)
PY
	local tries won=""
	tries=$(as_user alice python3 /home/alice/race.py "$KP_TOP_SRCDIR" "$SEC_PORT" \
		"$SEC_RACE_TRIES" /home/alice/got/new 2>"$SEC_DIR/race.err")
	if fetched_secret alice || [ ! -e /secret/shadow ] ||
	   log_since | grep -Eq "login user=alice .*messages=[1-9]"; then
		won="after $tries logins"
	fi
	stop_pid "$toggler"
	rm -f /home/alice/Maildir
	local authed
	authed=$(log_since | grep -c 'auth ok .*principal=alice@')
	if log_since | grep -Eq "login user=alice .*messages=[1-9]"; then
		t_fail "${SEC_CASES[2]}" "a session listed messages $won: $(log_since | grep -E 'login user=alice .*messages=[1-9]' | head -n 1)"
	elif [ "$authed" != "$tries" ]; then
		# not vacuous: alice's ticket must have been accepted on every try
		t_fail "${SEC_CASES[2]}" "only $authed of ${tries:-?} tries authenticated: $(tail -n 3 "$SEC_DIR/race.err") $(log_since | tail -n 3)"
	else
		t_pass "${SEC_CASES[2]}"
	fi
	if fetched_secret alice; then
		t_fail "${SEC_CASES[3]}" "alice fetched /secret/shadow $won"
	else
		t_pass "${SEC_CASES[3]}"
	fi
	if [ -e /secret/shadow ]; then
		t_pass "${SEC_CASES[4]}"
	else
		t_fail "${SEC_CASES[4]}" "/secret/shadow was deleted $won"
	fi

	# 3. No race: ~/Maildir -> /rootdir (root-owned, 0755), /rootdir/cur -> /secret.
	reset_secret
	reset_got alice
	mkdir -p /rootdir
	chmod 0755 /rootdir
	ln -sfn /secret /rootdir/cur
	ln -sfn /rootdir /home/alice/Maildir
	chown -h alice:alice /home/alice/Maildir
	log_mark
	kpop_as alice --maildir /home/alice/got --delete fetch
	local rc=$?
	if [ $rc -ne 0 ] && ! log_since | grep -Eq "login user=alice"; then
		t_pass "${SEC_CASES[5]}"
	else
		t_fail "${SEC_CASES[5]}" "kpop exit $rc: $OUT / $(log_since | grep -E 'login|refused|cannot' | head -n 2)"
	fi
	if fetched_secret alice || [ ! -e /secret/shadow ]; then
		t_fail "${SEC_CASES[6]}" "fetched: $(fetched_secret alice && echo yes || echo no), /secret/shadow present: $([ -e /secret/shadow ] && echo yes || echo no)"
	else
		t_pass "${SEC_CASES[6]}"
	fi
	rm -f /home/alice/Maildir

	# 4. ~/Maildir -> ~bob/Maildir (readable by all, as many sites have them).
	local bmd
	bmd=$(mk_user_maildir bob)
	for i in 1 2; do
		printf 'Subject: for bob %s\n\nbob private %s\n' "$i" "$i" >"$bmd/new/100000000$i.M$i.bob"
	done
	chown bob:bob "$bmd"/new/*
	chmod 0644 "$bmd"/new/*
	reset_got alice
	ln -sfn "$bmd" /home/alice/Maildir
	chown -h alice:alice /home/alice/Maildir
	log_mark
	kpop_as alice --maildir /home/alice/got --delete fetch
	rc=$?
	if [ $rc -ne 0 ] && ! log_since | grep -q "login user=alice"; then
		t_pass "${SEC_CASES[7]}"
	else
		t_fail "${SEC_CASES[7]}" "kpop exit $rc: $OUT"
	fi
	t_expect_eq "${SEC_CASES[8]}" "2 0" \
		"$(find "$bmd/new" "$bmd/cur" -type f | wc -l) $(grep -rls 'bob private' /home/alice/got | wc -l)"
	t_expect_match "${SEC_CASES[9]}" "[Nn]ot owned|owned by|owner" "$(log_since | grep -i "alice")"
	rm -f /home/alice/Maildir
	kpop_as bob list
	rc=$?
	t_expect_eq "${SEC_CASES[10]}" "0: 2 messages" "$rc: $(printf '%s\n' "$OUT" | grep -Eo '^[0-9]+ messages' | head -n 1)"

	# 5. Her own Maildir, but cur is a symlink (to a directory of hers with a
	# message): new/ and cur/ are opened without following links.
	local amd
	amd=$(mk_user_maildir alice)
	rmdir "$amd/cur"
	mkdir -p /home/alice/elsewhere
	printf 'Subject: behind a link\n\nelsewhere\n' >/home/alice/elsewhere/1000000001.M1.link
	ln -s /home/alice/elsewhere "$amd/cur"
	chown -hR alice:alice /home/alice/elsewhere "$amd/cur"
	log_mark
	kpop_as alice list
	if log_since | grep -Eq "login user=alice .*messages=[1-9]" ||
	   printf '%s\n' "$OUT" | grep -q "1000000001.M1.link"; then
		t_fail "${SEC_CASES[11]}" "listed: $(printf '%s' "$OUT" | head -n 1)"
	elif ! log_since | grep -q 'auth ok .*principal=alice@'; then
		t_fail "${SEC_CASES[11]}" "alice did not even authenticate: $OUT"
	else
		t_pass "${SEC_CASES[11]}"
	fi
	rm -rf /home/alice/Maildir /home/alice/elsewhere

	# 6. root@REALM, with a Maildir in /root.
	mkdir -p /root/Maildir/new /root/Maildir/cur /root/Maildir/tmp
	printf 'Subject: for root\n\nroot mail\n' >/root/Maildir/new/1000000001.M1.root
	log_mark
	OUT=$(cd / && env KRB5_CONFIG=/krb5.conf KRB5CCNAME=FILE:/root/krb5cc HOME=/root \
		timeout 20 "$KPOP" -H localhost -p "$SEC_PORT" -t 10 list 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && ! log_since | grep -q "login user=root"; then
		t_pass "${SEC_CASES[12]}"
	else
		t_fail "${SEC_CASES[12]}" "kpop exit $rc: $OUT / $(log_since | grep 'login' | head -n 1)"
	fi
	t_expect_match "${SEC_CASES[13]}" "root@$KPOP_TEST_REALM.*(refused|not allowed|denied)" "$(log_since)"

	# 7. A system account below min_uid (default 1000).
	local smd
	smd=$(mk_user_maildir "$SEC_SYS_USER")
	printf 'Subject: for the system account\n\nsys mail\n' >"$smd/new/1000000001.M1.sys"
	chown "$SEC_SYS_USER:$SEC_SYS_USER" "$smd/new/1000000001.M1.sys"
	log_mark
	kpop_as "$SEC_SYS_USER" list
	rc=$?
	if [ $rc -ne 0 ] && ! log_since | grep -q "login user=$SEC_SYS_USER"; then
		t_pass "${SEC_CASES[14]}"
	else
		t_fail "${SEC_CASES[14]}" "kpop exit $rc: $OUT"
	fi
	t_expect_match "${SEC_CASES[15]}" "$SEC_SYS_USER@$KPOP_TEST_REALM.*(refused|not allowed|denied)" "$(log_since)"

	# 7b. passwd_cache_sec: a root kpopd keeping passwd answers 8 s (room for the
	# sanitizer tree's slower logins).  bob logs in;
	# his entry turned into a system account (uid 950) is not seen at once (the
	# cached answer serves), and is once the entry has expired.  Put back after.
	local pkpid rc1 rc2 pw_saved
	pw_saved=$(cat /etc/passwd)
	stop_pid "$root_kpopd" # this one takes its pidfile and control socket for a while
	SEC_PORT2=$(free_port)
	SEC_XOPT="-o passwd_cache_sec=8"
	if sec_start_kpopd "$SEC_LOG" "$SEC_PORT2"; then
		pkpid=$SEC_KPID
		kpop_as bob list
		rc1=$?
		# the first answer was cached before this: it expires by t1 + 8 s (t1 taken
		# after the login, as under ASan a login can take over a second)
		local t1=${EPOCHREALTIME/./}
		SEC_FIXED_IDS="$(id -u bob) $(id -g bob)" # the client stays bob's uid
		awk -F: -v OFS=: '$1 == "bob" {$3 = 950} {print}' <<<"$pw_saved" >/etc/passwd
		log_mark
		kpop_as bob list
		rc2=$?
		t_expect_eq "${SEC_CASES[28]}" "0 0" "$rc1 $rc2"
		# until 8.5 s after the first login ended: its answer has expired
		local left=$((t1 + 8500000 - ${EPOCHREALTIME/./}))
		[ $left -le 0 ] || sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
		log_mark
		kpop_as bob list
		rc2=$?
		if [ $rc2 -ne 0 ] && log_since | grep -q "bob is a system account (uid 950"; then
			t_pass "${SEC_CASES[29]}"
		else
			t_fail "${SEC_CASES[29]}" "kpop exit $rc2: $OUT / $(log_since | grep -i 'bob' | head -n 2)"
		fi
		stop_pid "$pkpid"
	else
		t_fail "${SEC_CASES[28]}" "kpopd with passwd_cache_sec did not start"
		t_fail "${SEC_CASES[29]}" "no kpopd"
	fi
	printf '%s\n' "$pw_saved" >/etc/passwd
	SEC_XOPT="" SEC_PORT2="" SEC_FIXED_IDS=""
	sec_start_kpopd "$SEC_LOG" "$SEC_PORT" || t_fail "the root kpopd restarts" "$(tail -n 3 "$SEC_LOG")"
	root_kpopd=$SEC_KPID

	# 8. A kpopd run as alice (a keytab copy of hers): her own Maildir works; bob's
	# is refused even though alice could read and write it (mode 0777: a shared
	# spool gone wrong), because bob owns it.
	chmod 0777 "$bmd" "$bmd/new" "$bmd/cur" "$bmd/tmp"
	rm -f "$bmd/.kpopd.lock" "$bmd/.kpopd.sizes"
	for i in 3 4; do
		printf 'Subject: for bob %s\n\nbob private %s\n' "$i" "$i" >"$bmd/new/100000000$i.M$i.bob"
	done
	chown bob:bob "$bmd"/new/*
	chmod 0644 "$bmd"/new/*
	stop_pid "$root_kpopd"
	cp "$KPOP_TEST_DIR/kpopd.keytab" /home/alice/kpopd.keytab
	mkdir -p /home/alice/rcache
	chown alice:alice /home/alice/kpopd.keytab /home/alice/rcache
	chmod 0600 /home/alice/kpopd.keytab
	amd=$(mk_user_maildir alice)
	printf 'Subject: for alice\n\nalice mail\n' >"$amd/new/1000000001.M1.alice"
	chown alice:alice "$amd/new/1000000001.M1.alice"
	SEC_LOG=$SEC_DIR/kpopd-alice.log
	: >"$SEC_LOG"
	SEC_PORT2=$(free_port)
	if ! sec_start_kpopd "$SEC_LOG" "$SEC_PORT2" alice; then
		t_fail "${SEC_CASES[16]}" "alice's kpopd did not start: $(tail -n 3 "$SEC_LOG")"
		return
	fi
	local own other
	kpop_as alice list
	rc=$?
	own="$rc $(printf '%s\n' "$OUT" | grep -Eo '^[0-9]+ messages' | head -n 1)"
	log_mark
	kpop_as bob list
	rc=$?
	if [ $rc -ne 0 ] && ! log_since | grep -q "login user=bob"; then
		other=refused
	else
		other="served (exit $rc: $(printf '%s' "$OUT" | head -n 1))"
	fi
	t_expect_eq "${SEC_CASES[16]}" "alice: 0 1 messages; bob: refused" "alice: $own; bob: $other"
	stop_pid "$SEC_KPID"
	SEC_PORT2=""
}

# --- phase 2: inside the new mount namespace, before chroot --------------------

# ns_bind SRC [ro]: SRC at the same path under $R.
ns_bind() {
	local src=$1 dst=$R$1
	[ -e "$dst" ] || mkdir -p "$dst"
	mount --bind "$src" "$dst" || return 1
	if [ "${2:-}" = ro ]; then
		mount -o remount,bind,ro "$dst" || return 1
	fi
}

ns_setup() {
	SEC_DIR=$1
	R=$SEC_DIR/root
	skip() { echo "$*" >"$SEC_DIR/ns.skip"; exit 3; }
	mkdir -p "$R"
	mount -t tmpfs -o mode=0755,size=256m kpop-sec-root "$R" 2>"$SEC_DIR/ns.err" ||
		skip "mounting a tmpfs in the namespace failed: $(cat "$SEC_DIR/ns.err")"
	mkdir -p "$R/usr" "$R/tmp" "$R/dev" "$R/proc" "$R/etc" "$R/home" "$R/root"
	chmod 0700 "$R/root"
	local d
	for d in bin lib lib64 sbin lib32 libx32; do
		if [ -L "/$d" ]; then
			ln -s "$(readlink "/$d")" "$R/$d"
		elif [ -d "/$d" ]; then
			ns_bind "/$d" ro || skip "bind-mounting /$d failed"
		fi
	done
	ns_bind /usr ro || skip "bind-mounting /usr failed"
	ns_bind /tmp || skip "bind-mounting /tmp failed"
	mount --rbind /dev "$R/dev" || skip "bind-mounting /dev failed"
	mount --rbind /proc "$R/proc" || skip "bind-mounting /proc failed"
	ns_bind /etc ro || skip "bind-mounting /etc failed"
	mount --bind "$SEC_DIR/passwd" "$R/etc/passwd" || skip "bind-mounting the test passwd failed"
	mount --bind "$SEC_DIR/group" "$R/etc/group" || skip "bind-mounting the test group failed"
	# the test directory (KDC, logs) when TMPDIR put it outside /tmp
	case "$KP_TMP" in
	/tmp/*) ;;
	*) ns_bind "$KP_TMP" || skip "bind-mounting $KP_TMP failed" ;;
	esac
	# the source and build trees, at the same absolute paths (read-only)
	local t done=" "
	for t in "$KP_TOP_SRCDIR" "$(dirname "$(dirname "$KPOPD")")" "$(dirname "$(dirname "$KPOP")")"; do
		case "$t" in /usr | /usr/* | /tmp | /tmp/*) continue ;; esac
		case "$done" in *" $t "*) continue ;; esac
		done="$done$t "
		ns_bind "$t" ro || skip "bind-mounting $t failed"
	done
	exec chroot "$R" /usr/bin/bash "$KP_TOP_SRCDIR/tests/e2e/security.sh" --chroot "$SEC_DIR"
}

# --- dispatch -------------------------------------------------------------------

case "${1:-}" in
--ns)
	ns_setup "$2"
	exit 1
	;;
--chroot)
	sec_tests "$2"
	exit 0
	;;
esac

# --- phase 1: on the host -------------------------------------------------------
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

skip_all() {
	local c
	for c in "${SEC_CASES[@]}"; do t_skip "$c" "$1"; done
	t_summary
	exit $?
}

[ "$(id -u)" = 0 ] || skip_all "needs root (a root kpopd, setpriv, a private mount namespace); running as uid $(id -u)"
for cmd in unshare setpriv chroot mount kinit kadmin.local timeout; do
	command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 ||
		skip_all "$cmd is not installed"
done
if ! err=$(unshare -m --propagation private true 2>&1); then
	skip_all "unshare -m --propagation private failed: $err"
fi
KP_TOP_SRCDIR=$(cd "$KP_TOP_SRCDIR" && pwd)
KPOPD=$(cd "$(dirname "$KPOPD")" && pwd)/$(basename "$KPOPD")
KPOP=$(cd "$(dirname "$KPOP")" && pwd)/$(basename "$KPOP")
export KP_TOP_SRCDIR KPOPD KPOP

# Test principals for root and a system account (kept if a run already made them).
for p in root:root-pw "$SEC_SYS_USER:kpsys-pw"; do
	PATH=$PATH:/usr/sbin:/sbin kadmin.local -r "$KPOP_TEST_REALM" \
		-q "addprinc -pw ${p#*:} ${p%%:*}" >>"$E2E_DIR/kadmin.log" 2>&1
done

# passwd and group for the namespace: the real ones minus any entry that would
# clash, plus the test users.  A free system uid below 1000 for the system account.
sys_uid=$(awk -F: '{u[$3] = 1} END {for (i = 990; i > 900; i--) if (!(i in u)) {print i; exit}}' /etc/passwd /etc/group)
awk -F: -v s="$SEC_SYS_USER" '$1 != "alice" && $1 != "bob" && $1 != s && $3 != 2001 && $3 != 2002 && $3 != 2100' \
	/etc/passwd >"$E2E_DIR/passwd"
cat >>"$E2E_DIR/passwd" <<EOP
alice:x:2001:2001:Alice Test:/home/alice:/bin/sh
bob:x:2002:2002:Bob Test:/home/bob:/bin/sh
$SEC_SYS_USER:x:$sys_uid:$sys_uid:System account:/home/$SEC_SYS_USER:/usr/sbin/nologin
EOP
awk -F: -v s="$SEC_SYS_USER" '$1 != "alice" && $1 != "bob" && $1 != s && $1 != "kpstaff" && $3 != 2001 && $3 != 2002 && $3 != 2100' \
	/etc/group >"$E2E_DIR/group"
cat >>"$E2E_DIR/group" <<EOG
alice:x:2001:
bob:x:2002:
kpstaff:x:2100:alice
$SEC_SYS_USER:x:$sys_uid:
EOG
chmod 0644 "$E2E_DIR/passwd" "$E2E_DIR/group"

timeout -k 5 150 unshare -m --propagation private -- \
	bash "$KP_TOP_SRCDIR/tests/e2e/security.sh" --ns "$E2E_DIR"
rc=$?
if [ -s "$E2E_DIR/ns.skip" ]; then
	skip_all "$(cat "$E2E_DIR/ns.skip")"
fi
if [ -s "$E2E_DIR/ns.counts" ]; then
	read -r p f s <"$E2E_DIR/ns.counts"
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f)) T_SKIP=$((T_SKIP + s))
	[ $rc -eq 0 ] || t_fail "the namespace tests ended cleanly" "exit status $rc"
else
	t_fail "the namespace tests ran" "exit status $rc, no results"
fi
if [ "${E2E_KEEP:-0}" = 1 ]; then
	echo "logs: $E2E_DIR/kpopd-root.log $E2E_DIR/kpopd-alice.log" >&2
fi
t_summary
