#!/usr/bin/env bash
# tests/e2e/policy.sh - LOGIN-DELAY and EXPIRE (RFC 2449) as policies: CAPA shows
# the global values (tagged USER) before login and the user's after it; a second
# login within login_delay gets -ERR [LOGIN-DELAY], also after a restart (the last
# login is kept in the maildrop); EXPIRE removes exactly the old messages
# retrieved in an earlier session, after QUIT only; expire_days = 0 removes what
# was retrieved; per-user values from policy_file; Maildir and mbox; a broken
# state or policy file.  Message ages and recorded times are faked (touch -d, the
# state file), never waited for.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

pop() { # NAME SCRIPT-TEXT [CCACHE]: run a pop3tcp script; t_pass/t_fail
	printf '%s\n' "$2" >"$E2E_DIR/s.script"
	local out
	out=$(KRB5CCNAME=FILE:$KPOP_TEST_DIR/${3:-alice}.ccache "$PYTHON" \
		"$KP_TOP_SRCDIR/tests/pop3tcp.py" 127.0.0.1 "$KPOPD_PORT" "$E2E_DIR/s.script" 2>&1)
	if [ $? -eq 0 ]; then t_pass "$1"; else t_fail "$1" "$out"; fi
}
in_log() { # NAME REGEX
	if grep -Eq -- "$2" "$KPOPD_LOG"; then t_pass "$1"; else t_fail "$1" "/$2/ not in the server log"; fi
}
msg() { # MAILDIR NAME AGE-DAYS
	printf 'Subject: %s\n\nbody of %s\n' "$2" "$2" >"$1/new/$2"
	touch -d "@$(($(date +%s) - $3 * 86400))" "$1/new/$2"
}
capa_expect() { # EXPIRE LOGIN-DELAY: the script lines of CAPA with those values
	printf 'C: CAPA\nS: +OK Capability list follows\nS: TOP\nS: UIDL\nS: RESP-CODES\n'
	printf 'S: AUTH-RESP-CODE\nS: PIPELINING\nS: SASL GSSAPI\nS: EXPIRE %s\n' "$1"
	printf 'S: LOGIN-DELAY %s\nS~ IMPLEMENTATION .*\nS: .' "$2"
}
# fake_login STATEFILE SECONDS-AGO: the recorded last login, moved into the past
fake_login() {
	sed -i "s/^login .*/login $(($(date +%s) - $2))/" "$1"
}

md=$(mk_maildir alice)
msg "$md" 1000000001.old1 42
msg "$md" 1000000002.old2 41
msg "$md" 1000000003.old3 40
msg "$md" 1000000004.new 2
bmd=$(mk_maildir bob)
msg "$bmd" 1000000001.b1 5
msg "$bmd" 1000000002.b2 4
msg "$bmd" 1000000003.b3 3
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md" "$bmd"
pf=$E2E_DIR/policy
printf '# per-user RFC 2449 policies\nbob login_delay=0 expire_days=0\n' >"$pf"
chmod 644 "$pf"
opts=(-o login_delay=3600 -o expire_days=30 -o policy_file="$pf")
kpopd_start "${opts[@]}" || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }
state=$md/.kpopd.state

# 1. CAPA: the global values before login (USER: they vary), alice's after it
pop "CAPA before login: EXPIRE 30 USER, LOGIN-DELAY 3600 USER" 'S~ \+OK .*
'"$(capa_expect '30 USER' '3600 USER')"'
C: QUIT
S: +OK kpopd signing off'
# 2. alice retrieves 1, 2 and 4; nothing goes at this QUIT (retrieved just now)
pop "first login: CAPA shows alice's policy, RETR, QUIT removes nothing" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 4 messages .*
'"$(capa_expect '30' '3600')"'
C: RETR 1
S~ \+OK .*
S: Subject: 1000000001.old1
S:
S: body of 1000000001.old1
S: .
C: RETR 2
S~ \+OK .*
S: Subject: 1000000002.old2
S:
S: body of 1000000002.old2
S: .
C: TOP 3 0
S~ \+OK .*
S: Subject: 1000000003.old3
S:
S: .
C: RETR 4
S~ \+OK .*
S: Subject: 1000000004.new
S:
S: body of 1000000004.new
S: .
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 4 left)'
t_expect_eq "4 messages remain after the first session" 4 "$(count_msgs "$md")"
if [ -f "$state" ] && grep -q "^login [0-9]" "$state" && [ "$(grep -c '^retr ' "$state")" = 3 ] &&
	grep -q " 1000000001.old1$" "$state" && ! grep -q "old3" "$state"; then
	t_pass "the state file records the login and the 3 RETRs (not the TOP)"
