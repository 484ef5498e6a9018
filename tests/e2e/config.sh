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

# usermap_file parses; rcache_dir exists and is a directory; listed realms exist in
# krb5.conf (a warning, a problem with plaintext_login); TLS expiry and host name.
printf '# map\nalice@%s alice\nbob@%s\n' "$KPOP_TEST_REALM" "$KPOP_TEST_REALM" >"$E2E_DIR/users.bad"
check_bad "a usermap_file line without a user refused, with file and line" \
	"problem: .*users.bad:3: expected \"principal user\"" -o usermap=file -o usermap_file="$E2E_DIR/users.bad"
printf 'alice alice\n' >"$E2E_DIR/users.norealm"
check_bad "a usermap_file principal without its realm refused" \
	"users.norealm:1: alice is not a principal with its realm" -o usermap=file -o usermap_file="$E2E_DIR/users.norealm"
printf 'alice@%s ../root\n' "$KPOP_TEST_REALM" >"$E2E_DIR/users.baduser"
check_bad "a usermap_file user name that is not a safe name refused" \
	"users.baduser:1: ../root is not a valid local user name" -o usermap=file -o usermap_file="$E2E_DIR/users.baduser"
printf 'alice@%s alice\n' "$KPOP_TEST_REALM" >"$E2E_DIR/users.good"
out=$("$KPOPD" -t -v -o usermap=file -o usermap_file="$E2E_DIR/users.good" 2>&1)
t_expect_eq "a good usermap_file passes -t" 0 "$?"
t_expect_match "-t -v counts the usermap_file's entries" "usermap_file: .*users.good, 1 entry" "$out"
check_bad "a missing rcache_dir refused with the fix" "problem: rcache_dir $E2E_DIR/norc: No such file.*fix: mkdir -m 700" \
	-o rcache_dir="$E2E_DIR/norc"
check_bad "an rcache_dir that is a file refused" "rcache_dir .* is not a directory" -o rcache_dir="$E2E_DIR/users.good"
out=$("$KPOPD" -t -o realms="$KPOP_TEST_REALM NOSUCH.TEST" 2>&1)
t_expect_eq "a listed realm missing from krb5.conf is only a warning" 0 "$?"
t_expect_match "the missing realm is named" "warning: realm NOSUCH.TEST \(realms\) has no \[realms\] entry in krb5.conf" "$out"
if printf '%s' "$out" | grep -q "realm $KPOP_TEST_REALM "; then
	t_fail "a realm krb5.conf knows is not reported" "$out"
else
	t_pass "a realm krb5.conf knows is not reported"
fi
certs=$E2E_DIR/certs
bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs" >/dev/null 2>&1
check_bad "with plaintext_login a realm missing from krb5.conf is a problem" \
	"problem: realm NOSUCH.TEST .*plaintext_login asks its KDC" -o realms=NOSUCH.TEST \
	-o plaintext_login=yes -o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key"
out=$("$KPOPD" -t -o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" -o hostname=localhost 2>&1)
t_expect_match "a certificate that expires within 30 days is a warning" \
	"warning: TLS: the certificate .*server.pem expires in [0-9]+ days" "$out"
out=$("$KPOPD" -t -o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" -o hostname=mail.elsewhere.test 2>&1)
t_expect_match "a certificate that does not name hostname is a warning" \
	"warning: TLS: the certificate .*server.pem does not name this host \(mail.elsewhere.test\)" "$out"
check_bad "a key that does not match the certificate refused" "problem: TLS: .*wrong.key" \
	-o tls_cert="$certs/server.pem" -o tls_key="$certs/wrong.key"
if command -v faketime >/dev/null; then
	out=$(faketime -f +400d "$KPOPD" -t -o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key" \
		-o hostname=localhost 2>&1)
	t_expect_match "an expired certificate is a problem (400 days on, faketime)" \
		"problem: TLS: the certificate .*server.pem has expired" "$out"
else
	t_skip "an expired certificate is a problem" "faketime is not installed"
fi

check_bad "mail_uid = root refused by -t, with the fix" "problem: mail_uid must not be root; fix: mail_uid names" -o mail_uid=root
check_bad "an unknown mail_uid refused by -t" "problem: .*nosuchuser-kp" -o mail_uid=nosuchuser-kp
out=$(timeout 10 "$KPOPD" -F -o log=stderr -o mail_uid=0 -L "127.0.0.1:$(free_port) pop3" 2>&1)
t_expect_eq "the daemon refuses to start with mail_uid = root (no worker fork loop)" \
	"1 error: mail_uid must not be root" "$? $(printf '%s\n' "$out" | grep -o 'error: mail_uid.*')"

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
