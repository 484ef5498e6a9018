#!/usr/bin/env bash
# tests/e2e/package.sh - the Debian packages: dpkg-buildpackage -us -uc -b in a temp
# copy of the tree (it writes its results to ..), the exact file list of kpopd and
# kpop, conffiles and dependencies, lintian with no error or warning (the one
# informational tag explained in debian/kpopd.lintian-overrides); then a real
# dpkg -i of both in a private mount namespace whose /etc, /usr and /var are
# overlays on the real ones (nothing reaches the machine; no service manager is
# visible and policy-rc.d forbids starts): the maintainer scripts create the system
# users and the replay cache, enable kpopd.service (which waits for the keytab)
# and no socket unit; the installed kpopd -t names the missing keytab, passes and
# proves the keys live (-t -k) once it is there; the installed daemon runs its
# auth service as kpopd-auth and serves a GSSAPI login to the installed kpop;
# purge removes the replay cache and the configuration.
if [ "${1:-}" = --ns ]; then # inside the namespace: DIR
	. "$KP_TOP_SRCDIR/tests/lib/common.sh"
	E2E_DIR=$2
	W=$E2E_DIR/ovl
	for d in etc usr var; do
		mkdir -p "$W/$d-up" "$W/$d-work"
		mount -t overlay "kpop-test-$d" -o "lowerdir=/$d,upperdir=$W/$d-up,workdir=$W/$d-work" "/$d" ||
			{ t_fail "overlay on /$d" "mount failed"; exit 1; }
	done
	# no service manager to talk to, and no start allowed if there were one
	if [ -d /run/systemd ]; then
		mkdir -p "$W/run-systemd"
		mount --bind "$W/run-systemd" /run/systemd
	fi
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	out=$(dpkg -i "$E2E_DIR/kpopd.deb" "$E2E_DIR/kpop.deb" 2>&1)
	t_expect_eq "dpkg -i kpopd kpop" 0 "$?"
	[ "$?" = 0 ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
	t_expect_match "the postinst says the service waits for the keytab, and how to make it" \
		"no keytab yet; kpopd.service starts once /etc/kpopd/kpopd.keytab exists.*ktadd -k /etc/kpopd/kpopd.keytab pop/" \
		"$(printf '%s' "$out" | tr '\n' ' ')"
	for u in kpopd-auth kpopd; do
		ent=$(getent passwd "$u")
		t_expect_match "the postinst created the system user $u (no login, no home)" \
			"^$u:x:[1-9][0-9]{0,2}:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$" "$ent"
	done
	t_expect_eq "the replay cache /var/cache/kpopd belongs to kpopd-auth, mode 0700" \
		"kpopd-auth kpopd-auth 700 directory" "$(stat -c '%U %G %a %F' /var/cache/kpopd 2>&1)"
	t_expect_eq "kpopd.service is enabled" "/lib/systemd/system/kpopd.service" \
		"$(readlink /etc/systemd/system/multi-user.target.wants/kpopd.service)"
	t_expect_eq "no socket unit is enabled (they are the alternative to the service)" "" \
		"$(ls /etc/systemd/system/sockets.target.wants 2>/dev/null | grep kpopd)"
	t_expect_eq "dpkg -L kpopd lists the units" 4 "$(dpkg -L kpopd | grep -c '^/lib/systemd/system/kpopd')"

	out=$(/usr/sbin/kpopd -t 2>&1)
	t_expect_eq "the packaged kpopd -t without a keytab exits 2" 2 "$?"
	t_expect_match "the packaged kpopd -t names the missing keytab and the fix" \
		"problem: keytab /etc/kpopd/kpopd.keytab: No such file.*fix: .*ktadd" "$out"
	install -m 600 "$KPOP_TEST_DIR/kpopd.keytab" /etc/kpopd/kpopd.keytab
	out=$(/usr/sbin/kpopd -t 2>&1)
	t_expect_eq "the packaged configuration passes kpopd -t once the keytab exists" "0 kpopd: configuration OK" \
		"$? $out"
	out=$(/usr/sbin/kpopd -t -k 2>&1)
	t_expect_eq "the packaged kpopd -t -k proves the keys with the KDC" 0 "$?"
	t_expect_match "kpopd -t -k: pop/localhost is ok" "live: pop/localhost@$KPOP_TEST_REALM: ok" "$out"

	# the packaged daemon, its own configuration, a test listener and mailbox
	port=$(free_port)
	md=$E2E_DIR/mail/alice/Maildir
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	printf 'From: bob@kpop.test\nSubject: packaged\n\nhello from the package test\n' >"$md/new/1.M1.pkg"
	chown -R "$KP_MAIL_UID:$KP_MAIL_UID" "$E2E_DIR/mail"
	chmod 711 "$E2E_DIR"
	/usr/sbin/kpopd -F -o log=stderr -o listen="127.0.0.1:$port pop3" -o mail_uid="$KP_MAIL_UID" \
		-o maildir="$E2E_DIR/mail/%u/Maildir" -o pidfile="$E2E_DIR/pkg.pid" \
		-o control_socket="$E2E_DIR/pkg.ctl" >"$E2E_DIR/pkg.log" 2>&1 &
	dpid=$!
	wait_port "$port" 5
	authd=""
	for _ in $(seq 100); do
		for s in /proc/[0-9]*/stat; do
			p=${s#/proc/}
			p=${p%/stat}
			[ "$(cut -d' ' -f4 "$s" 2>/dev/null)" = "$dpid" ] || continue
			[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed 's/ *$//')" = "kpopd: auth" ] && authd=$p
		done
		[ -n "$authd" ] && break
		sleep 0.05
	done
	t_expect_eq "the packaged daemon's auth service runs as kpopd-auth" "$(id -u kpopd-auth)" \
		"$(awk '/^Uid:/ {print $2}' "/proc/$authd/status" 2>/dev/null)"
	if grep -q "does not exist: using nobody" "$E2E_DIR/pkg.log"; then
		t_fail "no warning about missing system users" "$(grep 'does not exist' "$E2E_DIR/pkg.log")"
	else
		t_pass "no warning about missing system users"
	fi
	if /usr/bin/kpop -q -H localhost -p "$port" --maildir "$E2E_DIR/got" fetch 2>"$E2E_DIR/kpop.err"; then
		t_expect_eq "the packaged kpop fetches over GSSAPI from the packaged kpopd" 1 \
			"$(find "$E2E_DIR/got/new" -type f | wc -l)"
	else
		t_fail "the packaged kpop fetches over GSSAPI from the packaged kpopd" "$(cat "$E2E_DIR/kpop.err")"
	fi
	t_expect_match "the packaged kpopd -s answers" "master pid $dpid, up .*: 0 sessions" \
		"$(/usr/sbin/kpopd -s -o control_socket="$E2E_DIR/pkg.ctl" 2>&1)"
	stop_pid "$dpid"
	rm -f /etc/kpopd/kpopd.keytab

	out=$(dpkg --purge kpopd kpop 2>&1)
	t_expect_eq "dpkg --purge kpopd kpop" 0 "$?"
	t_expect_eq "purge removes the replay cache and kpopd.conf" "no no" \
		"$([ -e /var/cache/kpopd ] && echo yes || echo no) $([ -e /etc/kpopd.conf ] && echo yes || echo no)"
	exit 0
fi
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

skip_all() {
	t_skip "Debian packages" "$1"
	t_summary
	exit 0
}
for cmd in dpkg-buildpackage dh git dpkg-deb; do
	command -v "$cmd" >/dev/null || skip_all "$cmd is not installed (scripts/setup.sh installs debhelper and dpkg-dev)"
done
git -C "$KP_TOP_SRCDIR" rev-parse --git-dir >/dev/null 2>&1 ||
	skip_all "$KP_TOP_SRCDIR is not a git checkout: no clean file list to copy"

# A temp copy of the tree as git sees it (tracked and new files, no build output).
src=$E2E_DIR/build/kpop
mkdir -p "$src"
(cd "$KP_TOP_SRCDIR" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --) | tar -xf - -C "$src"
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	>"$E2E_DIR/build.log" 2>&1; then
	t_pass "dpkg-buildpackage -us -uc -b"
else
	t_fail "dpkg-buildpackage -us -uc -b" "$(tail -n 15 "$E2E_DIR/build.log")"
	t_summary
	exit 1
fi
ver=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
cp "$E2E_DIR/build/kpopd_${ver}_$arch.deb" "$E2E_DIR/kpopd.deb"
cp "$E2E_DIR/build/kpop_${ver}_$arch.deb" "$E2E_DIR/kpop.deb"

files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sort; }
t_expect_eq "kpopd's file list" "$(sort <<'EOF'
./etc/kpopd.conf
./lib/systemd/system/kpopd-pop3.socket
./lib/systemd/system/kpopd-pop3s.socket
./lib/systemd/system/kpopd.service
./lib/systemd/system/kpopd.socket
./usr/sbin/kpopd
./usr/share/doc/kpopd/README.gz
./usr/share/doc/kpopd/changelog.gz
./usr/share/doc/kpopd/copyright
./usr/share/doc/kpopd/kpopd.conf.example
./usr/share/doc/kpopd/kpopd.inetd
./usr/share/lintian/overrides/kpopd
./usr/share/man/man5/kpopd.conf.5.gz
./usr/share/man/man8/kpopd.8.gz
EOF
)" "$(files "$E2E_DIR/kpopd.deb")"
t_expect_eq "kpop's file list" "$(sort <<'EOF'
./usr/bin/kpop
./usr/share/doc/kpop/README.gz
./usr/share/doc/kpop/changelog.gz
./usr/share/doc/kpop/copyright
./usr/share/man/man1/kpop.1.gz
EOF
)" "$(files "$E2E_DIR/kpop.deb")"
t_expect_eq "kpopd ships /etc/kpopd/ for the keytab" 1 "$(dpkg-deb -c "$E2E_DIR/kpopd.deb" | grep -c ' \./etc/kpopd/$')"
t_expect_eq "kpopd.conf is a conffile" "/etc/kpopd.conf" "$(dpkg-deb -e "$E2E_DIR/kpopd.deb" "$E2E_DIR/ctl" && cat "$E2E_DIR/ctl/conffiles")"
t_expect_match "kpopd depends on adduser (its postinst makes the users)" "(^|, )adduser(,|$)" \
	"$(dpkg-deb -f "$E2E_DIR/kpopd.deb" Depends)"
