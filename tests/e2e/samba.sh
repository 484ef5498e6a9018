#!/usr/bin/env bash
# tests/e2e/samba.sh - the AD tier (issue 14): a Samba 4 Active Directory domain
# controller, provisioned once per run entirely in this test's temp dir (its own
# smb.conf, databases, sockets, logs and pid file; /etc/samba is never read or
# written), serving only its KDC on 127.0.0.2 at free ports, stopped by its PID.
# In the domain AD.TEST: alice; service accounts with SPNs (popaes: AES keys,
# msDS-SupportedEncryptionTypes 24; poprc4: AD's default, RC4 service tickets),
# keytabs exported with samba-tool domain exportkeytab; thousands of groups
# (nested: users in bucket groups, each bucket in ~84 leaf groups), so that the
# DC's PAC makes AD-size tickets.  Cases: AES service keys (kpop over GSSAPI and
# KPOP, curl, fetchmail: byte-exact); RC4 keys where RC4 is permitted (works) and
# where the host permits AES only (refused, the log names the enctype cause); a
# user in ~4,900 groups (a ~40 KB ticket) fetches over GSSAPI, a privacy layer and
# KPOP; a user in ~8,500 groups (a ~69 KB ticket, over the 65,535-octet cap) is
# refused cleanly on both paths; and the cap to the octet: "edge" (~8,025 groups,
# with service names sized to the octet) gets tickets whose first GSSAPI token and
# KPOP AP-REQ are exactly 65,535 octets (accepted, GSSAPI also with a privacy
# layer) and 65,536 (refused).  Skipped, with the reason, only where Samba's AD DC
# is not installed or cannot run.
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"
BIGTICKET=${KP_TOP_BUILDDIR:?}/tests/lib/bigticket
PY=/usr/bin/python3 # Debian's, where python3-samba lives
A=$E2E_DIR/ad
SAMBA_PID=""
LEAVES=8400
BUCKETS=100

skip_tier() { t_skip "AD tier (Samba AD DC)" "$1"; t_summary; exit 0; }
for c in samba samba-tool; do
	command -v "$c" >/dev/null ||
		skip_tier "$c is not installed (Debian: samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind; scripts/setup.sh installs them)"
done
"$PY" -c 'import samba.samdb' 2>/dev/null ||
	skip_tier "python3-samba is not importable by $PY"

stop_samba() {
	[ -n "$SAMBA_PID" ] || return 0
	local kids
	kids=$(ps -o pid= --ppid "$SAMBA_PID" 2>/dev/null)
	stop_pid "$SAMBA_PID"
	for k in $kids; do stop_pid "$k"; done
	SAMBA_PID=""
}
trap 'stop_samba; e2e_cleanup' EXIT
sconf() { printf '%s' "$A/etc/smb.conf"; }
st() { samba-tool "$@" -s "$(sconf)" >>"$A/samba-tool.log" 2>&1; }

# 1. Provision: every path inside $A, only the KDC service.  Ports are set at start.
mkdir -p "$A/log"
: >"$A/empty.conf"
t0=$(date +%s)
# (samba-provision.py: samba-tool's provision less the sysvol ACLs, which need root)
if ! "$PY" "$KP_TOP_SRCDIR/tests/lib/samba-provision.py" -s "$A/empty.conf" --targetdir="$A" --realm=AD.TEST \
	--domain=ADTEST --server-role=dc --dns-backend=NONE --host-name=dc1 \
	--adminpass='Adm1n-pass!x' \
	--option="interfaces=127.0.0.2/8" --option="bind interfaces only=yes" \
	--option="server services=kdc" --option="pid directory=$A/run" \
	--option="ncalrpc dir=$A/run/ncalrpc" --option="winbindd socket directory=$A/run/winbindd" \
	--option="ntp signd socket directory=$A/run/ntp_signd" --option="log file=$A/log/samba.log" \
	--option="usershare path=$A/usershares" --option="smb passwd file=$A/private/smbpasswd" \
	--option="krb5 port=88" --option="kpasswd port=464" --option="panic action=" \
	--option="log level=1" >"$A/provision.log" 2>&1; then
	skip_tier "samba-tool domain provision failed: $(grep -v '^INFO' "$A/provision.log" | tail -n 2 | tr '\n' ' ')"
fi
t_pass "a Samba AD domain AD.TEST provisioned in the temp dir ($(($(date +%s) - t0)) s)"

