#!/usr/bin/python3
"""bench.py - session-rate figures against a running kpopd:
  connect+CAPA+QUIT sessions/s (no Kerberos: the fork-per-connection cost), and
  full AUTH GSSAPI (python-gssapi) + STAT + QUIT sessions/s.
usage: bench.py PORT SECONDS"""
import socket, sys, time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import transcript  # noqa: E402


class Tcp(transcript.Session):
    def __init__(self, port):  # pylint: disable=super-init-not-called
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""


def rate(port, seconds, auth):
    n = 0
    t0 = time.time()
    while time.time() - t0 < seconds:
        s = Tcp(port)
        s.line()
        if auth:
            r = transcript.gssapi_auth(s, "")
            assert r.startswith("+OK"), r
            s.send(b"STAT\r\nQUIT\r\n")
            s.line()
            s.line()
        else:
            s.send(b"CAPA\r\nQUIT\r\n")
            while s.line() != ".":
                pass
            s.line()
        s.sock.close()
        n += 1
    return n / (time.time() - t0)


port, seconds = int(sys.argv[1]), float(sys.argv[2])
print("sessions/s, connect+CAPA+QUIT (fork per connection): %.0f" % rate(port, seconds, False))
print("sessions/s, AUTH GSSAPI+STAT+QUIT (one client, sequential): %.0f" % rate(port, seconds, True))
