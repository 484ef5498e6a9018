#!/usr/bin/env bash
# scripts/bench-setup.sh - install what `make bench` compares kpopd with: Dovecot
# (pop3 + GSSAPI) and the fetch clients fetchmail and mpop.  Opt-in: scripts/setup.sh
# runs it when KPOP_BENCH=1.  The packages are only installed; no Dovecot service is
# started or configured (the bench runs its own Dovecot from a temp dir).
set -euo pipefail
PKGS="dovecot-core dovecot-pop3d dovecot-gssapi fetchmail mpop bc"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -n "$missing" ] || { echo "bench-setup: all present ($PKGS)"; exit 0; }
echo "bench-setup: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# policy-rc.d exit 101 keeps the package scripts from starting the system dovecot.
# It is created only if absent and removed again; a container without an init
# system would refuse anyway, but the bench must never leave a service running.
rcd=/usr/sbin/policy-rc.d made_rcd=0
if [ ! -e "$rcd" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$rcd" >/dev/null
	$SUDO chmod 755 "$rcd"
	made_rcd=1
fi
rc=0
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing || rc=$?
[ $made_rcd = 0 ] || $SUDO rm -f "$rcd"
exit $rc
