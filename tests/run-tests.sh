#!/usr/bin/env bash
# tests/run-tests.sh - make check: banned calls, unit tests, transcript tests,
# end-to-end tests with a throwaway KDC, interop with real clients.  Every part
# prints "ok"/"FAIL" lines and its own "N passed, N failed"; this script adds them
# up and ends with one summary line.
set -u
src=${KP_TOP_SRCDIR:?}
build=${KP_TOP_BUILDDIR:?}
export KPOPD="$build/server/kpopd" KPOP="$build/client/kpop" KP_TOP_SRCDIR="$src"
export PYTHON=/usr/bin/python3
export KP_TMP
KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpop-check.XXXXXX")
# kpopd serves the test mailboxes as a virtual-user mail uid (mail_uid): as root a
# uid with no passwd entry, else our own.  It must reach them through KP_TMP.
chmod 711 "$KP_TMP"
export XDG_STATE_HOME="$KP_TMP/xdg-state" XDG_CONFIG_HOME="$KP_TMP/xdg-config" # kpop: no state or config from/in $HOME
export KP_MAIL_UID
if [ "$(id -u)" -eq 0 ]; then KP_MAIL_UID=64011; else KP_MAIL_UID=$(id -u); fi
total_pass=0
total_fail=0
total_skip=0
kdc_dir=""

cleanup() {
	if [ -n "$kdc_dir" ]; then
		bash "$src/kdc-test/kdc-test.sh" stop "$kdc_dir" >/dev/null 2>&1
	fi
	# KP_KEEP_TMP=1: leave the logs for a developer to read
	if [ -n "${KP_KEEP_TMP:-}" ]; then echo "kept $KP_TMP" >&2; else rm -rf "$KP_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# KP_ONLY="unit transcripts pool ..." runs only the named parts (developers'
# shortcut: "unit" = banned calls + unit tests, "transcripts", or e2e script names).
want() {
	[ -z "${KP_ONLY:-}" ] && return 0
	case " $KP_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# KP_VALGRIND=1 (make check-valgrind): unit tests and kpopd under memcheck; the
# reports are read at the end (tests/lib/valgrind-check.sh).
vg=()
if [ "${KP_VALGRIND:-0}" = 1 ]; then
	export KP_VG_LOGS="$KP_TMP/valgrind" KP_VG_REAL_KPOPD="$KPOPD"
	mkdir -p "$KP_VG_LOGS"
	chmod 1777 "$KP_VG_LOGS" # kpopd's processes log here after dropping privileges
	KPOPD="$src/tests/lib/vg-kpopd.sh"
	vg=(bash "$src/tests/lib/valgrind.sh")
fi

# KP_SANITIZERS=1 (make check-sanitizers, in a tree built with --enable-sanitizers):
# the first ASan or UBSan error ends the process (halt_on_error), leaks are checked
# at every exit; each process writes its report to $KP_SAN_LOGS/san.PID
# (mode 1777: kpopd's processes write there after dropping privileges, the
# chrooted front of tests/e2e/security.sh too, which sees the same path).  After
# each part the new reports are moved under the part's name and counted
# (tests/lib/sanitizer-check.sh), so a report in a worker or the auth service fails
# the part's run even when every test of the part passed.  exitcode=99 makes a
# reported leak visible as an exit status as well.  verify_asan_link_order=0: the
# LD_PRELOAD shims of tests/e2e/faults.sh and defects.sh come before libasan.
# fast_unwind_on_malloc=0: MIT krb5, libsasl2 and OpenSSL have no frame pointers,
# and a leak report needs the whole stack from our code into them.
san=0
if [ "${KP_SANITIZERS:-0}" = 1 ]; then
	san=1
	export KP_SAN_LOGS="$KP_TMP/sanitizers"
	mkdir -p "$KP_SAN_LOGS"
	chmod 1777 "$KP_SAN_LOGS"
	export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=99:detect_leaks=1:log_path=$KP_SAN_LOGS/san:verify_asan_link_order=0:strict_string_checks=1:detect_invalid_pointer_pairs=0:check_initialization_order=1:fast_unwind_on_malloc=0${KP_ASAN_EXTRA:+:$KP_ASAN_EXTRA}"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$KP_SAN_LOGS/san"
	export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
fi
san_part() { # NAME: the reports written since the last part are its
	[ "$san" = 1 ] || return 0
	local d
	d="$KP_SAN_LOGS/$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_')"
	mkdir -p "$d"
	find "$KP_SAN_LOGS" -maxdepth 1 -type f -exec mv -t "$d" {} + 2>/dev/null
	return 0
}

part_secs=()
# Run one part; add its closing "N passed, N failed[, N skipped]" to the totals.
part() {
	local name=$1 out t0=$SECONDS
	shift
	echo "== $name"
	out=$("$@" 2>&1)
	local rc=$?
	part_secs+=("$((SECONDS - t0)) $name")
	printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed' || true
	local line
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL - $name: no summary line (exit $rc)"
		total_fail=$((total_fail + 1))
		san_part "$name"
		return
	fi
	local p f s
	p=$(printf '%s' "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(printf '%s' "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL - $name: exit status $rc"
		total_fail=$((total_fail + 1))
	fi
	san_part "$name"
}

[ "$san" = 0 ] || part "sanitizer canary" bash "$src/tests/lib/sanitizer-canary.sh" "$build/tests/lib/sancanary"
want unit && part "banned libc calls" bash "$src/tests/check-banned.sh" "$src"
want unit && part "privilege boundary" bash "$src/tests/check-privsep.sh" "$src"

for t in "$build"/tests/unit/test-*; do
	case "$t" in *.c|*.o) continue ;; esac
	[ -x "$t" ] || continue
	want unit || continue
	part "unit $(basename "$t")" "${vg[@]}" "$t"
done

# One realm for every Kerberos test.
if kdc_env=$(bash "$src/kdc-test/kdc-test.sh" start "$KP_TMP/kdc" 2>"$KP_TMP/kdc-start.log"); then
	eval "$kdc_env"
	kdc_dir=$KPOP_TEST_DIR
else
	echo "FAIL - throwaway KDC did not start:"
	sed 's/^/    /' "$KP_TMP/kdc-start.log"
	total_fail=$((total_fail + 1))
fi

if [ -n "$kdc_dir" ]; then
	want transcripts && part "transcripts" "$PYTHON" "$src/tests/transcript.py" "$src"/tests/transcripts/*.t
	for t in "$src"/tests/e2e/*.sh; do
		case "$(basename "$t")" in lib*) continue ;; esac
		want "$(basename "$t" .sh)" || continue
		part "e2e $(basename "$t" .sh)" bash "$t"
	done
fi

[ ${#vg[@]} -eq 0 ] || part "memcheck reports" bash "$src/tests/lib/valgrind-check.sh" "$KP_VG_LOGS"
[ "$san" = 0 ] || part "sanitizer reports" bash "$src/tests/lib/sanitizer-check.sh" "$KP_SAN_LOGS"

echo
# The slowest parts, for whoever keeps CI's run short.
printf '%s\n' "${part_secs[@]}" | sort -rn | head -n 8 | awk '{s = $1; $1 = ""; printf "time:%s %d s\n", $0, s}'
if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
