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
  gssclient.py PORT layered LAYER MAXBUF [MSG FILE]...
      negotiate LAYER (2 integrity, 4 privacy) telling the server our max buffer
      is MAXBUF, then STAT, RETR MSG (compared with FILE) and QUIT through the
      layer; prints what it saw (largest token, encryption, content).
  gssclient.py PORT boundary
      integrity layer: a packet of exactly 65536 bytes (the server's maximum) is
      read, one of 65537 ends the session; prints both outcomes.
  gssclient.py PORT unencrypted
      privacy layer, then a packet wrapped without encryption; prints the outcome.
  gssclient.py PORT trickle
      integrity layer: a packet sent a byte at a time, two packets in one write,
      one command split over two packets; prints the replies.
  gssclient.py PORT login AUTHZID
      AUTH GSSAPI with that authzid (no layer); prints the server's answer.
  gssclient.py PORT nonempty
      AUTH GSSAPI answering the server's last accept token with data where RFC
      4752 wants an empty response; prints "answer: " the server's reply, then
      "then: " its reply to CAPA on the same connection.
  gssclient.py PORT truncated
      AUTH GSSAPI whose first token is cut in half; prints the server's answer.
  gssclient.py PORT replay
      the same first token on two connections; prints "first: ..." and
      "second: ..." (the server's answer to it on each).
  gssclient.py - sizes K
      K first tokens for pop@localhost from the ccache; prints the commonest size
  gssclient.py PORT exact N [LAYER]
      AUTH GSSAPI whose first token is exactly N octets (new contexts until one
      is), with security layer LAYER (1 none, 4 privacy: then STAT through it);
      prints "token of N octets: " and the server's answer.
KP_GSS_SERVICE names the service (default pop).
"""
import base64, os, socket, sys

import gssapi

HOST = "localhost"
SERVICE = os.environ.get("KP_GSS_SERVICE", "pop")  # the service name of pop/HOST


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


def new_ctx():
    name = gssapi.Name(SERVICE + "@" + HOST, gssapi.NameType.hostbased_service)
    return gssapi.SecurityContext(name=name, usage="initiate",
                                  flags=[gssapi.RequirementFlag.mutual_authentication,
                                         gssapi.RequirementFlag.integrity,
                                         gssapi.RequirementFlag.confidentiality])


def sized_ctx(n):
    """A context whose first token is exactly n octets.  A ticket's tokens differ
    by a few octets (the authenticator's microseconds and sequence number are DER
    integers of varying length): new contexts until one fits."""
    seen = set()
    for _ in range(400):
        ctx = new_ctx()
        tok = ctx.step()
        if len(tok) == n:
            return ctx, tok
        seen.add(len(tok))
    raise SystemExit("no first token of %d octets in 400 tries (sizes %s)"
                     % (n, sorted(seen)))


def token_sizes(k):
    sizes = {}
    for _ in range(k):
        n = len(new_ctx().step())
        sizes[n] = sizes.get(n, 0) + 1
    return sizes


def auth_until_last(c, layer=1, maxbuf=None, authzid=b"", ctx=None, first=None):
    """Run AUTH GSSAPI up to the client's last message; return (ctx, last).  ctx
    and first: a context and its first token made beforehand."""
    if not c.line().startswith("+OK"):
        raise SystemExit("no greeting")
    if ctx is None:
        ctx = new_ctx()
        first = ctx.step()
    c.send(b"AUTH GSSAPI\r\n")
    ln = c.line()
    c.send(base64.b64encode(first) + b"\r\n")
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
        if maxbuf is not None:
            size = maxbuf.to_bytes(3, "big")
        return ctx, base64.b64encode(ctx.wrap(bytes([layer]) + size + authzid,
                                              False).message) + b"\r\n"


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


class Layer:
    """The client side of the RFC 4752 layer: 4-byte length + wrap token."""

    def __init__(self, c, ctx, conf):
        self.c, self.ctx, self.conf = c, ctx, conf
        self.raw = c.buf  # (nothing may be left over from the exchange)
        c.buf = b""
        self.plain = b""
        self.max_token = 0
        self.encrypted = set()

    def send(self, data):
        tok = self.ctx.wrap(data, self.conf).message
        self.c.sock.sendall(len(tok).to_bytes(4, "big") + tok)

    def packet(self):
        while len(self.raw) < 4 or len(self.raw) < 4 + int.from_bytes(self.raw[:4], "big"):
            chunk = self.c.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.raw += chunk
        n = int.from_bytes(self.raw[:4], "big")
        tok, self.raw = self.raw[4:4 + n], self.raw[4 + n:]
        self.max_token = max(self.max_token, n)
        res = self.ctx.unwrap(tok)
        self.encrypted.add(bool(res.encrypted))
        self.plain += res.message

    def line(self):
        while b"\r\n" not in self.plain:
            self.packet()
        ln, self.plain = self.plain.split(b"\r\n", 1)
        return ln.decode("latin-1")

    def multiline(self):
        lines = []
        while True:
            ln = self.line()
            if ln == ".":
                return lines
            lines.append(ln[1:] if ln.startswith(".") else ln)


def login_layer(port, layer, maxbuf):
    c = Conn(port)
    ctx, last = auth_until_last(c, layer=layer, maxbuf=maxbuf)
    c.send(last)
    ln = c.line()
    if not ln.startswith("+OK"):
        raise SystemExit("login failed: " + ln)
    return c, ctx, ln


def layered(port, layer, maxbuf, retr):
    c, ctx, ln = login_layer(port, layer, maxbuf)
    print("login: " + ln)
    lay = Layer(c, ctx, layer == 4)
    lay.send(b"STAT\r\n")
    print("STAT: " + lay.line())
    for msg, path in retr:
        lay.send(b"RETR %d\r\n" % msg)
        head = lay.line()
        body = lay.multiline()
        want = open(path, "rb").read()
        got = ("\n".join(body) + "\n").encode("latin-1")
        print("RETR %d: %s, %s" % (msg, head.split()[0],
                                   "intact" if got == want else
                                   "DIFFERS (%d bytes, want %d)" % (len(got), len(want))))
    lay.send(b"QUIT\r\n")
    print("QUIT: " + lay.line().split()[0])
    print("largest token %d, within %d: %s" % (lay.max_token, maxbuf,
                                              "yes" if lay.max_token <= maxbuf else "NO"))
    print("encrypted: " + ",".join(sorted("yes" if e else "no" for e in lay.encrypted)))


def recv_outcome(c, lay=None):
    c.sock.settimeout(5)
    try:
        if lay is not None:
            return "reply " + lay.line()
        data = c.sock.recv(100)
        return "closed" if not data else repr(data[:40])
    except EOFError:
        return "closed"
    except socket.timeout:
        return "(nothing within 5 s)"
    except OSError as e:
        return "closed (%s)" % e


def boundary(port):
    c, ctx, _ = login_layer(port, 2, 65536)
    lay = Layer(c, ctx, False)
    # a command line whose integrity token is exactly 65536 bytes
    n = 65536
    while True:
        data = b"NOOP " + b"x" * (n - 7) + b"\r\n"
        size = len(ctx.wrap(data, False).message)
        if size == 65536:
            break
        n -= size - 65536
    lay.send(data)
    print("token of 65536: " + recv_outcome(c, lay))
    data = b"NOOP " + b"x" * (n - 6) + b"\r\n"
    tok = ctx.wrap(data, False).message
    c.sock.sendall(len(tok).to_bytes(4, "big") + tok)
    print("token of %d: %s" % (len(tok), recv_outcome(c)))


def unencrypted(port):
    c, ctx, _ = login_layer(port, 4, 65536)
    tok = ctx.wrap(b"STAT\r\n", False).message  # integrity only, inside privacy
    c.sock.sendall(len(tok).to_bytes(4, "big") + tok)
    print("unencrypted packet inside privacy: " + recv_outcome(c))


def trickle(port):
    import time
    c, ctx, _ = login_layer(port, 2, 65536)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lay = Layer(c, ctx, False)
    tok = ctx.wrap(b"NOOP\r\n", False).message
    for b in len(tok).to_bytes(4, "big") + tok:
        c.sock.sendall(bytes([b]))
        time.sleep(0.002)
    print("byte at a time: " + lay.line())
    two = b""
    for cmd in (b"NOOP\r\n", b"STAT\r\n"):
        tok = ctx.wrap(cmd, False).message
        two += len(tok).to_bytes(4, "big") + tok
    c.sock.sendall(two)
    print("two in one write: %s | %s" % (lay.line(), lay.line()))
    lay.send(b"ST")
    time.sleep(0.05)
    lay.send(b"AT\r\n")
    print("split command: " + lay.line())


def login(port, authzid):
    c = Conn(port)
    _, last = auth_until_last(c, authzid=authzid.encode())
    c.send(last)
    print(c.line())


def nonempty(port):
    c = Conn(port)
    c.line()
    ctx = new_ctx()
    first = ctx.step()
    c.send(b"AUTH GSSAPI\r\n")
    c.line()
    c.send(base64.b64encode(first) + b"\r\n")
    ln = c.line()
    if not ln.startswith("+ "):
        raise SystemExit("no server token: " + ln)
    ctx.step(base64.b64decode(ln[2:]))
    if not ctx.complete:
        raise SystemExit("the context needs more than one round")
    c.send(base64.b64encode(b"not empty") + b"\r\n")
    print("answer: " + c.line())
    c.send(b"CAPA\r\n")
    print("then: " + c.line())


def first_token():
    name = gssapi.Name(SERVICE + "@" + HOST, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate",
                                 flags=[gssapi.RequirementFlag.mutual_authentication])
    return ctx.step()


def send_first(port, tok):
    """Greeting, AUTH GSSAPI, tok; the server's answer to tok."""
    c = Conn(port)
    c.line()
    c.send(b"AUTH GSSAPI\r\n")
    c.line()
    c.send(base64.b64encode(tok) + b"\r\n")
    return c.line()


def exact(port, n, layer):
    """AUTH GSSAPI with a first token of exactly n octets (LAYER 1: none, 4:
    privacy, then STAT through it); prints the server's verdict."""
    ctx, tok = sized_ctx(n)
    c = Conn(port)
    try:
        ctx, last = auth_until_last(c, layer=layer, ctx=ctx, first=tok)
    except SystemExit as e:
        print("token of %d octets: %s" % (n, str(e).replace("AUTH refused: ", "")))
        return
    c.send(last)
    ln = c.line()
    out = "token of %d octets: %s" % (n, ln)
    if ln.startswith("+OK") and layer == 4:
        lay = Layer(c, ctx, True)
        lay.send(b"STAT\r\n")
        out += "; STAT through the privacy layer: " + lay.line()
    print(out)


def main():
    port = int(sys.argv[1]) if sys.argv[1] != "-" else 0
    mode = sys.argv[2]
    if mode == "sizes":
        sizes = token_sizes(int(sys.argv[3]))
        print("%s sizes: %s" % (SERVICE, sorted(sizes.items())), file=sys.stderr)
        print(max(sizes, key=lambda k: sizes[k]))
        return
    if mode == "exact":
        exact(port, int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
        return
    if mode == "truncated":
        tok = first_token()
        print(send_first(port, tok[:len(tok) // 2]))
        return
    if mode == "replay":
        tok = first_token()
        print("first: " + send_first(port, tok).split(" ", 1)[0])
        print("second: " + send_first(port, tok))
        return
    if mode == "race":
        race(port, int(sys.argv[3]))
    elif mode == "plain-after-privacy":
        plain_after_privacy(port)
    elif mode == "layered":
        args = sys.argv[5:]
        layered(port, int(sys.argv[3]), int(sys.argv[4]),
                [(int(args[i]), args[i + 1]) for i in range(0, len(args), 2)])
    elif mode == "boundary":
        boundary(port)
    elif mode == "unencrypted":
        unencrypted(port)
    elif mode == "trickle":
        trickle(port)
    elif mode == "login":
        login(port, sys.argv[3])
    elif mode == "nonempty":
        nonempty(port)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
