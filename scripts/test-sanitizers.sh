#!/usr/bin/env bash
# scripts/test-sanitizers.sh [PART...] - make check-sanitizers (issue 11): a second
# tree built with --enable-sanitizers (ASan + UBSan, gcc) and the suite run in it
# with every sanitizer report fatal: halt on the first error, leaks detected at
# every exit, each process's report written to a log directory of mode 1777 (kpopd's
# processes write there after dropping privileges) that tests/lib/sanitizer-check.sh
# reads after each part, so a report in a child process (a worker, the auth
# service, a session front) fails the run even when the test itself passed.
#
# The tree: BUILD (KP_SAN_BUILD, default build-asan/ in this tree) holds a copy of
# the sources (the files git knows, or make distdir outside a git checkout),
# configured in place: automake refuses a second build directory of a source tree
# that is configured in place itself, which the README's build is.  The copy keeps
# the files' times, so a second run rebuilds only what changed.
#
# PARTs (or KP_ONLY) as for make check; default: all of them but KP_SAN_SKIP (see
# .ci/run for what CI leaves out and why).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bld=${KP_SAN_BUILD:-$top/build-asan}
mkdir -p "$bld"
bld=$(cd "$bld" && pwd)
src="$bld/src"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked files plus new ones not ignored (a developer's uncommitted work)
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$top" && make distdir distdir="$bld/dist" >/dev/null)
	(cd "$bld/dist" && tar -cf - .) | tar -C "$src" -xf -
	rm -rf "$bld/dist"
fi
# The Heimdal KDC (scripts/heimdal-setup.sh) is unpacked once, in the source tree.
[ ! -d "$top/heimdal-root" ] || [ -e "$src/heimdal-root" ] || ln -s "$top/heimdal-root" "$src/heimdal-root"
cd "$src"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	./bootstrap >/dev/null 2>&1
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	# clang: its UBSan lives in the ASan runtime and so writes to the same log_path;
	# gcc's libubsan is a second runtime whose reports go to stderr whatever
	# UBSAN_OPTIONS says (its log_path call lands in libasan).
	./configure --enable-sanitizers CC="${KP_SAN_CC:-clang}" >/dev/null
fi
jobs=${KP_SAN_JOBS:-2}
make -j"$jobs" >/dev/null
# make soak-sanitizers: the tree and its test programs, no tests
if [ "${KP_SAN_BUILD_ONLY:-0}" = 1 ]; then
	exec make -j"$jobs" tests/bench/kpbench >/dev/null
fi
if [ $# -gt 0 ]; then export KP_ONLY="$*"; fi
exec make -j"$jobs" check-sanitized