# 2. Accounts and groups (one process through Samba's own database modules).
#    popaes also has the SPNs popx/localhost, popxx/localhost, ... (the exact-cap
#    case sizes tickets to the octet with the service name's length).
svcname() { printf 'pop%*s' "$1" '' | tr ' ' x; } # pop and N x's
EDGE_SPNS=""
for k in $(seq 1 40); do EDGE_SPNS="$EDGE_SPNS,$(svcname "$k")/localhost"; done
t0=$(date +%s)
if counts=$("$PY" "$KP_TOP_SRCDIR/tests/lib/samba-populate.py" "$(sconf)" \
	"$A/private/sam.ldb" "$LEAVES" "$BUCKETS" \
	'user:alice:Al1ce-pass!x:0' 'user:big40:B1g40-pass!x:58' 'user:huge:Hug3-pass!x:100' \
	'user:edge:Edg3-pass!x:94' "svc:popaes:Svc-aes!pass1x:24:pop/localhost$EDGE_SPNS" \
	'svc:poprc4:Svc-rc4!pass1x:-:poprc4/localhost' 2>"$A/populate.log"); then
	t_pass "users, service accounts with SPNs and $((LEAVES + BUCKETS)) groups ($(($(date +%s) - t0)) s)"
else
	t_fail "populating the domain" "$(tail -n 3 "$A/populate.log")"
	t_summary
	exit 1
fi
groups_of() { printf '%s\n' "$counts" | awk -v u="$1" '$1 == u { print $2 }'; }
if st domain exportkeytab "$A/aes.keytab" --principal=pop/localhost &&
   st domain exportkeytab "$A/rc4.keytab" --principal=poprc4/localhost; then
	t_pass "keytabs exported with samba-tool domain exportkeytab --principal"
else
	t_fail "samba-tool domain exportkeytab" "$(tail -n 3 "$A/samba-tool.log")"
fi
chmod 644 "$A/aes.keytab" "$A/rc4.keytab" # kpopd reads them as it starts, as root

# 3. The DC, serving its KDC on 127.0.0.2 at free ports (tried again on a clash).
free_port2() { # a port free on 127.0.0.2 over TCP and UDP
	"$PY" -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.2", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.2", p)); print(p); break
    except OSError:
        pass'
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.2/$1") 2>/dev/null; }
for try in 1 2 3; do
	KDC_PORT=$(free_port2)
	KPW_PORT=$(free_port2)
	sed -i -e "s/^\(\s*krb5 port = \).*/\1$KDC_PORT/" -e "s/^\(\s*kpasswd port = \).*/\1$KPW_PORT/" "$(sconf)"
	# (-l: its log from the first line on, before smb.conf names the log file)
	samba -F -M single -s "$(sconf)" -l "$A/log" >"$A/samba.out" 2>&1 &
	SAMBA_PID=$!
	for i in $(seq 200); do
		port_open "$KDC_PORT" && break
		kill -0 "$SAMBA_PID" 2>/dev/null || break
		sleep 0.05
	done
	port_open "$KDC_PORT" && break
	stop_samba
done
if [ -n "$SAMBA_PID" ]; then
	t_pass "the DC's KDC runs on 127.0.0.2:$KDC_PORT (samba pid $SAMBA_PID)"
else
	skip_tier "samba (the AD DC) does not start here: $(tail -n 3 "$A/log/samba.log" "$A/samba.out" 2>/dev/null | tr '\n' ' ')"
fi

cat >"$A/krb5.conf" <<EOC
[libdefaults]
	default_realm = AD.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	AD.TEST = {
		kdc = 127.0.0.2:$KDC_PORT
	}
[domain_realm]
	localhost = AD.TEST
EOC
sed '/^\[libdefaults\]/a\	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96' \
	"$A/krb5.conf" >"$A/aes-only.conf"
export KRB5_CONFIG=$A/krb5.conf
login() { # login USER PASSWORD: a TGT from the DC in $A/USER.ccache
	echo "$2" | kinit -c "FILE:$A/$1.ccache" "$1@AD.TEST" >"$A/kinit-$1.log" 2>&1
}
log_mark() { wc -l <"$KPOPD_LOG"; }
log_since() { tail -n +"$(($1 + 1))" "$KPOPD_LOG" | grep -v ': debug: '; }
tsize() { # tsize USER SERVICE: the size of USER's ticket for SERVICE/localhost
	"$BIGTICKET" "FILE:$A/$1.ccache" "$2/localhost@AD.TEST" 0 "FILE:$A/$1-$2.ccache" 2>>"$A/bigticket.log"
}
etype() { # etype CCACHE SERVICE: the enctype of the ticket for SERVICE/localhost
	klist -e -c "$1" 2>/dev/null | grep -A1 " $2/localhost@AD.TEST" | sed -n 's/.*tkt): [^,]*, *//p' | tr -d ' '
}
same() { # same NAME ORIGINAL DIR-WITH-COPIES PATTERN
	if cmp -s "$2" "$(grep -l "$4" "$3"/new/* 2>/dev/null | head -n 1)"; then t_pass "$1"; else t_fail "$1" "differs"; fi
}

