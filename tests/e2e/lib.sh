# tests/e2e/lib.sh - shared set-up for the end-to-end tests: a mail root, kpopd on a
# free loopback port, test messages.  Sourced after tests/lib/common.sh; needs the
# KDC environment (KRB5_CONFIG, KPOP_TEST_DIR, ...) from tests/run-tests.sh.
: "${KPOPD:?}" "${KPOP:?}" "${KPOP_TEST_DIR:?}" "${KP_TMP:?}"
. "$KP_TOP_SRCDIR/tests/lib/common.sh"

E2E_DIR=$(mktemp -d "$KP_TMP/e2e.XXXXXX")
MAILROOT=$E2E_DIR/mail
KPOPD_PID=""
KPOPD_PORT=""
KPOPD_LOG=$E2E_DIR/kpopd.log
mkdir -p "$MAILROOT"
# kpopd's sessions run as the mail uid (set by tests/run-tests.sh): they must reach
# MAILROOT, and each Maildir must be that uid's own.
: "${KP_MAIL_UID:=$(id -u)}"
chmod 711 "$E2E_DIR"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT"

e2e_cleanup() {
	[ -z "${E2E_SHOW:-}" ] || grep -E "$E2E_SHOW" "$KPOPD_LOG" >&2
	kpopd_stop
	[ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$E2E_DIR"
}
trap e2e_cleanup EXIT

# kpopd_start [kpopd options...]: a daemon on a free port in pop3 mode unless a
# -L is given; sets KPOPD_PID and KPOPD_PORT.
kpopd_start() {
	local tries=0 listen_given=0 a
	for a in "$@"; do [ "$a" = -L ] && listen_given=1; done
	while [ $tries -lt 5 ]; do
		KPOPD_PORT=$(free_port)
		local listen=() pidfile=$E2E_DIR/kpopd-$KPOPD_PORT.pid
		[ $listen_given = 1 ] || listen=(-L "127.0.0.1:$KPOPD_PORT pop3")
		# (KPOPD_WRAP, e.g. faketime, may fork: the daemon's own pidfile names the
		# process to stop)
		${KPOPD_WRAP:-} "$KPOPD" -F -o log=stderr -o log_level=debug \
			-o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
			-o rcache_dir="$KPOP_TEST_DIR/rcache" -o pidfile="$pidfile" \
			-o maildir="$MAILROOT/%u/Maildir" -o mail_uid="$KP_MAIL_UID" "${listen[@]}" \
			"${@//@PORT@/$KPOPD_PORT}" >>"$KPOPD_LOG" 2>&1 &
		KPOPD_PID=$!
		if wait_port "$KPOPD_PORT" 5 && kill -0 "$KPOPD_PID" 2>/dev/null; then
			[ -s "$pidfile" ] && KPOPD_PID=$(cat "$pidfile")
			return 0
		fi
		kill "$KPOPD_PID" 2>/dev/null
		wait "$KPOPD_PID" 2>/dev/null
		KPOPD_PID=""
		tries=$((tries + 1))
	done
	echo "kpopd did not start; log:" >&2
	tail -n 20 "$KPOPD_LOG" >&2
	return 1
}

kpopd_stop() {
	if [ -n "$KPOPD_PID" ]; then
		stop_pid "$KPOPD_PID"
		KPOPD_PID=""
	fi
}

# spool_holder FILE: the process under kpopd that has FILE open (a session, not a
# spare worker); prints its PID or nothing.
spool_holder() {
	local p f
	for p in $(ps -o pid= --ppid "$KPOPD_PID"); do
		for f in /proc/"$p"/fd/*; do
			if [ "$(readlink "$f" 2>/dev/null)" = "$1" ]; then
				echo "$p"
				return
			fi
		done
	done
}

# mk_maildir USER: an empty Maildir for USER, owned by the mail uid; prints its path.
mk_maildir() {
	local md="$MAILROOT/$1/Maildir"
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT/$1"
	printf '%s\n' "$md"
}

# count_msgs MAILDIR: messages in new/ and cur/.
count_msgs() {
	find "$1/new" "$1/cur" -type f | wc -l
}

# put_msg MAILDIR NAME FILE: deliver FILE as NAME into MAILDIR/new.
put_msg() {
	cp "$3" "$1/new/$2"
}

# The test messages: big (5 MB), dots, no final newline, 8-bit binary.
make_test_messages() {
	local d=$1
	mkdir -p "$d"
	"$PYTHON" - "$d" <<'PY'
import os, random, sys
d = sys.argv[1]
rnd = random.Random(1109)
hdr = lambda s: ("From: bob@kpop.test\nTo: alice@kpop.test\nSubject: %s\n\n" % s).encode()
with open(os.path.join(d, "big"), "wb") as f:
    f.write(hdr("five megabytes"))
    line = 0
    while f.tell() < 5 * 1024 * 1024:
        f.write(b"line %07d " % line + b"x" * rnd.randrange(0, 200) + b"\n")
        line += 1
        if line % 1000 == 0:
            f.write(b".a line starting with a dot\n.\n..\n")
with open(os.path.join(d, "dots"), "wb") as f:
    f.write(hdr("dots") + b".\n..\n...\n.x\nmid . dot\n.\n")
with open(os.path.join(d, "nonl"), "wb") as f:
    f.write(hdr("no final newline") + b"last line without newline")
with open(os.path.join(d, "binary"), "wb") as f:
    body = bytes(b for b in range(256) if b != 13) * 40
    f.write(hdr("8-bit") + body + b"\n")
PY
}

# make_mbox_blocks DIR (after make_test_messages DIR): mbox blocks DIR/b1..b5
# (From_ line, mboxrd-quoted message, blank separator line; b5 "nonl" ends without
# a newline and without separator) so that expected spools are concatenations of
# blocks; DIR/wantN is what a client stores for block N (LF, a final newline);
# DIR/late is what an MDA appends after b5 (it first ends that line), DIR/wantlate
# its stored form.
make_mbox_blocks() {
	"$PYTHON" - "$1" <<'PY'
import os, re, sys
d = sys.argv[1]
def rd(n):
    return open(os.path.join(d, n), "rb").read()
hdr = lambda s: ("From: bob@kpop.test\nTo: alice@kpop.test\nSubject: %s\n\n" % s).encode()
quoted = hdr("quoting") + (b"From the start of a line\n>From already quoted\n"
                           b">>From twice\n>not from\n> From spaced\nFrom\n.From dot\n")
msgs = [("plain", hdr("plain") + b"just a body\n"),
        ("quoted", quoted),
        ("big", rd("big")),
        ("dots", rd("dots")),
        ("nonl", rd("nonl"))]
for i, (name, m) in enumerate(msgs, 1):
    q = re.sub(rb"(?m)^(>*From )", rb">\1", m)
    block = b"From bob@kpop.test Tue Dec  1 12:00:0%d 2026\n" % i + q
    if i < len(msgs):
        block += (b"" if q.endswith(b"\n") else b"\n") + b"\n"
    open(os.path.join(d, "b%d" % i), "wb").write(block)
    open(os.path.join(d, "want%d" % i), "wb").write(m if m.endswith(b"\n") else m + b"\n")
new = hdr("arrived during the session") + b"late\n"
# an MDA appending after "nonl" (no final newline) first ends that line
open(os.path.join(d, "late"), "wb").write(b"\n\nFrom mda@kpop.test Tue Dec  1 13:00:00 2026\n" + new + b"\n")
open(os.path.join(d, "wantlate"), "wb").write(new)
PY
}
