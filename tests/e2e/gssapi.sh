#!/usr/bin/env bash
# tests/e2e/gssapi.sh - kpop fetches from kpopd over AUTH GSSAPI with a real KDC:
# byte-exact delivery (5 MB, dots, no final newline, 8-bit), list, --delete,
# Maildir and mbox sinks.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
md=$(mk_maildir alice)
i=1
for m in big dots nonl binary; do
	put_msg "$md" "100000000$i.M$i.test" "$msgs/$m"
	touch -d "@$((1000000000 + i))" "$md/new/100000000$i.M$i.test"
	i=$((i + 1))
done
# What a client stores: the message with LF line ends and a final newline.
cp "$msgs/nonl" "$msgs/nonl.expected"
printf '\n' >>"$msgs/nonl.expected"

kpopd_start || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }
t_pass "kpopd starts on a free port"

# list
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>"$E2E_DIR/list.err")
rc=$?
t_expect_eq "kpop list exits 0" 0 "$rc"
t_expect_match "kpop list counts 4 messages" "^4 messages" "$out"
t_expect_match "kpop list shows UIDLs" "1000000001.M1.test" "$out"

# fetch into a Maildir, keep on server
out_md=$E2E_DIR/out-maildir
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$out_md" fetch 2>"$E2E_DIR/fetch.err"
rc=$?
t_expect_eq "kpop fetch exits 0" 0 "$rc"
t_expect_eq "4 messages delivered to the Maildir" 4 "$(find "$out_md/new" -type f | wc -l)"
t_expect_eq "nothing deleted without --delete" 4 "$(count_msgs "$md")"
for m in big dots binary nonl; do
	want=$msgs/$m
	[ "$m" = nonl ] && want=$msgs/nonl.expected
	found=0
	for f in "$out_md"/new/*; do
		cmp -s "$f" "$want" && found=1
	done
	if [ $found = 1 ]; then
		t_pass "message '$m' arrives byte for byte"
	else
		t_fail "message '$m' arrives byte for byte" "no delivered file matches $want"
	fi
done
t_expect_eq "Maildir tmp/ is empty after delivery" 0 "$(find "$out_md/tmp" -type f | wc -l)"
if grep -q $'\r' "$E2E_DIR/fetch.err"; then
	t_fail "no progress line when stderr is not a terminal" "found one"
else
	t_pass "no progress line when stderr is not a terminal"
fi
if command -v script >/dev/null; then
	out=$(script -qec "$KPOP -H localhost -p $KPOPD_PORT --maildir $E2E_DIR/out-tty fetch" /dev/null 2>&1)
	t_expect_match "progress line on a terminal" "kpop: 4/4 messages, [0-9.]+ MB" "$out"
else
	t_skip "progress line on a terminal" "script(1) not installed"
fi

# fetch to stdout
"$KPOP" -H localhost -p "$KPOPD_PORT" --stdout fetch >"$E2E_DIR/stdout.out" 2>/dev/null
t_expect_eq "kpop --stdout exits 0" 0 "$?"
if grep -q "Subject: five megabytes" "$E2E_DIR/stdout.out" &&
   grep -q "last line without newline" "$E2E_DIR/stdout.out"; then
	t_pass "kpop --stdout writes the messages"
else
	t_fail "kpop --stdout writes the messages" "content missing"
fi

# fetch into an mbox, then --delete
mbox=$E2E_DIR/mbox
"$KPOP" -H localhost -p "$KPOPD_PORT" --mbox "$mbox" --delete fetch 2>"$E2E_DIR/del.err"
rc=$?
t_expect_eq "kpop --mbox --delete exits 0" 0 "$rc"
t_expect_eq "mbox holds 4 messages" 4 "$(grep -c '^From ' "$mbox")"
t_expect_eq "server maildrop empty after --delete" 0 "$(count_msgs "$md")"
t_expect_eq "lines starting with From are quoted in the mbox" 0 \
	"$(grep -c '^From bob' "$mbox")"

kpopd_stop

# systemd socket activation: a listening socket handed over as fd 3
put_msg "$md" 1000000009.M9.test "$msgs/dots"
read -r act_port act_pid < <("$PYTHON" - "$KPOPD" "$KPOP_TEST_DIR" "$MAILROOT" "$KPOPD_LOG" <<'PY'
import os, socket, sys
kpopd, kdc, mail, log = sys.argv[1:5]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
pid = os.fork()
if pid == 0:
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = "1"
    os.execv(kpopd, [kpopd, "-F", "-o", "log=stderr", "-o", "keytab=%s/kpopd.keytab" % kdc,
                     "-o", "rcache_dir=%s/rcache" % kdc, "-o", "maildir=%s/%%u/Maildir" % mail,
                     "-o", "mail_uid=" + os.environ["KP_MAIL_UID"],
                     "-o", "listen=127.0.0.1:1 pop3"])
print(s.getsockname()[1], pid, flush=True)
PY
)
out=$("$KPOP" -H localhost -p "$act_port" list 2>&1)
t_expect_eq "socket activation: kpop lists through the inherited socket" 0 "$?"
t_expect_match "socket activation: the maildrop is served" "^1 messages" "$out"
if grep -q "(pop3, socket activation)" "$KPOPD_LOG"; then t_pass "socket activation logged"; else t_fail "socket activation logged" "not in log"; fi
stop_pid "$act_pid"

# The size cache (.kpopd.sizes): written after a scan, never trusted for a changed
# file, and a damaged cache only costs a rescan.
kpopd_start
wire_size() { "$PYTHON" -c 'import sys; b=open(sys.argv[1],"rb").read(); print(len(b)+b.count(b"\n")+(0 if b.endswith(b"\n") else 2))' "$1"; }
list_size() { "$KPOP" -H localhost -p "$KPOPD_PORT" list 2>/dev/null | sed -n 's/^1 \([0-9]*\)$/\1/p'; }
m9=$md/new/1000000009.M9.test
t_expect_eq "LIST size of a fresh message" "$(wire_size "$m9")" "$(list_size)"
if [ -s "$md/.kpopd.sizes" ]; then t_pass "size cache written"; else t_fail "size cache written" "no $md/.kpopd.sizes"; fi
t_expect_eq "LIST size from the cache" "$(wire_size "$m9")" "$(list_size)"
printf 'Subject: rewritten\n\nthis body is not the one the cache knows\nat all\n' >"$m9"
touch "$md/new" # an in-place rewrite must touch its directory (README: size cache)
t_expect_eq "a rewritten message is rescanned" "$(wire_size "$m9")" "$(list_size)"
printf 'garbage line\n1 2 3\n99 99 99 99 ../../etc\n' >"$md/.kpopd.sizes"
t_expect_eq "a damaged cache is ignored" "$(wire_size "$m9")" "$(list_size)"
kpopd_stop
t_summary
