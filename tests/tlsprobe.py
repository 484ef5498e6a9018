#!/usr/bin/python3
"""tlsprobe.py - raw checks of kpopd's TLS and security-layer edges.
usage: tlsprobe.py PORT CAFILE MODE
  inject      "STLS\\r\\nCAPA\\r\\n" in one write; inside TLS the first answer must
              belong to our NOOP, not to the injected CAPA
  twice       STLS, then STLS again inside TLS (refused); CAPA inside TLS lists no STLS
  userplain   USER/PASS without TLS (refused)
  corrupt     AUTH GSSAPI with an integrity layer, then a corrupted wrapped packet
  stall       STLS, then silence instead of a TLS handshake: seconds until closed
"""
import os, socket, ssl, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transcript  # noqa: E402


class S(transcript.Session):
    def __init__(self, sock):  # pylint: disable=super-init-not-called
        self.sock = sock
        self.buf = b""


def main():
    port, cafile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = S(raw)
    print(s.line())
    if mode in ("inject", "twice"):
        ctx = ssl.create_default_context(cafile=cafile)
        if mode == "inject":
            s.send(b"STLS\r\nCAPA\r\n")
        else:
            s.send(b"STLS\r\n")
        print(s.line())
        s.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        s.buf = b""
        if mode == "inject":
            s.send(b"NOOP\r\n")
            print("first reply inside TLS: " + s.line())
        else:
            s.send(b"CAPA\r\n")
            lines = []
            while True:
                ln = s.line()
                lines.append(ln)
                if ln == ".":
                    break
            print("capa inside TLS: " + " ".join(lines))
            s.send(b"STLS\r\n")
            print("second STLS: " + s.line())
    elif mode == "stall":
        s.send(b"STLS\r\n")
        print(s.line())
        t0 = time.time()
        try:
            while s.sock.recv(100):
                pass
        except OSError:
            pass
        print("closed after %.0f s" % (time.time() - t0))
    elif mode == "userplain":
        s.send(b"USER alice\r\n")
        print(s.line())
        s.send(b"PASS alice-pw\r\n")
        print(s.line())
    elif mode == "corrupt":
        got = transcript.gssapi_auth(s, "", layer=2)
        print(got)
        s.send(b"\x00\x00\x00\x20" + os.urandom(32))
        try:
            data = s.sock.recv(100)
            print("after corrupt packet: %s" % ("closed" if not data else repr(data[:40])))
        except OSError as e:
            print("after corrupt packet: closed (%s)" % e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
