#!/usr/bin/env bash
# tests/e2e/dovecot.sh - kpop against a real Dovecot (tests/lib/dovecot.sh: its own
# config in a temp dir, free loopback ports, never the system service), AUTH
# GSSAPI with the test realm's keys: only new mail across runs (first fetch N,
# second 0, a new message once, --all again), over POP3S too, and --delete.
# Without Dovecot (scripts/bench-setup.sh installs it; CI does) a loud SKIP.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
. "$KP_TOP_SRCDIR/tests/lib/dovecot.sh"
trap 'dovecot_stop; e2e_cleanup' EXIT

if ! dovecot_usable; then
	t_skip "kpop fetches from Dovecot" "$DOVECOT_WHY"
	t_summary
	exit 0
fi
bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$E2E_DIR/certs" >/dev/null 2>&1
D=$E2E_DIR/dovecot
mkdir -p "$D"
DC_KEYTAB=$KPOP_TEST_DIR/kpopd.keytab DC_CERT=$E2E_DIR/certs/server.pem
DC_KEY=$E2E_DIR/certs/server.key DC_UID=$KP_MAIL_UID DC_HOMES=$MAILROOT/%n
DC_PASSWD="alice:{PLAIN}not-used-by-gssapi"
if ! dovecot_setup "$D" || ! dovecot_start "$D"; then
	t_fail "Dovecot starts from a temp dir" "${DOVECOT_WHY:-see $D/dovecot.log}"
	t_summary
	exit 1
fi
t_pass "Dovecot $("$DOVECOT" --version | cut -d' ' -f1) starts from a temp dir on port $D_POP3"

md=$(mk_maildir alice)
# newmsg N: deliver "dovecot test N" into alice's Maildir as an MDA would
newmsg() {
	printf 'From: bob@kpop.test\nSubject: dovecot test %s\nMessage-ID: <%s@kpop.test>\n\nbody %s\n.dot line\n' \
		"$1" "$1" "$1" >"$md/tmp/$1.kpoptest"
	chown "$KP_MAIL_UID:$KP_MAIL_UID" "$md/tmp/$1.kpoptest"
	mv "$md/tmp/$1.kpoptest" "$md/new/100000000$1.M$1P1.kpoptest"
}
# subjects DIR: how often each "dovecot test N" subject was stored, sorted
subjects() {
	cat "$1"/new/* 2>/dev/null | sed -n 's/^Subject: dovecot test //p' | sort | uniq -c |
		awk '{ printf "%sx%s ", $2, $1 }'
}
kd() { # kpop against Dovecot, plaintext POP3 port, GSSAPI
	timeout 60 "$KPOP" -H localhost -p "$D_POP3" --starttls off -t 20 "$@"
}
for i in 1 2 3; do newmsg $i; done
out=$E2E_DIR/out
kd --maildir "$out" fetch 2>"$E2E_DIR/d1"
rc=$?
[ $rc = 0 ] || { cat "$E2E_DIR/d1"; tail -5 "$D/dovecot.log"; }
t_expect_eq "first fetch from Dovecot: exit 0" 0 "$rc"
t_expect_eq "first fetch stores the 3 messages" "1x1 2x1 3x1 " "$(subjects "$out")"
if grep -q '^\.dot line$' "$out"/new/* && ! grep -q $'\r' "$out"/new/*; then
	t_pass "messages from Dovecot arrive un-stuffed with LF line ends"
else
	t_fail "messages from Dovecot arrive un-stuffed with LF line ends" "$(head -c 300 "$out"/new/* | od -c | head -5)"
fi
kd --maildir "$out" fetch 2>"$E2E_DIR/d2"
t_expect_eq "second fetch: exit 0" 0 "$?"
t_expect_match "second fetch fetches nothing" "fetched 0 messages.*3 fetched before" "$(cat "$E2E_DIR/d2")"
t_expect_eq "second fetch stores nothing again" "1x1 2x1 3x1 " "$(subjects "$out")"
newmsg 4
kd --maildir "$out" fetch 2>"$E2E_DIR/d3"
t_expect_eq "a new message: exit 0" 0 "$?"
t_expect_eq "a new message is fetched once" "1x1 2x1 3x1 4x1 " "$(subjects "$out")"
kd --maildir "$out" --all fetch 2>"$E2E_DIR/d4"
t_expect_eq "--all: exit 0" 0 "$?"
t_expect_eq "--all fetches everything again" "1x2 2x2 3x2 4x2 " "$(subjects "$out")"
t_expect_eq "Dovecot still has the 4 (keep is the default)" 4 "$(count_msgs "$md")"

# POP3S (implicit TLS) with the test CA, then --delete
tout=$E2E_DIR/tls
timeout 60 "$KPOP" -H localhost -p "$D_POP3S" --tls --cafile "$E2E_DIR/certs/ca.pem" -t 20 \
	--maildir "$tout" fetch 2>"$E2E_DIR/d5"
rc=$?
[ $rc = 0 ] || cat "$E2E_DIR/d5"
t_expect_eq "POP3S to Dovecot: exit 0, the 4 messages" "0 1x1 2x1 3x1 4x1 " "$rc $(subjects "$tout")"
kd --maildir "$out" --delete fetch 2>"$E2E_DIR/d6"
t_expect_eq "--delete: exit 0" 0 "$?"
t_expect_eq "--delete of messages fetched before: nothing fetched again" "1x2 2x2 3x2 4x2 " "$(subjects "$out")"
t_expect_eq "--delete: Dovecot's maildrop is empty" 0 "$(count_msgs "$md")"
if grep -qi "error\|fatal\|panic" "$D/dovecot.log"; then
	t_fail "Dovecot logged no error" "$(grep -i "error\|fatal\|panic" "$D/dovecot.log" | head -3)"
else
	t_pass "Dovecot logged no error"
fi

t_summary