else
	t_fail "the state file records the login and the 3 RETRs" "$(cat "$state" 2>&1)"
fi
t_expect_eq "the state file is the mail uid's, mode 0600" "$KP_MAIL_UID 600" "$(stat -c '%u %a' "$state" 2>&1)"

# 3. LOGIN-DELAY: a second login within the hour is refused, and the session ends
delayed='S~ \+OK .*
AUTH
S~ -ERR \[LOGIN-DELAY\] Logins at most every 3600 seconds: try again in [0-9]+ seconds
EOF'
pop "a second login within login_delay: -ERR [LOGIN-DELAY], connection closed" "$delayed"
in_log "the refusal is logged" "refused: LOGIN-DELAY 3600 s"
t_expect_eq "a refused login removes nothing" 4 "$(count_msgs "$md")"

# 4. ... and after a restart: the last login was kept in the maildrop
kpopd_stop
kpopd_start "${opts[@]}" || { t_fail "kpopd restarts" "see log"; t_summary; exit 1; }
pop "LOGIN-DELAY survives a restart of kpopd" "$delayed"

# 5. an hour later (the recorded login faked 2 h back), a session that drops the
#    connection removes nothing; EXPIRE waits for QUIT
fake_login "$state" 7200
pop "after the delay: login allowed; a dropped connection expires nothing" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 4 messages .*
C: NOOP
S: +OK'
t_expect_eq "nothing removed without QUIT" 4 "$(count_msgs "$md")"

# 6. with QUIT: the two old messages retrieved earlier go; old3 (only TOP) and the
#    2-day-old one stay
fake_login "$state" 7200
pop "EXPIRE at UPDATE: 2 old retrieved messages removed" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 4 messages .*
C: QUIT
S: +OK kpopd signing off (2 messages deleted, 2 left)'
left=$(ls "$md/new" "$md/cur" | grep -c '^1000')
t_expect_eq "exactly old3 and new are left" "1000000003.old3 1000000004.new" \
	"$(ls "$md/new" "$md/cur" | grep '^1000' | sort | tr '\n' ' ' | sed 's/ $//')"
t_expect_eq "two files left" 2 "$left"
in_log "each expired message is logged" "EXPIRE 30: removing message 1 uidl=1000000001.old1 \(retrieved in an earlier session, 42 days old\)"
in_log "the logout line counts them" "logout user=alice .* dele=0 expired=2 removed=2"
if grep -q "old1\|old2" "$state"; then
	t_fail "the removed messages leave the state file" "$(cat "$state")"
else
	t_pass "the removed messages leave the state file"
fi

# 7. bob (policy_file): expire_days = 0, no login delay: what he RETRs goes at QUIT
#    without DELE; a TOP does not count; a second login at once is fine
pop "bob: CAPA after login shows his policy; RETR'd message removed at QUIT" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as bob, 3 messages .*
'"$(capa_expect '0' '0')"'
C: RETR 1
S~ \+OK .*
S: Subject: 1000000001.b1
S:
S: body of 1000000001.b1
S: .
C: TOP 2 0
S~ \+OK .*
S: Subject: 1000000002.b2
S:
S: .
C: QUIT
S: +OK kpopd signing off (1 messages deleted, 2 left)' bob
t_expect_eq "bob: b2 and b3 left" "1000000002.b2 1000000003.b3" \
	"$(ls "$bmd/new" "$bmd/cur" | grep '^1000' | sort | tr '\n' ' ' | sed 's/ $//')"
pop "bob: expire_days 0 with a dropped connection removes nothing" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as bob, 2 messages .*
C: RETR 1
S~ \+OK .*
S: Subject: 1000000002.b2
S:
S: body of 1000000002.b2
S: .' bob
t_expect_eq "bob: still 2 messages" 2 "$(count_msgs "$bmd")"

