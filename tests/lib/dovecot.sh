# tests/lib/dovecot.sh - a Dovecot POP3 server run from a temp dir with its own
# configuration on free loopback ports, never the system service: the peer of
# make bench (tests/bench.sh) and of the interop test tests/e2e/dovecot.sh.
# Sourced after tests/lib/common.sh.  Virtual users: every mailbox belongs to one
# uid (Dovecot's mail_uid, which needs root); passwords from a passwd-file passdb,
# AUTH GSSAPI with the keytab given (dovecot-gssapi).
#
# dovecot_usable: 0 if Dovecot with GSSAPI can run here; else 1 with the reason in
#   DOVECOT_WHY.  Sets DOVECOT (the binary or "").
# dovecot_setup DIR: writes DIR/dovecot.conf and what it needs, picks D_POP3 and
#   D_POP3S (free ports) and checks the configuration; 0, or 1 with DOVECOT_WHY.
#   It reads:
#     DC_KEYTAB      the keytab with the pop/ keys (copied for Dovecot's auth)
#     DC_CERT DC_KEY the TLS certificate and key
#     DC_UID         the mailboxes' uid (and gid)
#     DC_HOMES       the userdb home template (mail in HOME/Maildir), e.g. DIR/%n
#     DC_PASSWD      lines "user:{PLAIN}password" for the passwd-file passdb
#     DC_TUNING      more top-level settings (make bench: its high-performance ones)
#     DC_SERVICE     more settings for the pop3-login and pop3 services
# dovecot_start DIR [WRAPPER...]: Dovecot in the foreground (-F) as a background job
#   (WRAPPER, e.g. taskset -c 0, runs it); waits for both ports; sets DOVECOT_PID.
# dovecot_stop: stops it by its PID.
DOVECOT_PID=""

dovecot_usable() {
	DOVECOT=$(PATH=$PATH:/usr/sbin:/sbin command -v dovecot || true)
	DOVECOT_WHY=""
	if [ -z "$DOVECOT" ]; then
		DOVECOT_WHY="Dovecot not installed (scripts/bench-setup.sh, or KPOP_BENCH=1 scripts/setup.sh)"
	elif [ "$(id -u)" != 0 ]; then
		DOVECOT_WHY="Dovecot skipped (its mail_uid needs root)"
	elif [ ! -e /usr/lib/dovecot/modules/auth/libmech_gssapi.so ]; then
		DOVECOT_WHY="Dovecot has no GSSAPI (install dovecot-gssapi)"
	elif ! id dovecot >/dev/null 2>&1 || ! id dovenull >/dev/null 2>&1; then
		DOVECOT_WHY="Dovecot's users dovecot and dovenull are missing"
	fi
	[ -z "$DOVECOT_WHY" ]
}

dovecot_setup() {
	local d=$1
	D_POP3=$(free_port) D_POP3S=$(free_port)
	mkdir -p "$d/run" "$d/state" "$d/rcache"
	chmod 0755 "$d"
	cp "${DC_KEYTAB#FILE:}" "$d/krb5.keytab"
	chown dovecot "$d/krb5.keytab" "$d/rcache"
	chmod 0400 "$d/krb5.keytab"
	chmod 0700 "$d/rcache"
	printf '%s\n' "$DC_PASSWD" >"$d/passwd"
	chmod 0644 "$d/passwd"
	cat >"$d/dovecot.conf" <<EOC
# A Dovecot for kpop's tests (tests/lib/dovecot.sh): nothing outside $d
instance_name = kpop-test-$$-$D_POP3
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = pop3
listen = 127.0.0.1
shutdown_clients = yes
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
import_environment = TZ KRB5_CONFIG KRB5RCACHEDIR=$d/rcache
ssl = yes
ssl_cert = <$DC_CERT
ssl_key = <$DC_KEY
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain gssapi
auth_gssapi_hostname = "\$ALL"
auth_krb5_keytab = $d/krb5.keytab
auth_username_format = %Ln
# loopback is trusted: no authentication penalty, plaintext allowed
login_trusted_networks = 127.0.0.0/8
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
mail_uid = $DC_UID
mail_gid = $DC_UID
first_valid_uid = 100
${DC_TUNING:-}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = static
  args = uid=$DC_UID gid=$DC_UID home=$DC_HOMES
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $D_POP3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $D_POP3S
    ssl = yes
  }
  ${DC_SERVICE:-}
}
service pop3 {
  ${DC_SERVICE:-}
}
EOC
	if ! "$DOVECOT" -c "$d/dovecot.conf" -n >"$d/doveconf.out" 2>&1; then
		DOVECOT_WHY="Dovecot refused the configuration: $(grep -i error "$d/doveconf.out" | head -2)"
		return 1
	fi
}

dovecot_start() {
	local d=$1
	shift
	"$@" "$DOVECOT" -F -c "$d/dovecot.conf" >>"$d/master.out" 2>&1 &
	DOVECOT_PID=$!
	if ! wait_port "$D_POP3" 10 || ! wait_port "$D_POP3S" 10; then
		echo "Dovecot did not start:" >&2
		tail -5 "$d/dovecot.log" "$d/master.out" >&2
		dovecot_stop
		return 1
	fi
}

dovecot_stop() {
	[ -z "$DOVECOT_PID" ] || stop_pid "$DOVECOT_PID"
	DOVECOT_PID=""
}
