# tests/e2e/lib-farm.sh - kpopd nodes behind a real HAProxy, for proxy.sh and
# farm.sh: nodes on their own loopback addresses, HAProxy from a config in a temp
# dir (send-proxy / send-proxy-v2, tcp-check health checks, a stats socket), a
# client relay bound to 127.0.0.9.  Sourced after lib.sh.  Every process is
# stopped by its recorded PID.

FARM_PIDS=()      # every process started here, stopped at exit
HAPROXY_PID=""
HAPROXY_SOCK=$E2E_DIR/haproxy.sock
declare -a NODE_PID NODE_PORT NODE_LOG NODE_ADDR

# farm_port ADDR: a TCP port nothing listens on at ADDR
farm_port() {
	"$PYTHON" -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# farm_wait_port ADDR PORT: until something accepts there (5 s)
farm_wait_port() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import socket, sys, time
end = time.time() + 5
while time.time() < end:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# farm_gone PID: until the process is gone or a zombie (10 s)
farm_gone() {
	local i st
	for i in $(seq 200); do
		st=$(sed -E 's/^.*\) ([A-Z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		sleep 0.05
	done
	return 1
}

# farm_tree PID: PID and its descendants (from /proc, one pass)
farm_tree() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
		{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); pid = $1; kids[f[2]] = kids[f[2]] " " pid }
		END { q[1] = root; n = 1; for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

# node_start I ADDR MAILROOT RCACHE [kpopd options...]: kpopd node I on ADDR, a
# proxy listener (mode NODE_MODE, default auto) trusting 127.0.0.5 (HAProxy's
# source address)
node_start() {
	local i=$1 addr=$2 root=$3 rc=$4 port pidfile
	shift 4
	port=$(farm_port "$addr")
	pidfile=$E2E_DIR/node$i.pid
	NODE_LOG[$i]=$E2E_DIR/node$i.log
	NODE_ADDR[$i]=$addr
	NODE_PORT[$i]=$port
	"$KPOPD" -F -o log=stderr -o log_level=debug -o keytab="$KPOP_TEST_DIR/kpopd.keytab" \
		-o rcache_dir="$rc" -o pidfile="$pidfile" -o maildir="$root/%u/Maildir" \
		-o mail_uid="$KP_MAIL_UID" -o pool_spare=2 -o sniff_ms=100 \
		-o proxy_trusted=127.0.0.5 -L "$addr:$port ${NODE_MODE:-auto} proxy" "$@" >>"${NODE_LOG[$i]}" 2>&1 &
	NODE_PID[$i]=$!
	FARM_PIDS+=("${NODE_PID[$i]}")
	farm_wait_port "$addr" "$port" || { echo "node $i did not start" >&2; tail -5 "${NODE_LOG[$i]}" >&2; return 1; }
}

# node_kill I: SIGKILL node I, master and every child, as a machine dies
node_kill() {
	local p
	for p in $(farm_tree "${NODE_PID[$1]}"); do kill -KILL "$p" 2>/dev/null; done
	wait "${NODE_PID[$1]}" 2>/dev/null
	for p in $(farm_tree "${NODE_PID[$1]}"); do farm_gone "$p"; done
}

# haproxy_start CFG-BODY: HAProxy with global/defaults of ours and the given
# frontends/backends; 127.0.0.5 is its source address towards the nodes
haproxy_start() {
	cat >"$E2E_DIR/haproxy.cfg" <<EOF
global
	stats socket $HAPROXY_SOCK mode 600 level admin
	pidfile $E2E_DIR/haproxy.pid
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout check 3s
$1
EOF
	/usr/sbin/haproxy -f "$E2E_DIR/haproxy.cfg" -D -p "$E2E_DIR/haproxy.pid" \
		>"$E2E_DIR/haproxy.out" 2>&1 || { cat "$E2E_DIR/haproxy.out" >&2; return 1; }
	HAPROXY_PID=$(cat "$E2E_DIR/haproxy.pid")
}

# a backend line for node I: "server nI ADDR:PORT OPTIONS"
haproxy_server() { echo "	server n$1 ${NODE_ADDR[$1]}:${NODE_PORT[$1]} $2"; }

# haproxy_status BACKEND SERVER: "STATUS CHECK" from the stats socket, e.g.
# "UP L7OK" (the tcp-check passed) or "DOWN L7TOUT"
haproxy_status() {
	echo "show stat" | socat - "UNIX-CONNECT:$HAPROXY_SOCK" 2>/dev/null |
		awk -F, -v b="$1" -v s="$2" '$1 == b && $2 == s { print $18 " " $37 }'
}

# haproxy_wait BACKEND SERVER STATE: until the server shows STATE (20 s)
haproxy_wait() {
	local i
	for i in $(seq 200); do
		case "$(haproxy_status "$1" "$2")" in "$3"*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

# relay_start LISTEN-PORT TARGET-PORT: socat from 127.0.0.1:LISTEN-PORT to
# 127.0.0.1:TARGET-PORT whose outgoing end is bound to 127.0.0.9 (kpop has no
# source-address option: the relay is the client HAProxy sees)
relay_start() {
	socat "TCP4-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" "TCP4:127.0.0.1:$2,bind=127.0.0.9" &
	FARM_PIDS+=("$!")
	farm_wait_port 127.0.0.1 "$1"
}

farm_stop() {
	local p
	if [ -n "$HAPROXY_PID" ]; then
		kill -TERM "$HAPROXY_PID" 2>/dev/null
		farm_gone "$HAPROXY_PID"
	fi
	for p in "${FARM_PIDS[@]}"; do
		stop_pid "$p"
	done
	FARM_PIDS=()
}

# The real clients through HAProxy, from the client address 127.0.0.9 (logged by the
# nodes).  farm_curl_retr PORT N: RETR N over AUTH GSSAPI, CRs removed, on stdout.
farm_curl_retr() {
	timeout 30 curl -sS --interface 127.0.0.9 --login-options AUTH=GSSAPI \
		-u "alice@$KPOP_TEST_REALM:" "pop3://localhost:$1/$2" 2>&1 | tr -d '\r'
}

# farm_fetchmail PORT MBOX: fetchmail over AUTH GSSAPI, keeping the mail, appending
# to MBOX; its exit status.
farm_fetchmail() {
	mkdir -p "$E2E_DIR/fmhome"
	HOME=$E2E_DIR/fmhome FETCHMAILHOME=$E2E_DIR/fmhome timeout 60 fetchmail \
		--pidfile "$E2E_DIR/fmhome/fetchmail.pid" -N --nosslcertck --sslproto '' -a -k \
		--mda "cat >> $2" -p POP3 --auth gssapi -u alice \
		--plugin "socat STDIO TCP4:127.0.0.1:$1,bind=127.0.0.9" localhost >"$E2E_DIR/fm.out" 2>&1
}

# --- the GlusterFS store (farm.sh, bench-farm.sh) -------------------------------
# One glusterfsd brick (a directory) without glusterd on 127.1.1.1, mounted once per
# node with the FUSE client; only in a private mount namespace (farm.sh runs itself
# in one).  gluster_setup DIR writes the volfiles and sets G and BPORT; brick_start,
# mount_volume I ($G/mI), gluster_stop.
BRICK_PID=""
MOUNTS=()

gluster_setup() {
	G=$1
	mkdir -p "$G/brick"
	BPORT=$(farm_port 127.1.1.1)
	cat >"$G/server.vol" <<EOF
volume posix
	type storage/posix
	option directory $G/brick
end-volume
volume locks
	type features/locks
	subvolumes posix
end-volume
volume store
	type performance/io-threads
	subvolumes locks
end-volume
volume server
	type protocol/server
	option transport-type tcp
	option transport.socket.bind-address 127.1.1.1
	option transport.socket.listen-port $BPORT
	option auth.addr.store.allow 127.*
	subvolumes store
end-volume
EOF
	# No performance translators on the client side: every read and write goes to
	# the brick, as the rules for a shared store want (README "Running a farm").
	cat >"$G/client.vol" <<EOF
volume store
	type protocol/client
	option transport-type tcp
	option remote-host 127.1.1.1
	option remote-port $BPORT
	option remote-subvolume store
end-volume
EOF
}
brick_start() {
	glusterfsd -f "$G/server.vol" -l "$G/brick.log" -p "$G/brick.pid" || return 1
	BRICK_PID=$(cat "$G/brick.pid")
	farm_wait_port 127.1.1.1 "$BPORT"
}
brick_stop() {
	[ -n "$BRICK_PID" ] || return 0
	kill -TERM "$BRICK_PID" 2>/dev/null
	farm_gone "$BRICK_PID"
	BRICK_PID=""
}
# mount_volume I: the volume at $G/mI (node I's view of the store).
# --fopen-keep-cache=off: GlusterFS 10's FUSE client otherwise keeps a file's
# page cache across opens (measured: the replay cache file rewritten in place by
# node 1 read as the old bytes on node 2, so node 2 accepted node 1's AP-REQ);
# files rewritten in place (the replay cache, mbox spools) need every open to
# read the brick.
mount_volume() {
	mkdir -p "$G/m$1"
	glusterfs --volfile="$G/client.vol" --entry-timeout=0 --attribute-timeout=0 \
		--negative-timeout=0 --fopen-keep-cache=off ${GLUSTER_MOUNT_OPTS:-} -l "$G/m$1.log" -p "$G/m$1.pid" "$G/m$1" || return 1
	MOUNTS+=("$1")
	local i
	for i in $(seq 100); do mountpoint -q "$G/m$1" && return 0; sleep 0.05; done
	return 1
}
umount_volume() {
	local pid
	pid=$(cat "$G/m$1.pid" 2>/dev/null)
	umount "$G/m$1" 2>/dev/null || umount -l "$G/m$1" 2>/dev/null
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && farm_gone "$pid"
}
# every mount, then the brick
gluster_stop() {
	local m
	for m in "${MOUNTS[@]}"; do umount_volume "$m"; done
	MOUNTS=()
	brick_stop
}