t_expect_match "kpop depends on the SASL GSSAPI plugin" "libsasl2-modules-gssapi-mit" \
	"$(dpkg-deb -f "$E2E_DIR/kpop.deb" Depends)"
if command -v lintian >/dev/null; then
	lint=$(cd "$E2E_DIR/build" && lintian --pedantic --info "kpop_${ver}_$arch.changes" 2>&1 |
		grep -v '^running with root privileges')
	t_expect_eq "lintian --pedantic: no error, warning or info left" "" "$(printf '%s\n' "$lint" | grep -E '^[EWIP]:' || true)"
else
	t_skip "lintian --pedantic: no error, warning or info left" "lintian is not installed"
fi

ns_cases=("dpkg -i kpopd kpop" "the maintainer scripts and the installed kpopd (namespace)")
if [ "$(id -u)" -ne 0 ]; then
	for c in "${ns_cases[@]}"; do t_skip "$c" "needs root for a private mount namespace"; done
elif ! err=$(unshare -m --propagation private true 2>&1); then
	for c in "${ns_cases[@]}"; do t_skip "$c" "unshare -m failed: $err"; done
else
	t_collect < <(timeout -k 5 120 unshare -m --propagation private -- \
		bash "$KP_TOP_SRCDIR/tests/e2e/package.sh" --ns "$E2E_DIR" 2>&1)
fi
t_summary
