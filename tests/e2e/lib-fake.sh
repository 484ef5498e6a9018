# tests/e2e/lib-fake.sh - a scripted fake POP3 server (tests/fakepop3.py) for the
# client tests: start it on a free port, run kpop against it, count what kpop sent.
# Sourced after tests/e2e/lib.sh.
FAKE=$KP_TOP_SRCDIR/tests/fakepop3.py
FAKE_PID=""
FAKE_PORT=""
FAKE_LOG=""
trap 'fake_stop; e2e_cleanup' EXIT

# fake_start NAME MODE [fakepop3 options...]: a fake server on a free port; sets
# FAKE_PID, FAKE_PORT and FAKE_LOG (the commands it received, one "C: " line each).
fake_start() {
	local name=$1 i
	shift
	FAKE_LOG=$E2E_DIR/$name.log
	: >"$FAKE_LOG"
	rm -f "$E2E_DIR/$name.port"
	"$PYTHON" "$FAKE" "$@" --port-file "$E2E_DIR/$name.port" --log "$FAKE_LOG" \
		>>"$E2E_DIR/fake.out" 2>&1 &
	FAKE_PID=$!
	for i in $(seq 100); do
		[ -s "$E2E_DIR/$name.port" ] && break
		sleep 0.05
	done
	FAKE_PORT=$(cat "$E2E_DIR/$name.port" 2>/dev/null)
	[ -n "$FAKE_PORT" ] || { echo "fakepop3 $* did not start" >&2; return 1; }
}

fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		stop_pid "$FAKE_PID"
		FAKE_PID=""
	fi
}

# kpop_fake ARGS...: kpop against the fake server, bounded in time; output in
# $E2E_DIR/out and $E2E_DIR/err, exit status in $rc.
kpop_fake() {
	timeout 60 "$KPOP" -H localhost -p "$FAKE_PORT" -t 5 "$@" >"$E2E_DIR/out" 2>"$E2E_DIR/err"
	rc=$?
}

sent() { # VERB: how many times the client sent VERB to the fake server
	grep -c "^C: $1\( \|$\)" "$FAKE_LOG"
}

files_in() { # DIR: regular files below DIR (0 if it does not exist)
	if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi
}