for u in alice big40 huge edge; do mk_maildir "$u" >/dev/null; done
for u in alice big40; do
	md=$MAILROOT/$u/Maildir
	for i in 1 2; do
		printf 'Subject: ad %s %s\n\n.dot line\nbody %s\n' "$u" "$i" "$i" >"$md/new/100000000$i.M$i.test"
	done
done
chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$MAILROOT"

# 4. AES service keys.
login alice 'Al1ce-pass!x' && t_pass "alice gets a TGT from the DC" ||
	t_fail "alice gets a TGT from the DC" "$(cat "$A/kinit-alice.log")"
export KRB5CCNAME=FILE:$A/alice.ccache
kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$A/aes.keytab" ||
	{ t_fail "kpopd starts with the AES keytab" "see log"; t_summary; exit 1; }
amd=$MAILROOT/alice/Maildir
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$A/out-gss" fetch >"$A/kpop.out" 2>&1
t_expect_eq "AES keys: kpop over GSSAPI fetches (exit 0)" 0 "$?"
t_expect_eq "AES keys: the service ticket is AES" "aes256-cts-hmac-sha1-96" "$(etype "$KRB5CCNAME" pop)"
t_expect_eq "AES keys, GSSAPI: 2 messages arrive" 2 "$(find "$A/out-gss/new" -type f | wc -l)"
same "AES keys, GSSAPI: byte-exact" "$amd/new/1000000002.M2.test" "$A/out-gss" "ad alice 2"
"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u alice --maildir "$A/out-kpop" fetch >"$A/kpop.out" 2>&1
t_expect_eq "AES keys: kpop over KPOP fetches (exit 0)" 0 "$?"
same "AES keys, KPOP: byte-exact" "$amd/new/1000000001.M1.test" "$A/out-kpop" "ad alice 1"
if grep -q "auth ok mech=GSSAPI principal=alice@AD.TEST" "$KPOPD_LOG" &&
   grep -q "KPOP: authenticated principal=alice@AD.TEST" "$KPOPD_LOG"; then
	t_pass "AES keys: kpopd logs alice@AD.TEST on both paths"
else
	t_fail "AES keys: kpopd logs alice@AD.TEST on both paths" "not in the log"
fi
if command -v curl >/dev/null && curl -V | grep -q GSS-API; then
	out=$(timeout 30 curl -sS --login-options AUTH=GSSAPI -u "alice@AD.TEST:" \
		"pop3://localhost:$KPOPD_PORT/1" 2>&1)
	t_expect_eq "AES keys: curl AUTH GSSAPI RETR exits 0" 0 "$?"
	t_expect_eq "AES keys: curl gets message 1 intact" "$(cat "$amd/new/1000000001.M1.test")" \
		"$(printf '%s' "$out" | tr -d '\r')"
else
	t_skip "curl against the AD ticket" "curl with GSS-API is not installed"
fi
if command -v fetchmail >/dev/null; then
	mkdir -p "$A/fmhome"
	HOME=$A/fmhome FETCHMAILHOME=$A/fmhome timeout 60 fetchmail --pidfile "$A/fmhome/fm.pid" \
		-N --nosslcertck --sslproto '' -a -k --mda "cat >> $A/fm.mbox" \
		-p POP3 --auth gssapi -u alice -P "$KPOPD_PORT" localhost >"$A/fm.out" 2>&1
	t_expect_eq "AES keys: fetchmail --auth gssapi exits 0" 0 "$?"
	t_expect_eq "AES keys: fetchmail delivers both messages" 2 "$(grep -c '^Subject: ad alice' "$A/fm.mbox" 2>/dev/null)"
else
	t_skip "fetchmail against the AD ticket" "fetchmail is not installed"
fi

