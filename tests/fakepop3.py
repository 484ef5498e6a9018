#!/usr/bin/python3
"""fakepop3.py - a scripted hostile POP3 (and legacy KPOP) server for kpop's tests.

It listens on a free 127.0.0.1 port, serves one connection (or --connections N,
one after another) and logs every line it receives, so a test can check what the
client sent (no DELE, no USER, ...).

usage: fakepop3.py MODE [--port-file F] [--log F] [--connections N] [--lifetime S]
                        [--size N] [--extra N] [--variant V] [--message F]
  --port-file F   write the port to F once listening (default: print it on stdout)
  --log F         append "C: line" for every line received and "E: event" lines
                  (AUTH tokens are logged as "C: <auth data N bytes>")
  --connections N serve N connections, then exit (default 1)
  --lifetime S    exit after S seconds whatever happens (default 60)
  --size N        endless-retr: the size LIST announces (default 1000)
  --extra N       endless-retr: octets sent beyond that size before the final "."
                  (default 8 MiB; -1: never end, until the client goes away)
  --message F     serve: the message to serve (LF or CRLF line ends)
  --variant V     escapes: list-err (LIST answered -ERR with control characters);
                  kpop-no-aprep: close | empty | garbage | reflect | hang
MODES
  serve           real AUTH GSSAPI (keys from KRB5_KTNAME); serves --message as
                  message 1, dot-stuffed, with its exact size in LIST
  ok-early        answers AUTH GSSAPI's first token with +OK (it has no key), then
                  serves an impostor's message to LIST/UIDL/RETR/DELE/QUIT
  ok-late         answers the first token with an empty challenge ("+ "), and
                  whatever comes next with +OK; then as ok-early
  endless-retr    real AUTH GSSAPI (keys from KRB5_KTNAME); RETR sends --extra
                  octets more than LIST said (or streams forever)
  endless-list    real AUTH GSSAPI; LIST goes on for 1.1 million lines
  escapes         real AUTH GSSAPI; UIDL lines, RETR and DELE answers (and the
                  CAPA IMPLEMENTATION) carry ESC sequences, CR, BS, BEL and DEL
  escapes-auth    AUTH GSSAPI is refused with a -ERR text full of control characters
  escapes-greeting  the greeting is -ERR with control characters
  quirks          real AUTH GSSAPI; two messages ("quirk 1", "quirk 2"); --variant
                  (comma-separated): no-capa (CAPA is an unknown command, RFC 1939
                  only), capa-err-after (CAPA -ERR once logged in), dele-refused
                  (every DELE -ERR), no-uidl (no UIDL capability, UIDL -ERR),
                  hang-retr2 (RETR 2 is never answered), hang-quit (QUIT is never
                  answered), on the first connection only: "E: hanging at ..." is
                  logged, for a test to kill kpop
  kpop-no-aprep   legacy KPOP (krb5_sendauth "KPOPV1.0"): the AP-REQ is answered
                  "no error" but without a valid AP-REP (--variant: close the
                  connection, a zero-length AP-REP, random bytes, the client's own
                  AP-REQ reflected, or silence); if the client goes on anyway, a
                  greeting follows and every command is logged
"""
import argparse, base64, os, signal, socket, struct, sys, time

HOSTILE = "\x1b[31mRED\x1b[0m\x07\rOVERWRITTEN\x08\x08\x7f\x1b]0;pwned\x07\x1b[2J"
IMPOSTOR = (b"From: impostor@evil.test\r\nSubject: trust me\r\n\r\n"
            b"a message from a server that holds no key\r\n")


