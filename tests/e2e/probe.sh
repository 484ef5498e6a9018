#!/usr/bin/env bash
# tests/e2e/probe.sh - kpop probe against kpopd: an auto listener (GSSAPI and KPOP),
# STLS with a trusted CA, implicit TLS, a certificate for another host, no ticket, a
# server principal the KDC does not know, a server that skips mutual authentication,
# --json (parsed, control characters escaped), and nothing deleted.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
FAKE=$KP_TOP_SRCDIR/tests/fakepop3.py
FAKE_PID=""
trap '[ -z "$FAKE_PID" ] || stop_pid "$FAKE_PID"; e2e_cleanup' EXIT

certs=$E2E_DIR/certs
if ! bash "$KP_TOP_SRCDIR/tests/lib/mkcerts.sh" "$certs"; then
	t_fail "test CA" "mkcerts failed"
	t_summary
	exit 1
fi
md=$(mk_maildir alice)
printf 'From: bob@kpop.test\nSubject: one\n\nbody\n' >"$E2E_DIR/m1"
printf 'From: bob@kpop.test\nSubject: two\n\nbody\n' >"$E2E_DIR/m2"
put_msg "$md" 1000000001.M1.test "$E2E_DIR/m1"
put_msg "$md" 1000000002.M2.test "$E2E_DIR/m2"
before=$(count_msgs "$md")

# probe ARGS...: kpop probe, bounded in time; stdout in $out, stderr in $err, status $rc.
probe() {
	timeout 60 "$KPOP" probe -t 5 "$@" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	rc=$?
	out=$(cat "$E2E_DIR/out")
	err=$(cat "$E2E_DIR/err")
}

# --- an auto listener without TLS: GSSAPI and KPOP both work
kpopd_start -L "127.0.0.1:@PORT@ auto" || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }
port=$KPOPD_PORT
probe localhost -p "$port" -a all -u alice
t_expect_eq "auto listener: exit 0" 0 "$rc"
t_expect_match "the greeting is reported" "greeting +ok - \+OK" "$out"
t_expect_match "CAPA and the SASL mechanisms are reported" "SASL mechanisms +ok - GSSAPI" "$out"
t_expect_match "the service principal and its realm" \
	"service principal +pop/localhost@$KPOP_TEST_REALM" "$out"
t_expect_match "what krb5 did to the host name" "kept localhost as is" "$out"
t_expect_match "the ticket's enctype and kvno (decoded)" \
	"ticket enctype +aes[0-9]+-cts-hmac-sha1-96 \(the server's key; kvno [0-9]+\)" "$out"
t_expect_match "the ticket's times and flags" "valid +from 20[0-9-]+T.* until 20" "$out"
t_expect_match "GSSAPI mutual authentication succeeded" \
	"AUTH GSSAPI +ok - mutual authentication succeeded" "$out"
t_expect_match "the security layer the server offers (privacy on plaintext)" \
	"security layer +ok - privacy \(ssf [0-9]+" "$out"
t_expect_match "STAT after login" "STAT +ok - 2 [0-9]+" "$out"
t_expect_match "the KPOP handshake succeeded" "KPOP handshake +ok - mutual authentication" "$out"
t_expect_match "KPOP login with -u" "login +ok - USER alice accepted" "$out"
t_expect_match "verdict: GSSAPI OK" "GSSAPI port $port +OK" "$out"
t_expect_match "verdict: KPOP OK" "KPOP +port $port +OK" "$out"
if grep -Eq "RETR|DELE" "$KPOPD_LOG"; then
	t_fail "no RETR or DELE is sent" "$(grep -E 'RETR|DELE' "$KPOPD_LOG" | head -3)"
else
	t_pass "no RETR or DELE is sent"
fi