# 8. a malformed state file is ignored, loudly: nothing counts as retrieved
printf 'garbage\nretr x y\n' >"$state"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$state"
pop "a malformed state file: login allowed, nothing expired" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as alice, 2 messages .*
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 2 left)'
in_log "the malformed state file is logged" "maildrop state .kpopd.state: unreadable or malformed: ignored"
grep -q '^kpopd-state-1$' "$state"
t_expect_eq "and rewritten whole" 0 "$?"

# 9. a policy_file with a bad line refuses logins (no policy nobody set), says where
printf 'bob login_delay=soon\n' >"$pf"
fake_login "$state" 7200
pop "a broken policy_file: the login is refused" 'S~ \+OK .*
AUTH
S: -ERR [AUTH] Authentication failed
C: QUIT
S: +OK kpopd signing off'
in_log "the broken policy line is logged with its place" "policy_file $pf:1: expected"
kpopd_stop

# 10. an mbox spool: the state sits next to it (SPOOL.kpopd-state); EXPIRE counts
#     from the first retrieval (an mbox records no delivery time)
spool=$MAILROOT/carol.mbox
printf 'From a@b Mon Jan  1 00:00:00 2024\nSubject: m1\n\none\n\nFrom a@b Mon Jan  1 00:00:01 2024\nSubject: m2\n\ntwo\n' >"$spool"
chown "$KP_MAIL_UID:$KP_MAIL_UID" "$spool"
chmod 600 "$spool"
printf 'carol login_delay=0 expire_days=10\n' >"$pf"
kpopd_start -o maildir="$MAILROOT/%u.mbox" -o allow_instances=yes -o login_delay=3600 \
	-o policy_file="$pf" || { t_fail "kpopd (mbox) starts" "see log"; t_summary; exit 1; }
pop "mbox: RETR 1 and QUIT (recorded, not removed)" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as carol, 2 messages .*
C: RETR 1
S~ \+OK .*
S: Subject: m1
S:
S: one
S: .
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 2 left)' carol
mstate=$spool.kpopd-state
t_expect_eq "mbox: the state file next to the spool records the RETR" 1 "$(grep -c '^retr ' "$mstate" 2>/dev/null)"
pop "mbox: retrieved today, kept (10 days from the first retrieval)" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as carol, 2 messages .*
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 2 left)' carol
sed -i "s/^retr [0-9]* /retr $(($(date +%s) - 11 * 86400)) /" "$mstate"
pop "mbox: retrieved 11 days ago, removed at UPDATE" 'S~ \+OK .*
AUTH
S~ \+OK Logged in as carol, 2 messages .*
C: QUIT
S: +OK kpopd signing off (1 messages deleted, 1 left)' carol
t_expect_eq "mbox: m2 is what is left" 1 "$(grep -c '^Subject: m2' "$spool")"
t_expect_eq "mbox: m1 is gone" 0 "$(grep -c '^Subject: m1' "$spool")"
kpopd_stop

# 11. configuration: bad values are refused with the reason
out=$("$KPOPD" -t -o expire_days=forever 2>&1)
t_expect_match "expire_days = forever refused" "expire_days: expected days \(0-36500\) or never" "$out"
out=$("$KPOPD" -t -o login_delay=-1 2>&1)
t_expect_match "login_delay = -1 refused" "login_delay: expected seconds" "$out"
out=$("$KPOPD" -t -v -o keytab="$KPOP_TEST_DIR/kpopd.keytab" -o expire_days=never -o login_delay=60 2>&1)
t_expect_match "kpopd -t -v prints expire_days" "expire_days = never" "$out"
printf 'alice login_delay=60\nbob expire_days=sometime\n' >"$pf"
out=$("$KPOPD" -t -o keytab="$KPOP_TEST_DIR/kpopd.keytab" -o policy_file="$pf" 2>&1)
t_expect_eq "kpopd -t: a bad policy_file line is a problem (exit 2)" 2 "$?"
t_expect_match "kpopd -t names the line" "policy_file $pf:2: expected" "$out"
t_summary