class Conn:
    def __init__(self, sock, log):
        self.sock = sock
        self.rf = sock.makefile("rb")
        self.log = log
        self.in_auth = False

    def event(self, text):
        self.log.write("E: %s\n" % text)
        self.log.flush()

    def line(self):
        raw = self.rf.readline(65536)
        if not raw:
            raise EOFError("client closed")
        raw = raw.rstrip(b"\r\n")
        if self.in_auth:
            self.log.write("C: <auth data %d bytes>\n" % len(raw))
        else:
            self.log.write("C: %s\n" % raw.decode("latin-1").encode("unicode_escape")
                           .decode("ascii"))
        self.log.flush()
        return raw.decode("latin-1")

    def send(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_exact(self, n):
        data = self.rf.read(n)
        if data is None or len(data) != n:
            raise EOFError("client closed after %d of %d bytes" % (len(data or b""), n))
        return data

    def read_msg(self):
        (n,) = struct.unpack(">I", self.read_exact(4))
        if n > 65536:
            raise EOFError("absurd length %d" % n)
        return self.read_exact(n)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def first_token(c, words):
    """The client's first GSSAPI token: the initial response, or after "+ "."""
    c.in_auth = True
    if len(words) > 2:
        return words[2]
    c.send("+ ")
    return c.line()


def real_auth(c, words):
    """AUTH GSSAPI as a real server does it (RFC 4752), with the test keytab:
    AP-REP, then the wrapped security-layer offer (no layer), then +OK."""
    import gssapi

    ctx = gssapi.SecurityContext(usage="accept")
    out = ctx.step(base64.b64decode(first_token(c, words)))
    c.send("+ " + b64(out or b""))
    c.line()  # empty: the client has nothing more for the context
    c.send("+ " + b64(ctx.wrap(b"\x01\x00\x00\x00", False).message))
    answer = ctx.unwrap(base64.b64decode(c.line())).message
    c.in_auth = False
    c.event("GSSAPI: authenticated %s, layer byte %d" % (ctx.initiator_name, answer[0]))
    c.send("+OK logged in")


def list_answer(c, msgs):
    c.send("+OK %d messages" % len(msgs))
    for i, m in enumerate(msgs, 1):
        c.send("%d %d" % (i, m))
    c.send(".")


def endless_body(c, size, extra):
    """RETR: far more than LIST said; returns when done or the client went away."""
    line = b"x" * 78 + b"\r\n"
    chunk = line * 512
    c.send("+OK %d octets" % size)
    sent = 0
    try:
        c.send_raw(b"Subject: endless\r\n\r\n")
        while extra < 0 or sent < size + extra:
            c.send_raw(chunk)
            sent += len(chunk)
        c.send_raw(b".\r\n")
        c.event("RETR: sent %d octets of body, then the end" % sent)
    except OSError as e:
        c.event("RETR: client went away after %d octets (%s)" % (sent, e.__class__.__name__))
        raise EOFError("client closed")


def wire(data):
    """A message as a POP3 server sends it, and its LIST size (CRLF, before stuffing)."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    size = sum(len(l) + 2 for l in lines)
    return b"".join((b"." if l.startswith(b".") else b"") + l + b"\r\n" for l in lines), size


def quirk_message(n):
    return (b"From: quirk@kpop.test\r\nReturn-Path: <quirk@kpop.test>\r\n"
            b"Subject: quirk %d\r\n\r\nmessage %d of a quirky server\r\n" % (n, n))


def variant(args, v):
    return v in args.variant.split(",")


def transaction(c, mode, args):
    served = IMPOSTOR
    if mode == "quirks":
        msgs = [len(quirk_message(1)), len(quirk_message(2))]
    elif mode == "serve":
        with open(args.message, "rb") as f:
            served, size = wire(f.read())
        msgs = [size]
    elif mode == "endless-retr":
        msgs = [args.size]
    elif mode == "escapes":
        msgs = [len(IMPOSTOR), len(IMPOSTOR)]
    else:
        msgs = [len(IMPOSTOR)]
    while True:
        words = c.line().split(" ")
        verb = words[0].upper()
        if verb == "CAPA" and mode == "quirks" and (variant(args, "no-capa") or
                                                   variant(args, "capa-err-after")):
            c.send("-ERR unknown command")
        elif verb == "UIDL" and mode == "quirks" and variant(args, "no-uidl"):
            c.send("-ERR unknown command")
        elif mode == "quirks" and args.conn_no == 1 and ((verb == "RETR" and words[1:] == ["2"] and
                                    variant(args, "hang-retr2")) or
                                   (verb == "QUIT" and variant(args, "hang-quit"))):
            c.event("hanging at %s" % verb)
            while c.rf.readline(65536):
                pass
            raise EOFError("client closed while we hung")
        elif verb == "DELE" and mode == "quirks" and variant(args, "dele-refused"):
            c.send("-ERR [SYS/PERM] this server does not delete")
        elif verb == "RETR" and mode == "quirks" and words[1:] in (["1"], ["2"]):
            c.send("+OK message follows")
            c.send_raw(quirk_message(int(words[1])) + b".\r\n")
        elif verb == "CAPA":
            c.send("+OK capabilities")
            for cap in ["SASL GSSAPI", "RESP-CODES"] + \
                    ([] if mode == "endless-list" or variant(args, "no-uidl") else ["UIDL"]) + \
                    (["IMPLEMENTATION " + HOSTILE] if mode == "escapes" else []):
                c.send(cap)
            c.send(".")
        elif verb == "LIST" and mode == "endless-list":
            c.send("+OK a lot of messages")
            chunk = b"1 100\r\n" * 10000
            try:
                for _ in range(110):
                    c.send_raw(chunk)
                c.send(".")
            except OSError:
                c.event("LIST: client went away")
                raise EOFError("client closed")
        elif verb == "LIST" and mode == "escapes" and args.variant == "list-err":
            c.send("-ERR " + HOSTILE)
        elif verb == "LIST":
            list_answer(c, msgs)
        elif verb == "UIDL":
            c.send("+OK")
            if mode == "escapes":
                c.send("1 uid-one" + HOSTILE)
                c.send("2 uid-two\x1b[1A\x1b[2K")
            else:
                for i in range(1, len(msgs) + 1):
                    c.send("%d uid-%d" % (i, i))
            c.send(".")
        elif verb == "STAT":
            c.send("+OK %d %d" % (len(msgs), sum(msgs)))
        elif verb == "RETR" and mode == "endless-retr":
            endless_body(c, args.size, args.extra)
        elif verb == "RETR" and mode == "escapes" and words[1:] == ["2"]:
            c.send("-ERR [SYS/PERM] " + HOSTILE)
        elif verb == "RETR":
            c.send("+OK message follows")
            c.send_raw(served + b".\r\n")
        elif verb == "DELE" and mode == "escapes":
            c.send("-ERR " + HOSTILE)
        elif verb == "DELE":
            c.send("+OK deleted")
        elif verb == "QUIT":
            c.send("+OK bye")
            return
        elif verb == "NOOP":
            c.send("+OK")
        else:
            c.send("-ERR unknown command")


def pop3(c, mode, args):
    if mode == "escapes-greeting":
        c.send("-ERR " + HOSTILE)
        c.line()
        return
    c.send("+OK fakepop3 ready")
    while True:
        words = c.line().split(" ")
        verb = words[0].upper()
        if verb == "CAPA" and variant(args, "no-capa"):
            c.send("-ERR unknown command")
        elif verb == "CAPA":
            c.send("+OK capabilities")
            c.send("SASL GSSAPI")
            if not variant(args, "no-uidl"):
                c.send("UIDL")
            c.send("RESP-CODES")
            c.send(".")
        elif verb == "AUTH" and len(words) > 1 and words[1].upper() == "GSSAPI":
            break
        elif verb == "QUIT":
            c.send("+OK bye")
            return
        else:
            c.send("-ERR not before AUTH")
    if mode == "ok-early":
        first_token(c, words)
        c.in_auth = False
        c.event("AUTH: answering the first token with +OK")
        c.send("+OK logged in (no key, no AP-REP)")
    elif mode == "ok-late":
        first_token(c, words)
        c.send("+ ")
        c.line()
        c.in_auth = False
        c.event("AUTH: answering the second line with +OK")
        c.send("+OK logged in (no key, no AP-REP)")
    elif mode == "escapes-auth":
        first_token(c, words)
        c.in_auth = False
        c.send("-ERR [AUTH] " + HOSTILE)
        c.line()
        return
    else:
        real_auth(c, words)
    transaction(c, mode, args)


def kpop(c, args):
    c.sock.settimeout(10)
    c.event("sendauth version %r" % c.read_msg())
    c.event("application version %r" % c.read_msg())
    c.send_raw(b"\x00")
    req = c.read_msg()
    c.event("AP-REQ %d bytes; answering 'no error', variant %s" % (len(req), args.variant))
    c.send_raw(b"\x00\x00\x00\x00")
    if args.variant == "close":
        return
    if args.variant == "hang":
        try:
            while c.sock.recv(4096):
                pass
        except OSError:
            pass
        c.event("client closed while we said nothing")
        return
    if args.variant == "empty":
        c.send_raw(b"\x00\x00\x00\x00")
    elif args.variant == "garbage":
        junk = os.urandom(48)
        c.send_raw(struct.pack(">I", len(junk)) + junk)
    elif args.variant == "reflect":
        c.send_raw(struct.pack(">I", len(req)) + req)
    c.send("+OK fake KPOP server ready")
    while True:
        words = c.line().split(" ")
        if words[0].upper() == "QUIT":
            c.send("+OK bye")
            return
        c.send("+OK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "ok-early", "ok-late", "endless-retr", "endless-list",
                                     "escapes", "escapes-auth", "escapes-greeting",
                                     "quirks", "kpop-no-aprep"])
    ap.add_argument("--port-file")
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--lifetime", type=int, default=60)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--extra", type=int, default=8 * 1024 * 1024)
    ap.add_argument("--variant", default="")
    ap.add_argument("--message")
    args = ap.parse_args()

    signal.alarm(args.lifetime)  # never outlive a broken test
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    else:
        print(port, flush=True)
    log = open(args.log, "a")
    for args.conn_no in range(1, args.connections + 1):
        sock, peer = srv.accept()
        sock.settimeout(30)
        c = Conn(sock, log)
        c.event("connection from %s:%d, mode %s" % (peer[0], peer[1], args.mode))
        try:
            if args.mode == "kpop-no-aprep":
                kpop(c, args)
            else:
                pop3(c, args.mode, args)
        except (EOFError, OSError) as e:
            c.event("connection ended: %s" % e)
        except Exception as e:  # a GSS failure: the test sees it in the log
            c.event("error: %s: %s" % (e.__class__.__name__, e))
        finally:
            try:
                sock.close()
            except OSError:
                pass
        c.event("closed")
    log.close()


if __name__ == "__main__":
    main()
