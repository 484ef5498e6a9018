#!/usr/bin/env bash
# tests/e2e/install.sh - make install into a scratch DESTDIR: the exact file list
# (binaries, man pages, units, inetd line, example and installed kpopd.conf, the
# replay cache directory), units and inetd line naming the installed paths, an
# admin's kpopd.conf kept on reinstall; then, in a private mount namespace with
# the scratch prefix bound over the real one, the installed kpopd -t on the
# installed kpopd.conf: a clear problem without a keytab, "configuration OK" once
# the keytab exists, and systemd-analyze verify of the installed units.
if [ "${1:-}" = --ns ]; then # inside the namespace: DIR PREFIX-DIR-IN-DIR PREFIX
	. "$KP_TOP_SRCDIR/tests/lib/common.sh"
	E2E_DIR=$2
	mount --bind "$3" "$4" || { t_fail "bind the scratch prefix" "mount failed"; exit 1; }
	eval "$(cat "$E2E_DIR/dirs")"
	out=$("$sbindir/kpopd" -t 2>&1)
	t_expect_eq "installed kpopd.conf without a keytab: kpopd -t exits 2" 2 "$?"
	t_expect_match "installed kpopd.conf without a keytab: the problem names the file and the fix" \
		"problem: keytab $sysconfdir/kpopd/kpopd.keytab: No such file.*fix: .*ktadd" "$out"
	install -m 600 "$KPOP_TEST_DIR/kpopd.keytab" "$sysconfdir/kpopd/kpopd.keytab"
	out=$("$sbindir/kpopd" -t 2>&1)
	t_expect_eq "installed kpopd.conf once the keytab exists: kpopd -t passes" 0 "$?"
	t_expect_match "installed kpopd.conf once the keytab exists: configuration OK" \
		"configuration OK" "$out"
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify --man=no "$unitdir"/kpopd*.s* 2>&1)
		t_expect_eq "systemd-analyze verify accepts the installed units" "0:" "$?:$out"
	else
		t_skip "systemd-analyze verify accepts the installed units" "systemd-analyze is not installed"
	fi
	exit 0
fi
. "$KP_TOP_SRCDIR/tests/e2e/lib.sh"

inst=$E2E_DIR/inst
# The installation directories as the build's Makefile expands them.
dirs=$(make -s -C "$KP_TOP_BUILDDIR" -f Makefile -f - kp-dirs <<'MK'
kp-dirs:
	@echo "prefix='$(prefix)' bindir='$(bindir)' sbindir='$(sbindir)' sysconfdir='$(sysconfdir)'"
	@echo "localstatedir='$(localstatedir)' mandir='$(mandir)' docdir='$(docdir)'"
	@echo "unitdir='$(systemdsystemunitdir)'"
MK
)
eval "$dirs"
printf '%s\n' "$dirs" >"$E2E_DIR/dirs"
if ! make -C "$KP_TOP_BUILDDIR" install DESTDIR="$inst" >"$E2E_DIR/install.log" 2>&1; then
	t_fail "make install DESTDIR" "$(tail -n 5 "$E2E_DIR/install.log")"
	t_summary
	exit 1
fi
t_pass "make install DESTDIR"

want=$(sort <<EOF
$bindir/kpop
$sbindir/kpopd
$sysconfdir/kpopd.conf
$sysconfdir/kpopd/
$localstatedir/cache/kpopd/
$mandir/man1/kpop.1
$mandir/man5/kpopd.conf.5
$mandir/man8/kpopd.8
$docdir/README
$docdir/kpopd.conf.example
$docdir/kpopd.inetd
${unitdir:+$unitdir/kpopd.service
$unitdir/kpopd.socket
$unitdir/kpopd-pop3.socket
$unitdir/kpopd-pop3s.socket}
EOF
)
# files, and the directories that are empty (the ones we make)
got=$(cd "$inst" && { find . -type f; find . -type d -empty -printf '%p/\n'; } | sed 's|^\.||' | sort)
t_expect_eq "make install: the file list" "$want" "$got"
t_expect_eq "the replay cache directory is private (0700)" 700 \
	"$(stat -c %a "$inst$localstatedir/cache/kpopd" 2>&1)"
