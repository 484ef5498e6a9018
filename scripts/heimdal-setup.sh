#!/usr/bin/env bash
# scripts/heimdal-setup.sh [DIR] - Heimdal's KDC and client tools for the Heimdal
# test tier (tests/e2e/heimdal.sh), unpacked into DIR (default: heimdal-root in the
# source tree).  Debian's heimdal-kdc conflicts with the MIT krb5-kdc the other
# tests need, so nothing is installed: the packages are fetched with apt-get
# download and unpacked with dpkg -x, and the tests run the binaries from DIR with
# LD_LIBRARY_PATH.  Exit 0 when DIR is ready; 1 with the reason on stderr.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/heimdal-root}
[ -e "$dir/.complete" ] && exit 0

# The KDC and kadmin/kinit/ktutil, and every Heimdal library they load.
PKGS="heimdal-kdc heimdal-clients libasn1-8-heimdal libgssapi3-heimdal
      libhcrypto5-heimdal libhdb9-heimdal libheimbase1-heimdal libheimntlm0-heimdal
      libhx509-5-heimdal libkadm5clnt7-heimdal libkadm5srv8-heimdal libkafs0-heimdal
      libkdc2-heimdal libkrb5-26-heimdal libotp0-heimdal libroken19-heimdal
      libsl0-heimdal libwind0-heimdal"

command -v apt-get >/dev/null || { echo "heimdal-setup: no apt-get on this machine" >&2; exit 1; }
command -v dpkg >/dev/null || { echo "heimdal-setup: no dpkg on this machine" >&2; exit 1; }
debs=$(mktemp -d "${TMPDIR:-/tmp}/heimdal-debs.XXXXXX")
trap 'rm -rf "$debs"' EXIT
chmod 755 "$debs" # apt's _apt user writes the files when it can
# shellcheck disable=SC2086
if ! (cd "$debs" && apt-get download -q $PKGS) >"$debs/download.log" 2>&1; then
	echo "heimdal-setup: apt-get download failed (no network or no package lists: run" \
		"apt-get update):" >&2
	grep -E '^(E|W):' "$debs/download.log" | head -n 5 >&2
	exit 1
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
for d in "$debs"/*.deb; do
	dpkg -x "$d" "$dir.tmp"
done
[ -x "$dir.tmp/usr/lib/heimdal-servers/kdc" ] ||
	{ echo "heimdal-setup: the packages hold no kdc binary" >&2; exit 1; }
(cd "$debs" && ls -- *.deb) >"$dir.tmp/.complete"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "heimdal-setup: Heimdal unpacked in $dir"
