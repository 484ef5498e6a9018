#!/usr/bin/env bash
# kdc-test/kdc-test.sh - a throwaway MIT Kerberos realm in a temp dir, in seconds.
#   start [DIR]                 create realm KPOP.TEST, start krb5kdc on a free loopback
#                               port, create principals, keytab and ccaches; print
#                               "export VAR=..." lines (eval them)
#   stop DIR                    stop that KDC (by its PID) and remove DIR
#   kinit DIR PRINCIPAL CCACHE  get a ticket with the principal's test password
#   expired-ccache DIR CCACHE   a ccache for alice whose ticket has expired
#   skewed-ccache DIR CCACHE    (not offered: needs a fake clock)
# Nothing outside DIR is read or written: KRB5_CONFIG and KRB5_KDC_PROFILE point
# into DIR for every command.
set -eu

REALM=KPOP.TEST
die() { echo "kdc-test: $*" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/sbin

free_port() { /usr/bin/python3 "$(dirname "$0")/free-port.py" --udp; }

env_for() {
	local d=$1
	export KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
	export KRB5_KTNAME=FILE:$d/kpopd.keytab KRB5RCACHEDIR=$d/rcache
	unset KRB5_TRACE
}

password_of() {
	case $1 in
	alice) echo alice-pw ;;
	bob) echo bob-pw ;;
	carol/admin) echo carol-pw ;;
	*) die "no test password for $1" ;;
	esac
}

do_kinit() { # DIR PRINCIPAL CCACHE [kinit options]
	local d=$1 p=$2 cc=$3
	shift 3
	env_for "$d"
	password_of "$p" | kinit "$@" -c "FILE:$cc" "$p@$REALM" >/dev/null
}

start() {
	local d=${1:-}
	[ -n "$d" ] || d=$(mktemp -d "${TMPDIR:-/tmp}/kdc-test.XXXXXX")
	mkdir -p "$d" "$d/rcache"
	d=$(cd "$d" && pwd)
	[ ! -e "$d/krb5kdc.pid" ] || die "$d already has a KDC"
	touch "$d/.kdc-test"
	local host fqdn port tries=0
	host=$(hostname)
	fqdn=$(hostname -f 2>/dev/null || echo "$host")
	env_for "$d"
	while :; do
		port=$(free_port)
		cat >"$d/krb5.conf" <<EOC
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
	default_ccache_name = FILE:$d/default.ccache
	default_keytab_name = FILE:$d/kpopd.keytab
[realms]
	$REALM = {
		kdc = 127.0.0.1:$port
		admin_server = 127.0.0.1:1
	}
[domain_realm]
	localhost = $REALM
	$host = $REALM
	$fqdn = $REALM
EOC
		cat >"$d/kdc.conf" <<EOC
[kdcdefaults]
	kdc_listen = 127.0.0.1:$port
	kdc_tcp_listen = 127.0.0.1:$port
[realms]
	$REALM = {
		database_name = $d/principal
		key_stash_file = $d/stash
		acl_file = $d/kadm5.acl
		kdc_listen = 127.0.0.1:$port
		kdc_tcp_listen = 127.0.0.1:$port
		max_life = 10h
		max_renewable_life = 1d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$d/krb5kdc.log
EOC
		: >"$d/kadm5.acl"
		if [ ! -e "$d/principal" ]; then
			kdb5_util create -s -r "$REALM" -P "master-$RANDOM$RANDOM" >"$d/kdb5_util.log" 2>&1 ||
				die "kdb5_util create failed: $(cat "$d/kdb5_util.log")"
		fi
		krb5kdc -n -P "$d/krb5kdc.pid" >"$d/krb5kdc.out" 2>&1 &
		local pid=$!
		echo "$pid" >"$d/krb5kdc.pid"
		# Wait until it answers on TCP.
		local up=0 i
		for i in $(seq 50); do
			if ! kill -0 "$pid" 2>/dev/null; then break; fi
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
			sleep 0.1
		done
		[ $up = 1 ] && break
		kill "$pid" 2>/dev/null || true
		rm -f "$d/krb5kdc.pid"
		tries=$((tries + 1))
		[ $tries -lt 5 ] || die "krb5kdc did not start: $(cat "$d/krb5kdc.out" "$d/krb5kdc.log" 2>/dev/null | tail -5)"
	done
	{
		echo "addprinc -pw alice-pw alice"
		echo "addprinc -pw bob-pw bob"
		echo "addprinc -pw carol-pw carol/admin"
		for h in localhost "$host" "$fqdn"; do
			echo "addprinc -randkey pop/$h"
		done
		echo "addprinc -randkey pop3/localhost"
		echo "addprinc -randkey imap/localhost"
		for h in localhost "$host" "$fqdn"; do
			echo "ktadd -k $d/kpopd.keytab -norandkey pop/$h"
		done
		echo "ktadd -k $d/kpopd.keytab -norandkey pop3/localhost"
		echo "ktadd -k $d/other.keytab -norandkey imap/localhost"
	} | kadmin.local -r "$REALM" >"$d/kadmin.log" 2>&1 || die "kadmin.local failed: $(tail -5 "$d/kadmin.log")"
	do_kinit "$d" alice "$d/alice.ccache"
	do_kinit "$d" bob "$d/bob.ccache"
	do_kinit "$d" carol/admin "$d/carol.ccache"
	cat >"$d/env.sh" <<EOE
export KRB5_CONFIG=$d/krb5.conf
export KRB5_KDC_PROFILE=$d/kdc.conf
export KRB5_KTNAME=FILE:$d/kpopd.keytab
export KRB5CCNAME=FILE:$d/alice.ccache
export KRB5RCACHEDIR=$d/rcache
export KPOP_TEST_REALM=$REALM
export KPOP_TEST_KDC_PORT=$port
export KPOP_TEST_DIR=$d
export KPOP_TEST_HOST=$host
EOE
	cat "$d/env.sh"
	echo "kdc-test: realm $REALM up in $d (krb5kdc pid $(cat "$d/krb5kdc.pid"), port $port)" >&2
	echo "kdc-test: eval the export lines, then e.g. klist; stop with: $0 stop $d" >&2
}

stop() {
	local d=${1:?usage: stop DIR}
	[ -e "$d/.kdc-test" ] || die "$d is not a kdc-test directory"
	if [ -f "$d/krb5kdc.pid" ]; then
		local pid
		pid=$(cat "$d/krb5kdc.pid")
		if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q krb5kdc; then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$d"
}

expired() {
	local d=${1:?} cc=${2:?}
	do_kinit "$d" alice "$cc" -l 1s
	sleep 2
	# klist -s fails when no valid ticket is left
	if KRB5CCNAME=FILE:$cc klist -s; then die "ticket did not expire"; fi
}

cmd=${1:-}
shift || true
case $cmd in
start) start "$@" ;;
stop) stop "$@" ;;
kinit) do_kinit "$@" ;;
expired-ccache) expired "$@" ;;
*) echo "usage: $0 start [DIR] | stop DIR | kinit DIR PRINCIPAL CCACHE | expired-ccache DIR CCACHE" >&2; exit 2 ;;
esac
