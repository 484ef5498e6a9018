#!/usr/bin/env bash
# tests/e2e/usermap.sh - principal -> user modes with real tickets: realm (default,
# with and without allow_instances), aname2lname (krb5.conf auth_to_local), file.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
md=$(mk_maildir alice)
printf 'Subject: for alice\n\nhi\n' >"$md/new/1000000001.M1.test"
carol=FILE:$KPOP_TEST_DIR/carol.ccache

try() { # name expected-exit [kpop env...] -- kpopd options are already running
	local name=$1 want=$2
	shift 2
	env "$@" "$KPOP" -H localhost -p "$KPOPD_PORT" list >"$E2E_DIR/out" 2>&1
	t_expect_eq "$name" "$want" "$?"
}

kpopd_start
try "realm mode: alice logs in" 0
try "realm mode: carol/admin refused (instances off)" 7 KRB5CCNAME=$carol
kpopd_stop

kpopd_start -o allow_instances=yes
try "realm mode + allow_instances: carol/admin logs in as carol" 0 KRB5CCNAME=$carol
t_expect_match "carol/admin sees carol's (empty) maildrop" "^0 messages" "$(cat "$E2E_DIR/out")"
kpopd_stop

kpopd_start -o usermap=aname2lname
try "aname2lname: alice maps by the default rule" 0
try "aname2lname: carol/admin has no default mapping" 7 KRB5CCNAME=$carol
kpopd_stop

printf '# principal user\ncarol/admin@%s alice\n' "$KPOP_TEST_REALM" >"$E2E_DIR/users"
kpopd_start -o usermap=file -o usermap_file="$E2E_DIR/users"
try "file mode: carol/admin mapped to alice's mailbox" 0 KRB5CCNAME=$carol
t_expect_match "file mode: carol/admin sees alice's message" "^1 messages" "$(cat "$E2E_DIR/out")"
try "file mode: alice is not in the file" 7
if grep -q "alice@$KPOP_TEST_REALM is not in $E2E_DIR/users" "$KPOPD_LOG"; then
	t_pass "file mode: the refusal names the file in the log"
else
	t_fail "file mode: the refusal names the file in the log" "not in log"
fi
kpopd_stop

printf 'alice@OTHER.REALM alice\n' >"$E2E_DIR/users2"
kpopd_start -o usermap=file -o usermap_file="$E2E_DIR/users2" -o realms=$KPOP_TEST_REALM
try "file mode never admits a realm outside 'realms'" 7
kpopd_stop
t_summary
