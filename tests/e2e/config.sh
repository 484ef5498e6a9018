#!/usr/bin/env bash
# tests/e2e/config.sh - kpopd's configuration: -t checks, clear errors for bad
# settings, the file and -o overrides, -t -v printing the effective settings.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

check_bad() { # name expected-message kpopd-args...
	local name=$1 want=$2 out
	shift 2
	out=$("$KPOPD" -t "$@" 2>&1)
	local rc=$?
	if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q -- "$want"; then
		t_pass "$name"
	else
		t_fail "$name" "exit $rc: $out"
	fi
}
check_bad "unknown key refused" "unknown setting" -o frobnicate=1
check_bad "bad listen spec refused" "expected ADDR:PORT" -o "listen=127.0.0.1:99999"
check_bad "bad listen mode refused" "expected ADDR:PORT" -o "listen=127.0.0.1:1 imap"
check_bad "pop3s without a certificate refused" "needs tls_cert" -o "listen=127.0.0.1:1 pop3s"
check_bad "plaintext_login without TLS refused" "passwords never travel in clear" -o plaintext_login=yes
check_bad "maildir template without %u/%h refused" "must contain" -o maildir=/var/mail
check_bad "bad idle_timeout refused" "expected seconds" -o idle_timeout=0
check_bad "missing keytab refused" "keytab" -o keytab=/nonexistent/kpopd.keytab
check_bad "min ssf above max refused" "larger than sasl_max_ssf" -o sasl_min_ssf=56 -o sasl_max_ssf=1
check_bad "explicit missing config file refused" "no such file" -f "$E2E_DIR/none.conf"

# Self-checks of what authentication will need (kpopd -t): each finding one line
# with its fix.
check_bad "keytab without a pop/ key refused" 'no key for service "pop"' -o keytab="$KPOP_TEST_DIR/other.keytab"
: >"$E2E_DIR/empty.keytab"
check_bad "empty keytab refused" "cannot be read as a keytab\|has no keys" -o keytab="$E2E_DIR/empty.keytab"
head -c 300 /dev/urandom >"$E2E_DIR/garbage.keytab"
check_bad "garbage keytab refused" "cannot be read as a keytab" -o keytab="$E2E_DIR/garbage.keytab"
check_bad "pinned server_principal missing from the keytab refused" "server_principal pop/nohost@" \
	-o server_principal="pop/nohost@$KPOP_TEST_REALM"
printf 'not a certificate\n' >"$E2E_DIR/bad.pem"
check_bad "unloadable TLS certificate refused" "problem: TLS" -o tls_cert="$E2E_DIR/bad.pem" -o tls_key="$E2E_DIR/bad.pem"
cp "$KPOP_TEST_DIR/kpopd.keytab" "$E2E_DIR/open.keytab"
chmod 644 "$E2E_DIR/open.keytab"
out=$("$KPOPD" -t -o keytab="$E2E_DIR/open.keytab" 2>&1)
t_expect_eq "a world-readable keytab is only a warning" 0 "$?"
t_expect_match "a world-readable keytab is named with the fix" "warning: keytab .* readable by everyone .*chmod 600" "$out"
out=$("$KPOPD" -t -v 2>&1)
t_expect_match "-t -v lists the keytab's keys with kvno and enctype" "keytab: pop/localhost@$KPOP_TEST_REALM kvno [0-9]+ aes256-cts" "$out"

cat >"$E2E_DIR/kpopd.conf" <<EOC
# a comment
listen = 127.0.0.1:1109 kpop
listen = [::1]:1110 pop3
realms = KPOP.TEST OTHER.TEST
maildir = /srv/mail/%u
allow_instances = yes
EOC
out=$("$KPOPD" -t -v -f "$E2E_DIR/kpopd.conf" -o idle_timeout=42 2>&1)
t_expect_eq "a good file passes -t" 0 "$?"
t_expect_match "listeners from the file replace the default" "listen = 127.0.0.1:1109 kpop" "$out"
t_expect_match "IPv6 listener" "listen = \[::1\]:1110 pop3" "$out"
t_expect_match "realms list" "realms = KPOP.TEST OTHER.TEST" "$out"
t_expect_match "-o overrides the file" "idle_timeout = 42" "$out"
if printf '%s' "$out" | grep -q "listen = \*:1109"; then
	t_fail "the default listener is gone" "$out"
else
	t_pass "the default listener is gone"
fi
printf 'listen = 127.0.0.1:1109 auto\nbogus line\n' >"$E2E_DIR/bad.conf"
out=$("$KPOPD" -t -f "$E2E_DIR/bad.conf" 2>&1)
t_expect_eq "a bad line fails -t" 2 "$?"
t_expect_match "the error names file and line" "bad.conf:2" "$out"
t_summary