# 5. RC4 keys (an account with SPNs and no msDS-SupportedEncryptionTypes).
kpopd_stop
kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$A/rc4.keytab" -o service=poprc4 ||
	{ t_fail "kpopd starts with the RC4 account's keytab" "see log"; t_summary; exit 1; }
"$KPOP" -H localhost -p "$KPOPD_PORT" --service poprc4 list >"$A/kpop.out" 2>&1
t_expect_eq "RC4 keys, RC4 permitted: GSSAPI logs in" 0 "$?"
t_expect_eq "RC4 keys: the DC issued an RC4 service ticket" "DEPRECATED:arcfour-hmac" "$(etype "$KRB5CCNAME" poprc4)"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service poprc4 --auth kpop -u alice list 2>&1)
t_expect_eq "RC4 keys, RC4 permitted: KPOP logs in" 0 "$?"
t_expect_match "RC4 keys, KPOP: lists the messages" "^2 messages" "$out"
kpopd_stop
KRB5_CONFIG=$A/aes-only.conf kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$A/rc4.keytab" \
	-o service=poprc4 -o log_level=info ||
	{ t_fail "kpopd starts on an AES-only host" "see log"; t_summary; exit 1; }
cause="ticket for poprc4/localhost@AD.TEST kvno [0-9]+ arcfour-hmac: enctype arcfour-hmac is not permitted on this host \(permitted_enctypes in krb5.conf\): give the service account AES keys"
for how in gssapi kpop; do
	a=()
	[ "$how" = kpop ] && a=(--auth kpop -u alice)
	mark=$(log_mark)
	err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --service poprc4 "${a[@]}" list 2>&1)
	t_expect_eq "RC4 keys, host permits AES only ($how): refused, exit 7" 7 "$?"
	sleep 0.2
	t_expect_match "RC4 keys, AES-only host ($how): the log names the enctype cause" "$cause" "$(log_since "$mark")"
done
t_expect_match "RC4 keys, AES-only host (KPOP): kpop points at the enctype, not the keytab" \
	"does not permit the encryption type .*AES keys" "$err"

# 6. Big PACs.  big40: ~4,900 groups, a ticket of about 40 KB, accepted everywhere.
kpopd_stop
kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$A/aes.keytab" ||
	{ t_fail "kpopd starts with the AES keytab" "see log"; t_summary; exit 1; }
login big40 'B1g40-pass!x' || t_fail "big40 gets a TGT" "$(cat "$A/kinit-big40.log")"
export KRB5CCNAME=FILE:$A/big40.ccache
size=$(tsize big40 pop)
if [ -n "$size" ] && [ "$size" -ge 38000 ] && [ "$size" -le 44000 ]; then
	t_pass "big40 ($(groups_of big40) groups): the DC's ticket with its PAC is $size octets"
else
	t_fail "big40: a ticket of about 40 KB" "got '$size'"
fi
bmd=$MAILROOT/big40/Maildir
"$KPOP" -H localhost -p "$KPOPD_PORT" --maildir "$A/out-big-gss" fetch >"$A/kpop.out" 2>&1
t_expect_eq "a $size-octet AD ticket over GSSAPI: fetch exits 0" 0 "$?"
same "a $size-octet AD ticket over GSSAPI: byte-exact" "$bmd/new/1000000002.M2.test" "$A/out-big-gss" "ad big40 2"
out=$("$KPOP" -H localhost -p "$KPOPD_PORT" --sasl-layer privacy list 2>&1)
t_expect_eq "a $size-octet AD ticket with a privacy layer" 0 "$?" || printf '%s\n' "$out" >&2
"$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u big40 --maildir "$A/out-big-kpop" fetch >"$A/kpop.out" 2>&1
t_expect_eq "a $size-octet AD ticket over KPOP: fetch exits 0" 0 "$?"
same "a $size-octet AD ticket over KPOP: byte-exact" "$bmd/new/1000000001.M1.test" "$A/out-big-kpop" "ad big40 1"

# huge: ~8,500 groups, past the cap: refused cleanly on both paths.
login huge 'Hug3-pass!x' || t_fail "huge gets a TGT" "$(cat "$A/kinit-huge.log")"
export KRB5CCNAME=FILE:$A/huge.ccache
size=$(tsize huge pop)
if [ -n "$size" ] && [ "$size" -gt 65535 ]; then
	t_pass "huge ($(groups_of huge) groups): the DC's ticket is $size octets, over the cap"
else
	t_fail "huge: a ticket over 65,535 octets" "got '$size'"