if [ -n "$unitdir" ]; then
	u=$inst$unitdir
	t_expect_match "kpopd.service runs the installed kpopd" "^ExecStart=$sbindir/kpopd -F$" "$(cat "$u/kpopd.service")"
	t_expect_match "kpopd.service runs the self-check before start" "^ExecStartPre=$sbindir/kpopd -t$" \
		"$(cat "$u/kpopd.service")"
	t_expect_match "kpopd.service does not start without the keytab" \
		"^ConditionPathExists=$sysconfdir/kpopd/kpopd.keytab$" "$(cat "$u/kpopd.service")"
	t_expect_eq "the sockets name their modes (FileDescriptorName)" "auto pop3 pop3s" \
		"$(for s in kpopd kpopd-pop3 kpopd-pop3s; do sed -n 's/^FileDescriptorName=//p' "$u/$s.socket"; done | xargs)"
	t_expect_eq "the sockets listen on 1109, 110 and 995" "1109 110 995" \
		"$(for s in kpopd kpopd-pop3 kpopd-pop3s; do sed -n 's/^ListenStream=//p' "$u/$s.socket"; done | xargs)"
fi
t_expect_match "the inetd line runs the installed kpopd -i" \
	"^kpop[[:space:]]+stream[[:space:]]+tcp[[:space:]]+nowait[[:space:]]+root[[:space:]]+$sbindir/kpopd[[:space:]]+kpopd -i$" \
	"$(cat "$inst$docdir/kpopd.inetd")"
t_expect_match "the installed kpopd.conf names the installed keytab path" \
	"^keytab = $sysconfdir/kpopd/kpopd.keytab$" "$(cat "$inst$sysconfdir/kpopd.conf")"
t_expect_match "the installed kpopd.conf names the installed replay cache" \
	"^rcache_dir = $localstatedir/cache/kpopd$" "$(cat "$inst$sysconfdir/kpopd.conf")"
printf 'idle_timeout = 77\n' >>"$inst$sysconfdir/kpopd.conf"
make -C "$KP_TOP_BUILDDIR" install DESTDIR="$inst" >"$E2E_DIR/install2.log" 2>&1
t_expect_match "a reinstall keeps the admin's kpopd.conf" "idle_timeout = 77" \
	"$(cat "$inst$sysconfdir/kpopd.conf")"
# (the admin's line out again, for the namespace part)
sed -i '/^idle_timeout = 77$/d' "$inst$sysconfdir/kpopd.conf"

ns_cases=("installed kpopd.conf without a keytab: kpopd -t exits 2"
	"installed kpopd.conf without a keytab: the problem names the file and the fix"
	"installed kpopd.conf once the keytab exists: kpopd -t passes"
	"installed kpopd.conf once the keytab exists: configuration OK"
	"systemd-analyze verify accepts the installed units")
ns_skip() {
	local c
	for c in "${ns_cases[@]}"; do t_skip "$c" "$1"; done
}
case "$prefix" in
/ | /usr) ns_skip "the prefix $prefix cannot be replaced in a namespace" ;;
*)
	if [ "$(id -u)" -ne 0 ]; then
		ns_skip "needs root for a private mount namespace"
	elif [ ! -d "$prefix" ]; then
		ns_skip "$prefix does not exist to be bound over"
	elif ! err=$(unshare -m --propagation private true 2>&1); then
		ns_skip "unshare -m failed: $err"
	else
		t_collect < <(timeout -k 5 60 unshare -m --propagation private -- \
			bash "$KP_TOP_SRCDIR/tests/e2e/install.sh" --ns "$E2E_DIR" "$inst$prefix" "$prefix" 2>&1)
	fi
	;;
esac
t_summary
