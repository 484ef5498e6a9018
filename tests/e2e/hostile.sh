#!/usr/bin/env bash
# tests/e2e/hostile.sh - kpop against hostile servers (tests/fakepop3.py): a server
# that says +OK before mutual authentication, a KPOP server without a valid AP-REP,
# a RETR or LIST that never ends, control characters in server text; and mboxrd
# quoting of long '>' runs.  Each case checks the exit status and that nothing was
# stored, deleted or sent that should not have been.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

. "$KP_TOP_SRCDIR/tests/e2e/lib-fake.sh"

# no_controls NAME FILE: FILE has no byte < 0x20 but LF, and no DEL.
no_controls() {
	local bad
	bad=$("$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read()
print(" ".join("%02x" % b for b in sorted(set(d)) if (b < 0x20 and b != 10) or b == 0x7f))' "$2")
	t_expect_eq "$1" "" "$bad"
}

# --- 1. AUTH GSSAPI: +OK counts only after the SASL exchange completed ---------
for mode in ok-early ok-late; do
	what="AUTH GSSAPI answered +OK"
	[ $mode = ok-early ] && what="$what at the first token" || what="$what after an empty challenge"
	fake_start "$mode" "$mode" || { t_fail "$mode: fake server starts" "see above"; continue; }
	kpop_fake --maildir "$E2E_DIR/$mode.md" --delete fetch
	fake_stop
	t_expect_eq "$what: exit 3 (protocol error)" 3 "$rc"
	t_expect_match "$what: says mutual authentication was skipped" \
		"skipped mutual authentication" "$(cat "$E2E_DIR/err")"
	t_expect_eq "$what: the impostor's message is not stored" 0 "$(files_in "$E2E_DIR/$mode.md")"
	t_expect_eq "$what: no LIST, RETR or DELE sent" "0 0 0" \
		"$(sent LIST) $(sent RETR) $(sent DELE)"
done

# --- 1b. KPOP: no USER before a verified AP-REP ---------------------------------
for v in close empty garbage reflect hang; do
	what="KPOP handshake without a valid AP-REP ($v)"
	fake_start "kpop-$v" kpop-no-aprep --variant "$v" ||
		{ t_fail "$what: fake server starts" "see above"; continue; }
	start=$(date +%s)
	kpop_fake --auth kpop -u alice --maildir "$E2E_DIR/kpop-$v.md" fetch
	secs=$(($(date +%s) - start))
	fake_stop
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		t_pass "$what: kpop fails (exit $rc, ${secs}s)"
	else
		t_fail "$what: kpop fails" "exit $rc: $(head -c 300 "$E2E_DIR/err")"
	fi
	if grep -q "AP-REQ" "$FAKE_LOG"; then
		t_expect_eq "$what: no USER or PASS sent" "0 0" "$(sent USER) $(sent PASS)"
	else
		t_fail "$what: no USER or PASS sent" "the handshake never reached the AP-REQ"
	fi
	t_expect_eq "$what: nothing stored" 0 "$(files_in "$E2E_DIR/kpop-$v.md")"
done
t_expect_match "KPOP without an answer: timed out, not hung" "timed out|stopped answering" \
	"$(cat "$E2E_DIR/err")"

# --- 4. a RETR that goes on past the LIST size ----------------------------------
# (finite, so that a client without the bound fails these tests instead of filling
# the disk; 64 MiB is far more than loopback socket buffers hold, so the fake server
# sees the client go away)
what="RETR 64 MiB past a LIST size of 1000"
fake_start retr endless-retr --size 1000 --extra $((64 * 1024 * 1024)) &&
	kpop_fake --maildir "$E2E_DIR/retr.md" --delete fetch || rc="(no fake server)"
fake_stop
t_expect_eq "$what: exit 3" 3 "$rc"
t_expect_match "$what: says why" "more than [0-9]+ octets for a message LIST announced as 1000" \
	"$(cat "$E2E_DIR/err")"
t_expect_eq "$what: nothing in the Maildir (tmp/ cleaned)" 0 "$(files_in "$E2E_DIR/retr.md")"
t_expect_eq "$what: no DELE, no QUIT" "0 0" "$(sent DELE) $(sent QUIT)"
if grep -q "client went away" "$FAKE_LOG"; then
	t_pass "$what: kpop stopped reading before the end"
else
	t_fail "$what: kpop stopped reading before the end" "$(grep RETR "$FAKE_LOG")"
fi

what="RETR 16 MiB past a LIST size of 1000, into an mbox"
printf 'From old@example Thu Jan  1 00:00:00 1970\nSubject: kept\n\nold\n\n' >"$E2E_DIR/retr.mbox"
cp "$E2E_DIR/retr.mbox" "$E2E_DIR/retr.mbox.before"
fake_start retr-mbox endless-retr --size 1000 --extra $((16 * 1024 * 1024)) &&
	kpop_fake --mbox "$E2E_DIR/retr.mbox" --delete fetch || rc="(no fake server)"
fake_stop
t_expect_eq "$what: exit 3" 3 "$rc"
if cmp -s "$E2E_DIR/retr.mbox" "$E2E_DIR/retr.mbox.before"; then
	t_pass "$what: the mbox is rolled back to what it held"
else
	t_fail "$what: the mbox is rolled back to what it held" \
		"$(wc -c <"$E2E_DIR/retr.mbox") bytes, was $(wc -c <"$E2E_DIR/retr.mbox.before")"
fi
t_expect_eq "$what: no DELE" 0 "$(sent DELE)"

what="RETR 512 KiB past a LIST size of 1000 (inside the margin)"
fake_start retr-ok endless-retr --size 1000 --extra $((512 * 1024)) &&
	kpop_fake --maildir "$E2E_DIR/retr-ok.md" --delete fetch || rc="(no fake server)"
fake_stop
t_expect_eq "$what: exit 0" 0 "$rc"
t_expect_eq "$what: stored and deleted" "1 1" "$(files_in "$E2E_DIR/retr-ok.md/new") $(sent DELE)"

what="LIST that goes on for 1.1 million lines"
fake_start list endless-list && kpop_fake list || rc="(no fake server)"
fake_stop
t_expect_eq "$what: exit 3" 3 "$rc"
t_expect_match "$what: says why" "LIST goes on past" "$(cat "$E2E_DIR/err")"
t_expect_eq "$what: nothing listed" "" "$(head -c 100 "$E2E_DIR/out")"

# --- 3. server text reaches the terminal escaped --------------------------------
fake_start esc-list escapes && kpop_fake list || rc="(no fake server)"
fake_stop
t_expect_eq "escapes: kpop list works" 0 "$rc"
no_controls "escapes: UIDL lines printed without control characters" "$E2E_DIR/out"
t_expect_match "escapes: UIDL line shown with \\xHH" \
	'^  1 uid-one\\x1b\[31mRED\\x1b\[0m\\x07\\x0dOVERWRITTEN' "$(grep uid-one "$E2E_DIR/out")"

fake_start esc-fetch escapes &&
	kpop_fake --maildir "$E2E_DIR/esc.md" --delete fetch || rc="(no fake server)"
fake_stop
t_expect_eq "escapes: RETR refused: exit 3" 3 "$rc"
t_expect_match "escapes: the DELE and RETR refusals are printed" "DELE 1 refused.*RETR 2 refused" \
	"$(tr '\n' ' ' <"$E2E_DIR/err")"
no_controls "escapes: refusals printed without control characters" "$E2E_DIR/err"

fake_start esc-listerr escapes --variant list-err && kpop_fake list || rc="(no fake server)"
fake_stop
t_expect_match "escapes: LIST refusal printed" "LIST failed: .x1b" "$(cat "$E2E_DIR/err")"
no_controls "escapes: LIST refusal printed without control characters" "$E2E_DIR/err"

fake_start esc-auth escapes-auth && kpop_fake list || rc="(no fake server)"
fake_stop
t_expect_eq "escapes: AUTH refused: exit 7" 7 "$rc"
no_controls "escapes: AUTH refusal printed without control characters" "$E2E_DIR/err"

fake_start esc-greet escapes-greeting && kpop_fake list || rc="(no fake server)"
fake_stop
t_expect_eq "escapes: greeting -ERR: exit 3" 3 "$rc"
t_expect_match "escapes: greeting text shown" "refused the connection: -ERR .x1b" \
	"$(cat "$E2E_DIR/err")"
no_controls "escapes: greeting printed without control characters" "$E2E_DIR/err"

# --- 2. mboxrd quoting of any run of '>' ----------------------------------------
"$PYTHON" - "$E2E_DIR/gt.msg" "$E2E_DIR/gt.expected" <<'PY'
import sys
g = lambda n: b">" * n
body = [b"Subject: quoting", b"", b"From x", b">From x",
        g(63) + b"From x", g(64) + b"From x", g(200) + b"From x", g(20000) + b"From x",
        g(70), g(100) + b"Fro", g(64) + b"From", b"From", b">>From x", b"end"]
# what the mbox must hold after its From_ line: ^>*From  gets one more '>', nothing
# else changes, and a blank line ends the message
want = [b"Subject: quoting", b"", b">From x", b">>From x",
        g(64) + b"From x", g(65) + b"From x", g(201) + b"From x", g(20001) + b"From x",
        g(70), g(100) + b"Fro", g(64) + b"From", b"From", b">>>From x", b"end", b""]
open(sys.argv[1], "wb").write(b"\n".join(body) + b"\n")
open(sys.argv[2], "wb").write(b"\n".join(want) + b"\n")
PY
fake_start gt serve --message "$E2E_DIR/gt.msg" &&
	kpop_fake --mbox "$E2E_DIR/gt.mbox" fetch || rc="(no fake server)"
fake_stop
t_expect_eq "mbox: '>'-runs of 63, 64, 200 and 20000 before From: exit 0" 0 "$rc"
t_expect_match "mbox: starts with a From_ line" "^From kpop@localhost " \
	"$(head -n 1 "$E2E_DIR/gt.mbox")"
tail -n +2 "$E2E_DIR/gt.mbox" >"$E2E_DIR/gt.got"
if cmp -s "$E2E_DIR/gt.got" "$E2E_DIR/gt.expected"; then
	t_pass "mbox: the stored bytes are exact (one more '>' on each ^>*From  line)"
else
	t_fail "mbox: the stored bytes are exact (one more '>' on each ^>*From  line)" \
		"$("$PYTHON" -c 'import sys
a, b = (open(f, "rb").read().split(b"\n") for f in sys.argv[1:])
print("lines (index, want len, got len):",
      [(i, len(x), len(y)) for i, (x, y) in enumerate(zip(a, b)) if x != y][:5],
      "line counts", len(a), len(b))' "$E2E_DIR/gt.expected" "$E2E_DIR/gt.got")"
fi

t_summary
