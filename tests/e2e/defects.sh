#!/usr/bin/env bash
# tests/e2e/defects.sh - the measured defects of issue 7: the maildrop lock is
# released before QUIT's "+OK", directories are synced only when something was
# removed, and log lines say what really happened.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

md=$(mk_maildir alice)
msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
put_msg "$md" 1000000001.M1.test "$msgs/dots"
put_msg "$md" 1000000002.M2.test "$msgs/nonl"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"

# 1. A client that logs in again the moment it reads QUIT's +OK never finds the old
# session still holding the maildrop: the second login's last AUTH message goes
# out as soon as "+OK" arrives.
kpopd_start
out=$("$PYTHON" "$KP_TOP_SRCDIR/tests/gssclient.py" "$KPOPD_PORT" race 100 2>&1)
t_expect_eq "login right after QUIT's +OK (100 times): never [IN-USE]" "in-use 0 of 100" "$out"
kpopd_stop

# 2. fsync of directories only where something was removed: counted by an
# LD_PRELOAD shim around fsync().
shim=$E2E_DIR/fsynccount.so
if gcc -shared -fPIC -o "$shim" "$KP_TOP_SRCDIR/tests/lib/fsynccount.c" -ldl 2>"$E2E_DIR/cc.log"; then
	flog=$E2E_DIR/fsync.log
	: >"$flog"
	chmod 666 "$flog"
	KPOPD_WRAP="env LD_PRELOAD=$shim KP_FSYNC_LOG=$flog" kpopd_start
	"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
	t_expect_eq "a session that deletes nothing: kpop list exits 0" 0 "$?"
	t_expect_eq "a session that deletes nothing syncs no directory" 0 "$(grep -c '^dir' "$flog")"
	"$KPOP" -H localhost -p "$KPOPD_PORT" --stdout --delete fetch >/dev/null 2>&1
	t_expect_eq "fetch --delete of the messages in new/: exit 0" 0 "$?"
	t_expect_eq "deleting from new/ only syncs one directory" 1 "$(grep -c '^dir' "$flog")"
	t_expect_eq "the messages are gone" 0 "$(count_msgs "$md")"
	kpopd_stop
else
	t_fail "fsync shim builds" "$(cat "$E2E_DIR/cc.log")"
fi

# 3. Log lines: libsasl2's "server step failed: 2/3" after each successful step is
# not a warning; a client that sends plaintext inside a privacy layer is told
# apart from a stale authentication message.
put_msg "$md" 1000000003.M3.test "$msgs/dots"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"
kpopd_start
: >"$KPOPD_LOG"
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "GSSAPI login: exit 0" 0 "$?"
t_expect_eq "a successful GSSAPI login logs no 'step failed' (libsasl2 noise)" 0 \
	"$(grep -c 'step failed' "$KPOPD_LOG")"
out=$("$PYTHON" "$KP_TOP_SRCDIR/tests/gssclient.py" "$KPOPD_PORT" plain-after-privacy 2>&1)
t_expect_eq "plaintext inside a privacy layer: the session is closed" "closed" "$out"
sleep 0.3
t_expect_match "plaintext inside a privacy layer: the log says what happened" \
	"security layer: could not decode the peer's data .*unprotected bytes" "$(cat "$KPOPD_LOG")"
t_expect_eq "plaintext inside a privacy layer: no stale callback message" 0 \
	"$(grep -c 'Unable to find a callback' "$KPOPD_LOG")"
kpopd_stop

# 4. The size cache is the listing while new/ and cur/ are unchanged (inode and
# mtime, settled for 2 s): no stat per message.  Any change to a directory is seen.
md2=$(mk_maildir carol)
put_msg "$md2" 1000000001.M1.test "$msgs/dots"
touch -d '2001-09-09 01:46:41' "$md2/new/1000000001.M1.test"
touch -d '2020-01-01' "$md2/new" "$md2/cur"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md2"
printf 'alice@%s carol\n' "$KPOP_TEST_REALM" >"$E2E_DIR/usermap"
kpopd_start -o usermap=file -o usermap_file="$E2E_DIR/usermap"
wire_size() { "$PYTHON" -c 'import sys; b=open(sys.argv[1],"rb").read(); print(len(b)+b.count(b"\n")+(0 if b.endswith(b"\n") else 2))' "$1"; }
lsizes() { "$KPOP" -H localhost -p "$KPOPD_PORT" list 2>/dev/null | sed -n 's/^\([0-9]*\) \([0-9]*\)$/\1:\2/p' | tr '\n' ' '; }
first=$(lsizes)
t_expect_match "first login lists the message" "^1:[0-9]+ $" "$first"
t_expect_match "the cache records the directories" "^kpopd-sizes-2 [0-9]+ [1-9][0-9]* [0-9]+ [1-9]" \
	"$(head -n 1 "$md2/.kpopd.sizes")"
# a cache whose stamps are current is trusted as it is: a size only it knows shows
sed -i -E '2s/^([0-9]+ [0-9]+ [0-9]+) [0-9]+ /\1 4242 /' "$md2/.kpopd.sizes"
t_expect_eq "a current cache is used without a stat per message" "1:4242 " "$(lsizes)"
# a delivery changes new/: the new message is listed, sizes are rescanned
put_msg "$md2" 1000000002.M2.test "$msgs/nonl"
chown "$KP_MAIL_UID" "$md2/new/1000000002.M2.test"
t_expect_eq "a message delivered after the cache was written is listed, sized by a scan" \
	"1:4242 2:$(wire_size "$md2/new/1000000002.M2.test") " "$(lsizes)"
# and once more right after (within the settle time): a message removed is gone
rm "$md2/new/1000000001.M1.test"
t_expect_match "a message removed right after a login is not listed" "^1:[0-9]+ $" "$(lsizes)"
kpopd_stop

t_summary
