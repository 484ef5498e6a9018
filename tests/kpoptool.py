#!/usr/bin/python3
"""kpoptool.py - a raw legacy-KPOP client for tests: well-formed handshakes with a
real ticket, and every malformed variant a test needs.

usage: kpoptool.py HOST PORT MODE
MODE:
  ok          handshake + USER alice / PASS x / STAT / QUIT; prints the replies
  pipeline    handshake, then USER/PASS/STAT/QUIT in the same write, before the greeting
  replay      one AP-REQ sent on two connections: prints "first: OK", "second: <verdict>"
  replay-to HOST2:PORT2
              the same, the second connection to another server (a farm's other node)
  user NAME   handshake, USER NAME / PASS x; prints the PASS reply
  raw HEX     send these bytes, print what comes back until the server closes
  stall HEX   send these bytes, then wait silently; print seconds until the server closed
  v4          send a Kerberos 4 "AUTHV0.1" header; print what comes back
  half        a real AP-REQ cut in half (its length prefix says so); prints the verdict
  sizes K     (no connection) K AP-REQs for pop/localhost: prints the commonest size
  exact N USER
              the handshake with an AP-REQ of exactly N octets (new ones until one
              is), then USER/PASS/STAT/QUIT; prints "AP-REQ of N octets: " and the
              verdict (and the STAT reply)
KPOPTOOL_SOURCE=ADDR binds each connection to ADDR; KPOPTOOL_PROXY=CLIENT starts
each with a PROXY v1 header naming CLIENT (an IPv4 address) as a load balancer
would.  KP_GSS_SERVICE names the service (default pop).
"""
import base64, os, socket, struct, sys, time

import gssapi

SERVICE = os.environ.get("KP_GSS_SERVICE", "pop")  # the service name of pop/HOST
SENDAUTH = b"KRB5_SENDAUTH_V1.0\0"
KPOP = b"KPOPV1.0\0"


def apreq(host):
    """A raw krb5 AP-REQ (mutual auth) for pop/host: a GSS token without its framing."""
    name = gssapi.Name(SERVICE + "@" + host, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate",
                                 flags=[gssapi.RequirementFlag.mutual_authentication])
    tok = ctx.step()
    assert tok[0] == 0x60
    hdr = 2 if tok[1] < 0x80 else 2 + (tok[1] & 0x7F)
    assert tok[hdr] == 0x06
    pos = hdr + 2 + tok[hdr + 1]
    assert tok[pos:pos + 2] == b"\x01\x00", tok[pos:pos + 2]
    return tok[pos + 2:]


def sized_apreq(host, n):
    """An AP-REQ of exactly n octets: new ones until one is (their authenticators'
    microseconds and sequence numbers are DER integers of varying length)."""
    seen = set()
    for _ in range(400):
        req = apreq(host)
        if len(req) == n:
            return req
        seen.add(len(req))
    raise SystemExit("no AP-REQ of %d octets in 400 tries (sizes %s)" % (n, sorted(seen)))


def msg(data):
    return struct.pack(">I", len(data)) + data


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("server closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def handshake(s, req):
    """Returns 'OK' or a description of the refusal."""
    s.sendall(msg(SENDAUTH) + msg(KPOP))
    v = recv_exact(s, 1)
    if v != b"\0":
        return "version refused (%d)" % v[0]
    s.sendall(msg(req))
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    if n != 0:
        recv_exact(s, n)
        return "KRB-ERROR (%d bytes)" % n
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    recv_exact(s, n)  # AP-REP
    return "OK"


def lines(s, count):
    f = s.makefile("rb")
    return [f.readline().decode("latin-1").rstrip("\r\n") for _ in range(count)]


def connect(host, port):
    src = os.environ.get("KPOPTOOL_SOURCE")
    s = socket.create_connection((host, int(port)), timeout=15,
                                 source_address=(src, 0) if src else None)
    client = os.environ.get("KPOPTOOL_PROXY")
    if client:
        mine, dst = s.getsockname(), s.getpeername()
        s.sendall(("PROXY TCP4 %s %s %d %d\r\n" % (client, dst[0], mine[1], dst[1])).encode())
    return s


def main():
    host, port, mode = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    if mode == "sizes":
        sizes = {}
        for _ in range(int(arg)):
            n = len(apreq("localhost"))
            sizes[n] = sizes.get(n, 0) + 1
        print("%s sizes: %s" % (SERVICE, sorted(sizes.items())), file=sys.stderr)
        print(max(sizes, key=lambda k: sizes[k]))
        return 0
    if mode == "exact":
        req = sized_apreq("localhost", int(arg))
        s = connect(host, port)
        verdict = handshake(s, req)
        out = "AP-REQ of %d octets: %s" % (len(req), verdict)
        if verdict == "OK":
            s.sendall(("USER %s\r\nPASS x\r\nSTAT\r\nQUIT\r\n" % sys.argv[5]).encode())
            out += "; STAT: " + lines(s, 4)[3]
        print(out)
        return 0
    s = connect(host, port)
    if mode == "ok":
        print(handshake(s, apreq("localhost")))
        s.sendall(b"USER alice\r\nPASS x\r\nSTAT\r\nQUIT\r\n")
        print("\n".join(lines(s, 5)))
    elif mode == "pipeline":
        req = apreq("localhost")
        s.sendall(msg(SENDAUTH) + msg(KPOP) + msg(req) + b"CAPA\r\n")
        # everything after the AP-REQ is POP3, pipelined before the greeting
        s.sendall(b"USER alice\r\nPASS x\r\nSTAT\r\nQUIT\r\n")
        recv_exact(s, 1)
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        if n != 0:
            print("refused")
            return 1
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        recv_exact(s, n)
        out = lines(s, 30)
        print("\n".join(x for x in out if x))
    elif mode == "replay":
        req = apreq("localhost")
        print("first: " + handshake(s, req))
        s.close()
        s = connect(host, port)
        try:
            print("second: " + handshake(s, req))
        except (EOFError, OSError) as e:
            print("second: closed (%s)" % e)
    elif mode == "replay-to":
        req = apreq("localhost")
        print("first: " + handshake(s, req))
        s.close()
        host2, port2 = arg.rsplit(":", 1)
        s = connect(host2, port2)
        try:
            print("second: " + handshake(s, req))
        except (EOFError, OSError) as e:
            print("second: closed (%s)" % e)
    elif mode == "half":
        req = apreq("localhost")
        print(handshake(s, req[:len(req) // 2]))
    elif mode == "user":
        print(handshake(s, apreq("localhost")))
        s.sendall(("USER %s\r\nPASS x\r\n" % arg).encode())
        print("\n".join(lines(s, 3)[1:]))
    elif mode == "raw" or mode == "v4":
        data = bytes.fromhex(arg) if mode == "raw" else b"AUTHV0.1" + b"\0" * 8
        s.sendall(data)
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except OSError as e:
            got += ("<%s>" % e).encode()
        print("got %d bytes: %r" % (len(got), got[:200]))
    elif mode == "stall":
        s.sendall(bytes.fromhex(arg))
        t0 = time.time()
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        print("closed after %.1f s" % (time.time() - t0))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
