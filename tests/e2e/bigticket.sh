#!/usr/bin/env bash
# tests/e2e/bigticket.sh - Active Directory-size tickets: a real KDC-issued ticket
# carrying about 58 KB of authorization data (as a PAC for thousands of groups) logs
# in over GSSAPI (with and without a security layer) and KPOP; one of about 70 KB,
# past the 65,535-octet cap, is refused cleanly on both paths: GSSAPI with
# "-ERR [AUTH] Kerberos token too large", KPOP with a KRB-ERROR
# (KRB_ERR_FIELD_TOOLONG) instead of a reset, and kpop says so in a sentence.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
BIGTICKET=${KP_TOP_BUILDDIR:?}/tests/lib/bigticket

md=$(mk_maildir alice)
for i in 1 2; do
	printf 'Subject: big ticket %s\n\nbody %s\n' "$i" "$i" >"$md/new/100000000$i.M$i.test"
done
kpopd_start -L "127.0.0.1:@PORT@ auto" ||
	{ t_fail "kpopd starts" "see log"; t_summary; exit 1; }

# big_ccache OCTETS NAME: a ccache holding alice's ticket for pop/localhost with
# OCTETS of authorization data; prints the ticket's size.
big_ccache() {
	"$BIGTICKET" "FILE:$KPOP_TEST_DIR/alice.ccache" "pop/localhost@$KPOP_TEST_REALM" "$1" \
		"FILE:$E2E_DIR/$2.ccache"
}
log_mark() { wc -l <"$KPOPD_LOG"; }
log_since() { tail -n +"$(($1 + 1))" "$KPOPD_LOG"; }

# 1. About 58 KB: under the cap, accepted on every path.
size=$(big_ccache 58000 big58)
if [ -n "$size" ] && [ "$size" -gt 55000 ] && [ "$size" -lt 65535 ]; then
	t_pass "the KDC issued a ticket of $size octets"
else
	t_fail "the KDC issued a ticket of about 58 KB" "got '$size'"
fi
export KRB5CCNAME=FILE:$E2E_DIR/big58.ccache
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$E2E_DIR/out-gss" fetch 2>&1)
t_expect_eq "GSSAPI with a $size-octet ticket: fetch exits 0" 0 "$?"
t_expect_eq "GSSAPI with a big ticket: 2 messages arrive" 2 "$(find "$E2E_DIR/out-gss/new" -type f | wc -l)"
if cmp -s "$md/new/1000000001.M1.test" "$(grep -l 'big ticket 1' "$E2E_DIR"/out-gss/new/* | head -n 1)"; then
	t_pass "a message fetched with a big ticket is byte-identical"
else
	t_fail "a message fetched with a big ticket is byte-identical" "differs"
fi
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --sasl-layer privacy list 2>&1)
t_expect_eq "GSSAPI privacy layer with a big ticket (its context exported to the worker)" 0 "$?"
t_expect_match "the privacy layer lists the messages" "^2 messages" "$out"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list 2>&1)
t_expect_eq "KPOP with a $size-octet ticket: exit 0" 0 "$?"
t_expect_match "KPOP with a big ticket lists the messages" "^2 messages" "$out"

# 2. About 70 KB: past the cap, refused on both paths with the reason.
size=$(big_ccache 70000 big70)
t_expect_match "the KDC issued a ticket over 65,535 octets" "^7[0-9]{4}$" "$size"
export KRB5CCNAME=FILE:$E2E_DIR/big70.ccache
mark=$(log_mark)
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_eq "GSSAPI with a 70 KB ticket: refused, exit 7" 7 "$?"
t_expect_match "kpop says the server refused the ticket as too large (GSSAPI)" \
	"the server localhost refused a 70,[0-9]{3}-octet ticket as too large" "$err"
sleep 0.2
t_expect_match "the server logs the token as over the limit (GSSAPI)" \
	"auth failed: .*Kerberos token.*over the limit of 65535" "$(log_since "$mark")"
mark=$(log_mark)
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice list 2>&1)
t_expect_eq "KPOP with a 70 KB ticket: refused, exit 7" 7 "$?"
t_expect_match "kpop says the server refused the ticket as too large (KPOP)" \
	"the server localhost refused a 70,[0-9]{3}-octet ticket as too large" "$err"
if printf '%s' "$err" | grep -Eq "reset|abort|is it a KPOP server"; then
	t_fail "KPOP: a KRB-ERROR, not a reset" "$err"
else
	t_pass "KPOP: a KRB-ERROR, not a reset"
fi
sleep 0.2
t_expect_match "the server logs the AP-REQ as over the limit (KPOP)" \
	"AP-REQ of 70[0-9]{3} octets is over the limit of 65535.*KRB_ERR_FIELD_TOOLONG" \
	"$(log_since "$mark")"

