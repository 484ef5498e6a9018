#!/usr/bin/env bash
# tests/lib/vg-kpopd.sh - what KPOPD points to under make check-valgrind: the real
# kpopd ($KP_VG_REAL_KPOPD) under tests/lib/valgrind.sh.
exec bash "$KP_TOP_SRCDIR/tests/lib/valgrind.sh" "${KP_VG_REAL_KPOPD:?}" "$@"