# --json: one object that python parses, with the verdicts
probe localhost -p "$port" -a all --json
t_expect_eq "--json: exit 0" 0 "$rc"
j=$(printf '%s' "$out" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = {x["mechanism"]: (x["ok"], x["exit"]) for x in d["verdicts"]}
print("parsed", v.get("GSSAPI"), v.get("KPOP"), d["exit"], d["kerberos"]["kvno"] != "",
      d["kerberos"]["service_principal"])' 2>&1)
t_expect_match "--json parses and has both verdicts OK" \
	"^parsed \(True, 0\) \(True, 0\) 0 True pop/localhost@$KPOP_TEST_REALM$" "$j"

# --- no ticket
cp "${KRB5CCNAME#FILE:}" "$E2E_DIR/gone.ccache"
KRB5CCNAME=FILE:$E2E_DIR/gone.ccache kdestroy -q
KRB5CCNAME=FILE:$E2E_DIR/gone.ccache probe localhost -p "$port" -a all
t_expect_eq "no ticket: exit 4" 4 "$rc"
t_expect_match "no ticket: says run kinit" "no ticket: run kinit" "$out"
t_expect_match "no ticket: GSSAPI not tried" "AUTH GSSAPI +FAILED - not tried: no ticket" "$out"

# --- a host name that is not one of the realm's principals
probe 127.0.0.1 -p "$port"
t_expect_eq "unknown server principal: exit 5" 5 "$rc"
t_expect_match "unknown server principal: named" \
	"principal unknown: .*pop/127.0.0.1@$KPOP_TEST_REALM not found" "$out"
t_expect_match "unknown server principal: referral realm explained" \
	"realm +none in the principal \(referral realm\)" "$out"
kpopd_stop

# --- STLS and implicit TLS with a trusted CA
tls_opts=(-o tls_cert="$certs/server.pem" -o tls_key="$certs/server.key")
sport=$(free_port)
kpopd_start -L "127.0.0.1:@PORT@ auto" -L "127.0.0.1:$sport pop3s" "${tls_opts[@]}" ||
	t_fail "kpopd with TLS starts" "see log"
wait_port "$sport" 5
port=$KPOPD_PORT
probe localhost -p "$port" --cafile "$certs/ca.pem"
t_expect_eq "STLS: exit 0" 0 "$rc"
t_expect_match "STLS: offered and accepted" "STLS +ok - offered and accepted" "$out"
t_expect_match "STLS: TLS version and cipher" "TLS +ok - TLSv1\.[23] [A-Z0-9_-]+" "$out"
t_expect_match "STLS: certificate subject and issuer" \
	"certificate +subject CN=server, issued by CN=kpop test CA" "$out"
t_expect_match "STLS: host name verified" \
	"host name +ok - the certificate is valid for localhost" "$out"
t_expect_match "STLS: expiry" "expiry .*20[0-9-]+T[0-9:]+Z \(in [0-9]+ days?\)" "$out"
t_expect_match "STLS: no layer on top of TLS" "security layer +none" "$out"
probe localhost -p "$sport" -t 2 --cafile "$certs/ca.pem"
t_expect_match "a POP3S port probed without --tls: says try --tls" \
	"greeting +FAILED - .*try --tls" "$out"
probe localhost -p "$sport" --tls --cafile "$certs/ca.pem"
t_expect_eq "implicit TLS: exit 0" 0 "$rc"
t_expect_match "implicit TLS: TLS reported before the greeting" \
	"TLS +ok - TLSv1.*greeting +ok" "$(printf '%s' "$out" | tr '\n' ' ')"
kpopd_stop

# --- a certificate for another host
kpopd_start -L "127.0.0.1:@PORT@ pop3" \
	-o tls_cert="$certs/wrong.pem" -o tls_key="$certs/wrong.key" ||
	t_fail "kpopd with the wrong certificate starts" "see log"
probe localhost -p "$KPOPD_PORT" --cafile "$certs/ca.pem"
t_expect_eq "wrong host certificate: exit 2" 2 "$rc"
t_expect_match "wrong host certificate: reported as such" \
	"host name +FAILED - .* not valid for the host name localhost \(it names DNS:other.example\)" \
	"$out"
t_expect_match "wrong host certificate: the fix" \
	"fix: connect by a name the certificate carries" "$out"
kpopd_stop

# --- a server that skips mutual authentication (cauth refuses it)
rm -f "$E2E_DIR/fake.port"
"$PYTHON" "$FAKE" ok-early --port-file "$E2E_DIR/fake.port" --log "$E2E_DIR/fake.log" \
	>>"$E2E_DIR/fake.out" 2>&1 &
FAKE_PID=$!
for i in $(seq 100); do [ -s "$E2E_DIR/fake.port" ] && break; sleep 0.05; done
probe localhost -p "$(cat "$E2E_DIR/fake.port")"
t_expect_eq "no mutual authentication: exit 3" 3 "$rc"
t_expect_match "no mutual authentication: reported" \
	"AUTH GSSAPI +FAILED - .*skipped mutual authentication" "$out"
stop_pid "$FAKE_PID"
FAKE_PID=""

# --- control characters from the server stay escaped, in text and in JSON
rm -f "$E2E_DIR/fake.port"
"$PYTHON" "$FAKE" escapes-greeting --port-file "$E2E_DIR/fake.port" --log "$E2E_DIR/fake.log" \
	>>"$E2E_DIR/fake.out" 2>&1 &
FAKE_PID=$!
for i in $(seq 100); do [ -s "$E2E_DIR/fake.port" ] && break; sleep 0.05; done
probe localhost -p "$(cat "$E2E_DIR/fake.port")" --json
j=$(printf '%s' "$out" | "$PYTHON" -c '
import json, sys
raw = sys.stdin.read()
d = json.loads(raw)
bad = [c for c in raw if ord(c) < 0x20 or ord(c) >= 0x7f]
g = [s["detail"] for s in d["connections"][0]["steps"] if s["step"] == "greeting"]
print("parsed", len(bad), "\\x1b[31mRED" in g[0])' 2>&1)
t_expect_match "--json with a hostile greeting: parses, no raw control bytes, text kept as \\xHH" \
	"^parsed 0 True$" "$j"
stop_pid "$FAKE_PID"
FAKE_PID=""

# --- nothing was deleted
t_expect_eq "no message deleted by any probe" "$before" "$(count_msgs "$md")"

t_summary
