#!/usr/bin/python3
"""free-port.py [--udp]: print a port on 127.0.0.1 that nothing listens on now
(with --udp: free for UDP too) and that this user has not been given in the last
5 minutes.  A port is only free until someone binds it, and the kernel may hand
the one it just gave back out again: two calls in one script (a server's pop3 and
pop3s listeners) once got the same port.  The ports given out are kept, with the
time, in $TMPDIR/kp-free-ports.UID under an flock; entries older than 5 minutes
are dropped, so the file stays small."""
import fcntl
import os
import socket
import sys
import time

HOLD = 300
path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "kp-free-ports.%d" % os.getuid())
udp = "--udp" in sys.argv[1:]

def pick(recent):
    for _ in range(200):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        p = t.getsockname()[1]
        ok = p not in recent
        if ok and udp:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            u.close()
        t.close()
        if ok:
            return p
    sys.exit("free-port: no free port found")


try:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
except OSError:
    # No place to remember (another user's TMPDIR): a plain free port.
    print(pick({}))
    sys.exit(0)
with os.fdopen(fd, "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    now = time.time()
    recent = {}
    for line in f:
        try:
            port, when = line.split()
            if now - float(when) < HOLD:
                recent[int(port)] = float(when)
        except ValueError:
            pass
    port = pick(recent)
    recent[port] = now
    f.seek(0)
    f.truncate()
    f.write("".join("%d %.3f\n" % kv for kv in recent.items()))
print(port)