fi
mark=$(log_mark)
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" list 2>&1)
t_expect_eq "over the cap, GSSAPI: refused, exit 7" 7 "$?"
t_expect_match "over the cap, GSSAPI: kpop says the ticket was too large" \
	"the server localhost refused a [0-9]{2},[0-9]{3}-octet ticket as too large" "$err"
sleep 0.2
t_expect_match "over the cap, GSSAPI: the log says the token is over the limit" \
	"auth failed: .*Kerberos token.*over the limit of 65535" "$(log_since "$mark")"
mark=$(log_mark)
err=$("$KPOP" -H localhost -p "$KPOPD_PORT" --auth kpop -u huge list 2>&1)
t_expect_eq "over the cap, KPOP: refused, exit 7" 7 "$?"
t_expect_match "over the cap, KPOP: kpop says the ticket was too large" \
	"the server localhost refused a [0-9]{2},[0-9]{3}-octet ticket as too large" "$err"
if printf '%s' "$err" | grep -Eq "reset|abort|is it a KPOP server"; then
	t_fail "over the cap, KPOP: a KRB-ERROR, not a reset" "$err"
else
	t_pass "over the cap, KPOP: a KRB-ERROR, not a reset"
fi
sleep 0.2
t_expect_match "over the cap, KPOP: the log names the size and KRB_ERR_FIELD_TOOLONG" \
	"AP-REQ of [0-9]+ octets is over the limit of 65535.*KRB_ERR_FIELD_TOOLONG" "$(log_since "$mark")"

export KRB5CCNAME=FILE:$A/alice.ccache
"$KPOP" -H localhost -p "$KPOPD_PORT" list >/dev/null 2>&1
t_expect_eq "after the refusals an ordinary AD ticket still logs in" 0 "$?"

# 7. The exact cap with the DC's own tickets: the PAC grows by 8 octets a group and
#    the ticket by 1 octet a character of the service name, so "edge" gets the
#    groups that bring its GSSAPI first token to within 8 octets under 65,535, and
#    services popx..x/localhost (AES, keys exported per name) the last octets: a
#    first token or KPOP AP-REQ of exactly 65,535 octets is accepted (GSSAPI also
#    with a privacy layer), one of 65,536 refused.  The Python clients make new
#    authenticators until the token is exactly that long (their DER integers vary).
gc() { "$PY" "$KP_TOP_SRCDIR/tests/gssclient.py" "$@"; }
kt() { "$PY" "$KP_TOP_SRCDIR/tests/kpoptool.py" 127.0.0.1 "$@"; }
export KRB5CCNAME=FILE:$A/edge.ccache
# tok_size gss|kpop K: the commonest token size for service svcname K.  A first run
# fetches the ticket into the ccache: the process that fetched it was seen to
# make tokens an octet off those of later ones, which read it from the ccache.
tok_size() {
	if [ "$1" = gss ]; then
		KP_GSS_SERVICE=$(svcname "$2") gc - sizes 1 >/dev/null 2>&1
		KP_GSS_SERVICE=$(svcname "$2") gc - sizes 12 2>>"$A/sizes.log"
	else
		KP_GSS_SERVICE=$(svcname "$2") kt - sizes 1 >/dev/null 2>&1
		KP_GSS_SERVICE=$(svcname "$2") kt - sizes 12 2>>"$A/sizes.log"
	fi
}
edge_ok=0
if login edge 'Edg3-pass!x' && s0=$(tok_size gss 0) && [ -n "$s0" ]; then
	more=$(((65535 - s0) / 8))
	if [ "$more" -gt 0 ] && "$PY" "$KP_TOP_SRCDIR/tests/lib/samba-populate.py" "$(sconf)" \
		"$A/private/sam.ldb" 0 0 "grp:edge:$more:edgeg" >/dev/null 2>>"$A/populate.log"; then
		rm -f "$A/edge.ccache"
		login edge 'Edg3-pass!x' && edge_ok=1
	fi
