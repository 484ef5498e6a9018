#!/usr/bin/env bash
# scripts/setup.sh - install the Debian packages kpop needs (if missing), then
# bootstrap, configure and build.  Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build dependencies, the KDC for the tests, the real peers for interop tests, and
# clang with libFuzzer (make fuzz) and valgrind (make check-valgrind);
# libsasl2-modules: PLAIN for Cyrus pop3test -m PLAIN; haproxy, glusterfs-server,
# glusterfs-client and fuse3 (fusermount): the farm tests (tests/e2e/proxy.sh, farm.sh);
# samba, samba-ad-dc, samba-ad-provision, samba-dsdb-modules, winbind, python3-samba
# and samba-common-bin (samba-tool): the AD tier's domain controller
# (tests/e2e/samba.sh: provisioned in a temp dir; it never uses /etc/samba or the system's Samba).
PKGS="autoconf automake make gcc pkg-config libkrb5-dev libsasl2-dev
      libsasl2-modules-gssapi-mit libsasl2-modules libssl-dev krb5-kdc krb5-admin-server krb5-user
      openssl socat curl fetchmail mpop cyrus-clients python3 python3-gssapi bc faketime
      clang libclang-rt-14-dev valgrind debhelper dpkg-dev lintian git systemd
      haproxy glusterfs-server glusterfs-client fuse3
      samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind python3-samba samba-common-bin"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -q
	# krb5-kdc's maintainer scripts must not configure a realm on this machine.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# The Heimdal tier's KDC (tests/e2e/heimdal.sh): unpacked into heimdal-root, never
# installed (Debian's heimdal-kdc conflicts with krb5-kdc).  Without it that tier
# is skipped with the reason.
bash "$top/scripts/heimdal-setup.sh" "$top/heimdal-root" ||
	echo "setup: Heimdal could not be fetched: the Heimdal tier will be skipped"

# make bench's peers (Dovecot with GSSAPI, fetchmail, mpop): only when asked.
[ "${KPOP_BENCH:-0}" != 1 ] || bash "$top/scripts/bench-setup.sh"

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	./bootstrap
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	./configure ${KPOP_CONFIGURE_FLAGS:---enable-werror} >/dev/null
fi
make -j"$(nproc)" >/dev/null
echo "setup: build done (server/kpopd, client/kpop)"
