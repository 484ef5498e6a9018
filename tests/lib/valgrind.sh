#!/usr/bin/env bash
# tests/lib/valgrind.sh PROG [ARG...] - run PROG under memcheck for make
# check-valgrind: every error and every definite leak is reported into
# $KP_VG_LOGS/PID.log (children followed through fork, not exec), and the
# process exits 99 on any error.  The suppressions (tests/valgrind.supp) each say
# why the report is not ours.  tests/lib/valgrind-check.sh reads the logs.
: "${KP_VG_LOGS:?}" "${KP_TOP_SRCDIR:?}"
exec valgrind --quiet --tool=memcheck --error-exitcode=99 \
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--track-fds=no --num-callers=30 --vgdb=no \
	--suppressions="$KP_TOP_SRCDIR/tests/valgrind.supp" \
	--log-file="$KP_VG_LOGS/%p.log" "$@"