fi
# fit gss|kpop WANT: the K whose tokens are WANT octets (tried and corrected)
fit() {
	local how=$1 want=$2 k got i
	k=$((want - s0 - 8 * more))
	[ "$how" = kpop ] && k=$((k + 17)) # an AP-REQ is its GSS token less 17 octets of framing
	for i in 1 2 3 4; do
		[ "$k" -ge 0 ] && [ "$k" -le 40 ] || return 1
		got=$(tok_size "$how" "$k") && [ -n "$got" ] || return 1
		[ "$got" -eq "$want" ] && { echo "$k"; return 0; }
		# next to the DER length step at 65,536 the commonest size can skip WANT
		# (65,533 then 65,536) while some tokens of this K have it: the exact
		# clients, which retry until the size is right, can use this K
		tail -n 1 "$A/sizes.log" | grep -q "($want, " && { echo "$k"; return 0; }
		k=$((k + want - got))
	done
	return 1
}
# cap_case how want: size, export the key, start kpopd for that service, and run
# the exact clients; sets out1/out2 (their verdicts), svc, size, mark.  Returns 2
# when the clients could not make a token of that size (the ticket they found was
# not the one measured), 1 when the sizing failed.
cap_case() {
	local how=$1 want=$2 k
	k=$(fit "$how" "$want") || return 1
	svc=$(svcname "$k")
	size=$(tsize edge "$svc")
	st domain exportkeytab "$A/edge-$k.keytab" --principal="$svc/localhost"
	chmod 644 "$A/edge-$k.keytab"
	kpopd_stop
	kpopd_start -L "127.0.0.1:@PORT@ auto" -o keytab="$A/edge-$k.keytab" -o service="$svc" || return 1
	mark=$(log_mark)
	out2=""
	if [ "$how" = gss ]; then
		out1=$(KP_GSS_SERVICE=$svc gc "$KPOPD_PORT" exact "$want" 2>&1)
		[ "$want" = 65535 ] && out2=$(KP_GSS_SERVICE=$svc gc "$KPOPD_PORT" exact "$want" 4 2>&1)
	else
		out1=$(KP_GSS_SERVICE=$svc kt "$KPOPD_PORT" exact "$want" edge 2>&1)
	fi
	printf '%s: %s | %s\n' "$svc" "$out1" "$out2" >>"$A/sizes.log"
	case "$out1 $out2" in *"no first token of"* | *"no AP-REQ of"*) return 2 ;; esac
	return 0
}
if [ "$edge_ok" = 1 ]; then
	t_pass "edge is in $(($(groups_of edge) + more)) groups (PAC sized to within 8 octets)"
	for how in gss kpop; do
		for want in 65535 65536; do
			cap_case "$how" "$want"
			rc=$?
			for again in 1 2; do # sized again (see tok_size)
				[ "$rc" -eq 2 ] || break
				cap_case "$how" "$want"
				rc=$?
			done
			if [ "$rc" -ne 0 ]; then
				t_fail "$how: a ticket from the DC whose tokens are $want octets" \
					"could not size it (first token $s0 with $more more groups; $(tail -n 3 "$A/sizes.log" | tr '\n' ' '))"
				continue
			fi
			t_pass "$how: edge's $size-octet ticket for $svc/localhost makes tokens of $want octets"
			sleep 0.2
			case $how-$want in
			gss-65535)
				t_expect_match "GSSAPI: the DC's first token of exactly 65,535 octets is accepted" \
					"^token of 65535 octets: \+OK" "$out1"
				t_expect_match "GSSAPI: 65,535 octets from the DC with a privacy layer" \
					"^token of 65535 octets: \+OK.*STAT through the privacy layer: \+OK " "$out2" ;;
			gss-65536)
				t_expect_match "GSSAPI: the DC's first token of 65,536 octets is refused as too large" \
					"^token of 65536 octets: -ERR \[AUTH\] Kerberos token too large" "$out1"
				t_expect_match "GSSAPI: 65,536 octets: the log gives the size and the limit" \
					"Kerberos token of 65536 octets is over the limit of 65535" "$(log_since "$mark")" ;;
			kpop-65535)
				t_expect_match "KPOP: the DC's AP-REQ of exactly 65,535 octets is accepted" \
					"^AP-REQ of 65535 octets: OK; STAT: \+OK " "$out1" ;;
			kpop-65536)
				t_expect_match "KPOP: the DC's AP-REQ of 65,536 octets gets a KRB-ERROR" \
					"^AP-REQ of 65536 octets: KRB-ERROR" "$out1"
				t_expect_match "KPOP: 65,536 octets: the log names the size and KRB_ERR_FIELD_TOOLONG" \
					"AP-REQ of 65536 octets is over the limit of 65535.*KRB_ERR_FIELD_TOOLONG" \
					"$(log_since "$mark")" ;;
			esac
		done
	done
else
	t_fail "edge: a user sized to the cap" "$(cat "$A/kinit-edge.log" 2>/dev/null; tail -n 2 "$A/populate.log")"
fi

t_summary
