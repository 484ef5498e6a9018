#!/usr/bin/python3
"""gssclient.py - AUTH GSSAPI (RFC 4752, python-gssapi) sessions for tests that
need control over the last step of the exchange.
usage:
  gssclient.py PORT race N
      N times: session A logs in; session B runs the exchange up to its last
      message; A sends QUIT and, the moment A's "+OK" arrives, B sends its last
      message.  Prints "in-use K of N" (K: logins refused [IN-USE]).
  gssclient.py PORT plain-after-privacy
      negotiate a privacy layer, then send a command in plaintext; prints what
      the server did ("closed" or the bytes it sent).
"""
import base64, socket, sys

import gssapi

HOST = "localhost"


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def send(self, data):
        self.sock.sendall(data)


def auth_until_last(c, layer=1):
    """Run AUTH GSSAPI up to the client's last message; return (ctx, last)."""
    if not c.line().startswith("+OK"):
        raise SystemExit("no greeting")
    name = gssapi.Name("pop@" + HOST, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate",
                                 flags=[gssapi.RequirementFlag.mutual_authentication,
                                        gssapi.RequirementFlag.integrity,
                                        gssapi.RequirementFlag.confidentiality])
    c.send(b"AUTH GSSAPI\r\n")
    ln = c.line()
    c.send(base64.b64encode(ctx.step()) + b"\r\n")
    while True:
        ln = c.line()
        if not ln.startswith("+"):
            raise SystemExit("AUTH refused: " + ln)
        data = base64.b64decode(ln[2:]) if len(ln) > 2 else b""
        if not ctx.complete:
            c.send(base64.b64encode(ctx.step(data) or b"") + b"\r\n")
            continue
        offer = ctx.unwrap(data).message
        if not offer[0] & layer:
            raise SystemExit("layer %d not offered" % layer)
        size = b"\x00\x00\x00" if layer == 1 else b"\x00\x40\x00"
        return ctx, base64.b64encode(ctx.wrap(bytes([layer]) + size, False).message) + b"\r\n"


def race(port, n):
    inuse = 0
    a = Conn(port)
    _, last = auth_until_last(a)
    a.send(last)
    if not a.line().startswith("+OK"):
        raise SystemExit("first login failed")
    for _ in range(n):
        b = Conn(port)
        _, last = auth_until_last(b)
        a.send(b"QUIT\r\n")
        ln = a.line()
        b.send(last)  # at once: the old session has said "+OK"
        if not ln.startswith("+OK"):
            raise SystemExit("QUIT answered " + ln)
        a.sock.close()
        ln = b.line()
        if "[IN-USE]" in ln:
            inuse += 1
            b.sock.close()
            b = Conn(port)
            _, last = auth_until_last(b)
            b.send(last)
            ln = b.line()
        if not ln.startswith("+OK"):
            raise SystemExit("login answered " + ln)
        a = b
    a.send(b"QUIT\r\n")
    a.line()
    print("in-use %d of %d" % (inuse, n))


def plain_after_privacy(port):
    c = Conn(port)
    _, last = auth_until_last(c, layer=4)
    c.send(last)
    ln = c.line()
    if not ln.startswith("+OK"):
        raise SystemExit("login failed: " + ln)
    c.send(b"STAT\r\n")  # plaintext where every byte must be wrapped
    c.sock.settimeout(5)
    try:
        data = c.sock.recv(100)
    except socket.timeout:
        data = b"(nothing within 5 s)"
    print("closed" if not data else repr(data))


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "race":
        race(port, int(sys.argv[3]))
    elif mode == "plain-after-privacy":
        plain_after_privacy(port)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
