#!/usr/bin/env bash
# tests/e2e/gsslayer.sh - the GSSAPI security layer kpopd runs itself (RFC 4752 on
# GSS-API, the context exported after the exchange and imported for the layer),
# driven by python-gssapi (tests/gssclient.py), an implementation kpopd does not
# share: the client's max buffer honoured, tokens encrypted exactly in the privacy
# layer, the 65536-byte input limit, the export logged, authzid rules.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
gc() { timeout 60 "$PYTHON" "$KP_TOP_SRCDIR/tests/gssclient.py" "$KPOPD_PORT" "$@" 2>&1; }
count() { grep -Ec -- "$1" "$KPOPD_LOG"; }
in_log() { # name regex
	if grep -Eq -- "$2" "$KPOPD_LOG"; then
		t_pass "$1"
	else
		t_fail "$1" "/$2/ not in the server log"
	fi
}

msgs=$E2E_DIR/msgs
make_test_messages "$msgs"
md=$(mk_maildir alice)
put_msg "$md" 1000000001.M1.test "$msgs/big"
put_msg "$md" 1000000002.M2.test "$msgs/dots"
put_msg "$md" 1000000003.M3.test "$msgs/binary"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md"
kpopd_start || { t_fail "kpopd starts" "see log"; t_summary; exit 1; }

# 1. The client's max buffer: every token the server sends fits in it (the data is
# split), for both layers, down to a buffer of 100 bytes; the content is intact.
for case in "2 65536 integrity" "4 65536 privacy" "4 4096 privacy" "2 1000 integrity" \
	"4 100 privacy"; do
	set -- $case
	what="$3 layer, client max buffer $2"
	out=$(gc layered "$1" "$2" 1 "$msgs/big" 2 "$msgs/dots" 3 "$msgs/binary")
	t_expect_match "$what: login" "^login: \+OK Logged in as alice" "$out"
	t_expect_match "$what: STAT through the layer" "STAT: \+OK 3 " "$out"
	t_expect_match "$what: 5 MB message intact" "RETR 1: \+OK, intact" "$out"
	t_expect_match "$what: dot-stuffed message intact" "RETR 2: \+OK, intact" "$out"
	t_expect_match "$what: 8-bit message intact" "RETR 3: \+OK, intact" "$out"
	t_expect_match "$what: every token within the client's max buffer" \
		"largest token [0-9]+, within $2: yes" "$out"
	if [ "$3" = privacy ]; then
		t_expect_match "$what: every token encrypted" "^encrypted: yes$" "$out"
	else
		t_expect_match "$what: no token encrypted" "^encrypted: no$" "$out"
	fi
	t_expect_match "$what: QUIT" "QUIT: \+OK" "$out"
done

# 2. The exported context: its size is logged at debug, with the import.
in_log "the exported context's size is logged at debug" \
	"debug: GSSAPI context exported for the security layer: [0-9]{3,5} bytes in [0-9]+ us"
in_log "the import is logged at debug" \
	"debug: security layer: GSS context imported \([0-9]{3,5} bytes\) in [0-9]+ us"
t_expect_eq "one export and one import per layered session" "5 5" \
	"$(count 'context exported') $(count 'context imported')"
before=$(count 'context exported')
"$KPOP" -q -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "a session without a layer: kpop list exits 0" 0 "$?"
t_expect_eq "a session without a layer exports no context" "$before" "$(count 'context exported')"

# 2b. Input framing: a packet a byte at a time, two packets in one write, a command
# split over two packets.
out=$(gc trickle)
t_expect_match "a packet sent a byte at a time is read" "^byte at a time: \+OK$" "$out"
t_expect_match "two packets in one write are both read" \
	"^two in one write: \+OK \| \+OK 3 [0-9]+$" "$out"
t_expect_match "a command split over two packets is read" "^split command: \+OK 3 [0-9]+$" "$out"

# 3. Input limits: a token of exactly our maximum (65536) is read, one more byte
# ends the session with a clear log line; so does an unencrypted packet inside the
# privacy layer.
out=$(gc boundary)
t_expect_match "a 65536-byte token is accepted (its over-long line answered)" \
	"token of 65536: reply -ERR Line too long" "$out"
t_expect_match "a 65537-byte token ends the session" "token of 65537: closed" "$out"
sleep 0.3
in_log "the oversized packet is logged" \
	"could not decode the peer's data \(a packet of 65537 bytes, we accept 1 to 65536"
out=$(gc unencrypted)
t_expect_eq "an unencrypted packet inside the privacy layer ends the session" \
	"unencrypted packet inside privacy: closed" "$out"
sleep 0.3
in_log "the unencrypted packet is logged" \
	"could not decode the peer's data \(a packet without encryption inside the privacy layer\)"
kpopd_stop

# 4. authzid rules with a map file (alice@REALM -> carol): the mapped user, the
# full principal and the principal without the default realm (what libsasl2 called
# the authenticated identity) may be given; another user may not.
md2=$(mk_maildir carol)
put_msg "$md2" 1000000001.M1.test "$msgs/dots"
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$md2"
printf 'alice@%s carol\n' "$KPOP_TEST_REALM" >"$E2E_DIR/usermap"
kpopd_start -o usermap=file -o usermap_file="$E2E_DIR/usermap"
for az in carol "alice@$KPOP_TEST_REALM" alice ""; do
	t_expect_match "authzid \"$az\" for alice mapped to carol: accepted" \
		"^\+OK Logged in as carol" "$(gc login "$az")"
done
t_expect_match "authzid \"bob\" for alice mapped to carol: refused" "^-ERR \[AUTH\]" \
	"$(gc login bob)"
t_expect_match "authzid \"alice@OTHER.REALM\": refused" "^-ERR \[AUTH\]" \
	"$(gc login alice@OTHER.REALM)"

# 5. The wrapped layer offer travels with the server's last token (the worker
# answers the client's empty response itself): a response that is not empty
# there is still refused, logged, and the session goes on.
out=$(gc nonempty)
t_expect_match "data where the response must be empty: refused" "^answer: -ERR \[AUTH\]" "$out"
t_expect_match "data where the response must be empty: the session goes on" "then: \+OK" "$out"
if grep -q "data in the response that must be empty" "$KPOPD_LOG"; then
	t_pass "data where the response must be empty: logged"
else
	t_fail "data where the response must be empty: logged" "not in $KPOPD_LOG"
fi
kpopd_stop
t_summary