# 3. The exact cap: a first GSSAPI token, and a KPOP AP-REQ, of exactly 65,535 octets
#    is accepted (GSSAPI also with a privacy layer), one of 65,536 refused.  The
#    ticket is sized to the octet (its authorization data), then the Python clients
#    make new authenticators until the token is exactly that long.
gc() { "$PYTHON" "$KP_TOP_SRCDIR/tests/gssclient.py" "$@"; }
kt() { "$PYTHON" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$@"; }
# sized WANT NAME gss|kpop: a ccache NAME whose tokens (GSSAPI first tokens or KPOP
# AP-REQs) are commonly WANT octets; prints the ticket's size, or nothing.
sized() {
	local want=$1 name=$2 how=$3 oct=$(($1 - 1200)) got i tsize
	for i in 1 2 3 4 5 6; do
		tsize=$(big_ccache "$oct" "$name") || return 1
		if [ "$how" = gss ]; then
			got=$(KRB5CCNAME=FILE:$E2E_DIR/$name.ccache gc - sizes 12 2>>"$E2E_DIR/sizes.log")
		else
			got=$(KRB5CCNAME=FILE:$E2E_DIR/$name.ccache kt - sizes 12 2>>"$E2E_DIR/sizes.log")
		fi
		[ -n "$got" ] || return 1
		[ "$got" -eq "$want" ] && { echo "$tsize"; return 0; }
		oct=$((oct + want - got))
	done
	return 1
}
for n in 65535 65536; do
	if tsize=$(sized "$n" "gss$n" gss); then
		t_pass "a $tsize-octet ticket whose GSSAPI first token is $n octets"
	else
		t_fail "a ticket whose GSSAPI token is $n octets" "could not size it"
	fi
	if tsize=$(sized "$n" "kpop$n" kpop); then
		t_pass "a $tsize-octet ticket whose KPOP AP-REQ is $n octets"
	else
		t_fail "a ticket whose KPOP AP-REQ is $n octets" "could not size it"
	fi
done
# exact gss|kpop N [ARGS]: the exact client with the ccache sized for it; when it cannot make a
# token of N octets from the ticket (not the size measured), the ticket is sized
# once more and the client run again.
exact() {
	local how=$1 n=$2 out
	shift 2
	export KRB5CCNAME=FILE:$E2E_DIR/$how$n.ccache
	for i in 1 2; do
		if [ "$how" = gss ]; then out=$(gc "$KPOPD_PORT" exact "$n" "$@" 2>&1)
		else out=$(kt "$KPOPD_PORT" exact "$n" "$@" 2>&1); fi
		printf '%s\n' "$out" >>"$E2E_DIR/sizes.log"
		case $out in *"no first token of"* | *"no AP-REQ of"*) sized "$n" "$how$n" "$how" >/dev/null ;; *) break ;; esac
	done
	printf '%s' "$out"
}
t_expect_match "GSSAPI: a first token of exactly 65,535 octets is accepted" \
	"^token of 65535 octets: \+OK" "$(exact gss 65535)"
t_expect_match "GSSAPI: 65,535 octets with a privacy layer (the exported context, PAC and all, reaches the worker)" \
	"^token of 65535 octets: \+OK.*STAT through the privacy layer: \+OK 2 " \
	"$(exact gss 65535 4)"
mark=$(log_mark)
t_expect_match "GSSAPI: a first token of 65,536 octets is refused as too large" \
	"^token of 65536 octets: -ERR \[AUTH\] Kerberos token too large" "$(exact gss 65536)"
sleep 0.2
t_expect_match "GSSAPI: 65,536 octets: the log says over the limit of 65535" \
	"Kerberos token of 65536 octets is over the limit of 65535" "$(log_since "$mark")"
t_expect_match "KPOP: an AP-REQ of exactly 65,535 octets is accepted" \
	"^AP-REQ of 65535 octets: OK; STAT: \+OK 2 " "$(exact kpop 65535 alice)"
mark=$(log_mark)
t_expect_match "KPOP: an AP-REQ of 65,536 octets is answered with a KRB-ERROR" \
	"^AP-REQ of 65536 octets: KRB-ERROR" "$(exact kpop 65536 alice)"
sleep 0.2
t_expect_match "KPOP: 65,536 octets: the log names the size and KRB_ERR_FIELD_TOOLONG" \
	"AP-REQ of 65536 octets is over the limit of 65535.*KRB_ERR_FIELD_TOOLONG" "$(log_since "$mark")"

# 4. The server is none the worse: an ordinary ticket still logs in.
export KRB5CCNAME=FILE:$KPOP_TEST_DIR/alice.ccache
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_eq "an ordinary ticket still logs in after the refusals" 0 "$?"

t_summary
