# tests/lib/common.sh - shell helpers for the end-to-end tests and scripts:
# free ports, waiting, stopping by PID, and a tiny reporting API that ends with
# "N passed, N failed".
T_PASS=0
T_FAIL=0
T_SKIP=0

# A TCP port on 127.0.0.1 that nothing listens on right now and that no earlier
# call handed out in the last 5 minutes (kdc-test/free-port.py).
KP_FREE_PORT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../kdc-test" && pwd)/free-port.py
free_port() {
	/usr/bin/python3 "$KP_FREE_PORT"
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	local port=$1 limit=${2:-5} i
	for i in $(seq $((limit * 20))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# stop_pid PID: TERM, then KILL after 5 s; reaps it if it is our child.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

t_pass() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1: $2"; }
t_skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP - $1: $2"; }

t_expect_eq() { # name expected actual
	if [ "$2" = "$3" ]; then t_pass "$1"; else t_fail "$1" "expected '$2', got '$3'"; fi
}

t_expect_match() { # name regex actual
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		t_pass "$1"
	else
		t_fail "$1" "'$(printf '%s' "$3" | head -c 300)' does not match /$2/"
	fi
}

# t_collect: count the ok/FAIL/SKIP lines of a sub-run (a namespace's part of a
# test) read from stdin as our own.
t_collect() {
	local line
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) t_pass "${line#ok - }" ;;
		"FAIL - "*) T_FAIL=$((T_FAIL + 1)); echo "$line" ;;
		"SKIP - "*) T_SKIP=$((T_SKIP + 1)); echo "$line" ;;
		esac
	done
}

t_summary() {
	if [ "$T_SKIP" -gt 0 ]; then
		echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	else
		echo "$T_PASS passed, $T_FAIL failed"
	fi
	[ "$T_FAIL" -eq 0 ]
}
