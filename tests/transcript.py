#!/usr/bin/python3
"""transcript.py - run scripted POP3 sessions against kpopd in inetd mode.

Each script (tests/transcripts/*.t) is a list of exact client lines and exact (or
regex) server replies.  kpopd runs as `kpopd -i` on one end of a socketpair.  AUTH
lines authenticate with a real Kerberos ticket through python-gssapi: an
implementation of RFC 4752 independent of libsasl2, so the server is checked
against a second client implementation.

Script syntax:
  # comment                    ignored
  % kpopd-option ...           extra kpopd arguments (e.g. % -o allow_instances=yes),
                               split as a shell would (quotes keep spaces)
  % fixture NAME               maildir fixture (standard | empty), default standard
  % ccache PATH-IN-KDC-DIR     KRB5CCNAME for AUTH (default alice.ccache)
  % tls [pop3s]                kpopd gets the test CA's certificate (tests/lib/
                               mkcerts.sh) and plaintext_login = yes; pop3s: implicit
                               TLS, the client handshakes before the greeting
  STARTTLS                     TLS handshake now (after C: STLS and its +OK)
  B64: bytes-expression        send the base64 of those bytes + CRLF (AUTH PLAIN);
                               literals, + and * only (b"\\0alice\\0" + b"p" * 300)
  C: text                      send text + CRLF
  R: b'raw bytes'              send a Python bytes literal as is
  S: text                      expect exactly this line
  S~ regex                     expect a line matching regex (re.fullmatch)
  AUTH [authzid] [noinitial|longline] [nomutual] [layer=N] [maxbuf=N]
                               RFC 4752 exchange, ends with the server's final line;
                               longline: initial response on the AUTH line even past
                               255 octets (as Perl's Net::POP3 sends it)
                               (next S: line checks it); nomutual: no mutual
                               authentication (as curl): the server must send the
                               offer at once; layer=N: answer layer byte N even if
                               not offered; maxbuf=N: the client's max buffer
                               (authzid: +NUL is a NUL byte, +SP a space)
  OFFER hex                    the last AUTH's unwrapped security-layer offer
  AUTH-CANCEL                  start AUTH GSSAPI without initial response, answer *
  LONG: n                      send a line of n 'A's + CRLF
  MAILDIR-COUNT n              after the session: n message files remain
  EOF                          expect the server to close the connection
  SLEEP seconds
Prints "ok - name" / "FAIL - name: why" per script and "N passed, N failed".
"""
import ast, base64, os, re, shlex, socket, subprocess, sys, tempfile, time

TIMEOUT = 10


def make_fixture(root, name):
    md = os.path.join(root, "alice", "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    if name == "empty":
        return
    msgs = [
        ("new", "1000000001.M1P1.test", b"From: bob@kpop.test\nSubject: one\n\nfirst body\n"),
        ("new", "1000000002.M2P1.test", b"From: bob@kpop.test\nSubject: two\n\n.starts with dot\n..two dots\nline3\nline4\n"),
        ("cur", "1000000003.M3P1.test:2,S", b"Subject: three\n\nno final newline"),
    ]
    for i, (sub, fn, body) in enumerate(msgs):
        p = os.path.join(md, sub, fn)
        with open(p, "wb") as f:
            f.write(body)
        os.utime(p, (1000000000 + i, 1000000000 + i))


class Session:
    def __init__(self, kpopd, args, env, cafile=None):
        self.sock, other = socket.socketpair()
        self.proc = subprocess.Popen([kpopd, "-i"] + args, stdin=other, stdout=other,
                                     stderr=open(env["KP_TRANSCRIPT_LOG"], "ab"), env=env)
        other.close()
        self.sock.settimeout(TIMEOUT)
        self.buf = b""
        self.cafile = cafile

    def starttls(self):
        import ssl
        if self.buf:
            raise AssertionError("data before the TLS handshake: %r" % self.buf[:80])
        ctx = ssl.create_default_context(cafile=self.cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # the server closed first (a connection refused before a byte of it is
            # read): what it sent, or its EOF, is for the next S: or EOF line
            pass

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        if not ln.endswith(b"\r"):
            raise AssertionError("reply line without CRLF: %r" % ln)
        return ln[:-1].decode("latin-1")

    def expect_eof(self):
        if self.buf:
            raise AssertionError("unexpected data before EOF: %r" % self.buf[:80])
        try:
            data = self.sock.recv(100)
        except ConnectionResetError:
            # closed with bytes of ours unread (a refused connection): the kernel
            # answers them with a reset, which is the end as well
            return
        if data:
            raise AssertionError("expected EOF, got %r" % data[:80])

    def close(self):
        try:
            self.sock.close()
        finally:
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def gssapi_auth(s, authzid, initial=True, host="localhost", layer=1, longline=False,
                mutual=True, force_layer=False, maxbuf=None):
    import gssapi
    name = gssapi.Name("pop@" + host, gssapi.NameType.hostbased_service)
    flags = [gssapi.RequirementFlag.mutual_authentication] if mutual else \
        [gssapi.RequirementFlag.integrity]
    ctx = gssapi.SecurityContext(name=name, usage="initiate", flags=flags)
    tok = ctx.step()
    b64 = base64.b64encode(tok).decode()
    if longline:
        # Perl's Net::POP3: the first token on the AUTH line, however long
        if len("AUTH GSSAPI " + b64) + 2 <= 255:
            raise AssertionError("token too short to test a long AUTH line")
        s.send(("AUTH GSSAPI " + b64 + "\r\n").encode())
    elif initial and len("AUTH GSSAPI " + b64) + 2 <= 255:
        s.send(("AUTH GSSAPI " + b64 + "\r\n").encode())
    else:
        s.send(b"AUTH GSSAPI\r\n")
        ln = s.line()
        if ln not in ("+ ", "+"):
            return ln
        s.send((b64 + "\r\n").encode())
    while True:
        ln = s.line()
        if not (ln.startswith("+ ") or ln == "+"):
            return ln
        data = base64.b64decode(ln[2:]) if len(ln) > 2 else b""
        if not ctx.complete:
            tok = ctx.step(data)
            s.send(base64.b64encode(tok or b"") + b"\r\n")
            continue
        if not mutual and not data:
            raise AssertionError("empty challenge instead of the offer (no mutual auth)")
        offer = ctx.unwrap(data).message
        s.last_offer = offer
        if len(offer) != 4 or (not force_layer and not offer[0] & layer):
            raise AssertionError("bad security layer offer %r" % offer)
        size = b"\x00\x00\x00" if layer == 1 else b"\x00\x40\x00"
        if maxbuf is not None:
            size = maxbuf.to_bytes(3, "big")
        # "NAME+NUL" / "NAME+NULNUL": an authzid with trailing NULs (old clients)
        az = authzid.encode().replace(b"+NUL", b"\0").replace(b"NUL", b"\0")
        az = az.replace(b"+SP", b" ")
        reply = bytes([layer]) + size + az
        s.send(base64.b64encode(ctx.wrap(reply, False).message) + b"\r\n")
        s.gss_ctx = ctx


def test_certs(workroot):
    """The test CA and server certificate, made once per run."""
    d = os.path.join(workroot, "certs")
    if not os.path.exists(os.path.join(d, "server.pem")):
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.check_call(["bash", os.path.join(here, "lib", "mkcerts.sh"), d])
    return d


def run_script(path, kpopd, kdcdir, workroot):
    name = os.path.basename(path)
    lines = open(path, encoding="utf-8").read().splitlines()
    args, fixture, ccache, tls = [], "standard", "alice.ccache", None
    for ln in lines:
        if ln.startswith("% fixture "):
            fixture = ln.split()[2]
        elif ln.startswith("% ccache "):
            ccache = ln.split()[2]
        elif ln.startswith("% tls"):
            tls = ln.split()[2] if len(ln.split()) > 2 else "stls"
        elif ln.startswith("% "):
            args += shlex.split(ln[2:])
    root = tempfile.mkdtemp(dir=workroot)
    make_fixture(root, fixture)
    # kpopd serves it as the virtual-user mail uid (tests/run-tests.sh)
    mail_uid = int(os.environ.get("KP_MAIL_UID", os.getuid()))
    os.chmod(root, 0o711)
    for d, _, files in os.walk(root):
        os.chown(d, mail_uid, mail_uid)
        for f in files:
            os.chown(os.path.join(d, f), mail_uid, mail_uid)
    env = dict(os.environ)
    env["KP_TRANSCRIPT_LOG"] = os.path.join(workroot, "kpopd-transcripts.log")
    if kdcdir:
        env["KRB5CCNAME"] = "FILE:" + os.path.join(kdcdir, ccache)
    base = ["-o", "log=stderr", "-o", "log_level=debug", "-o", "maildir=%s/%%u/Maildir" % root,
            "-o", "mail_uid=%d" % mail_uid,
            "-o", "listen=127.0.0.1:0 " + ("pop3s" if tls == "pop3s" else "pop3"),
            "-o", "idle_timeout=5",
            "-o", "auth_failure_delay_ms=0"]
    if "-L" in args or any(a.startswith("listen=") for a in args):
        # the script's listener is the first: inetd mode takes the first one's mode
        i = base.index("listen=127.0.0.1:0 pop3")
        del base[i - 1:i + 1]
    if kdcdir:
        base += ["-o", "keytab=" + os.path.join(kdcdir, "kpopd.keytab")]
    cafile = None
    if tls:
        certs = test_certs(workroot)
        cafile = os.path.join(certs, "ca.pem")
        base += ["-o", "tls_cert=" + os.path.join(certs, "server.pem"),
                 "-o", "tls_key=" + os.path.join(certs, "server.key"),
                 "-o", "plaintext_login=yes"]
    with open(env["KP_TRANSCRIPT_LOG"], "ab") as f:
        f.write(("=== %s\n" % name).encode())
    s = Session(kpopd, base + args, env, cafile)
    if tls == "pop3s":
        s.starttls()

    def maildir_count(ln, lineno):
        if not ln.startswith("MAILDIR-COUNT "):
            return False
        s.close()
        md = os.path.join(root, "alice", "Maildir")
        n = len(os.listdir(os.path.join(md, "new"))) + len(os.listdir(os.path.join(md, "cur")))
        if n != int(ln.split()[1]):
            raise AssertionError("line %d: %d messages remain, expected %s" % (lineno, n, ln.split()[1]))
        return True

    try:
        run_lines(s, lines, maildir_count)
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        s.close()
        return False, "%s: %s" % (type(e).__name__, e)
    s.close()
    return True, ""


def run_lines(s, lines, extra=None):
    """Run script lines on session s; extra(line, lineno) handles more directives
    (returns True when it took the line).  Raises AssertionError on a mismatch."""
    for lineno, ln in enumerate(lines, 1):
        if not ln.strip() or ln.startswith("#") or ln.startswith("%"):
            continue
        if ln.startswith("C: ") or ln == "C:":
            s.send(ln[3:].encode("latin-1") + b"\r\n")
        elif ln.startswith("R: "):
            s.send(ast.literal_eval(ln[3:]))
        elif ln.startswith("S: ") or ln == "S:":
            got = s.line()
            if got != ln[3:]:
                raise AssertionError("line %d: expected %r, got %r" % (lineno, ln[3:], got))
        elif ln.startswith("S~ "):
            got = s.line()
            if not re.fullmatch(ln[3:], got):
                raise AssertionError("line %d: %r does not match %r" % (lineno, got, ln[3:]))
        elif ln.startswith("AUTH-CANCEL"):
            s.send(b"AUTH GSSAPI\r\n")
            got = s.line()
            if got not in ("+ ", "+"):
                raise AssertionError("line %d: expected '+ ', got %r" % (lineno, got))
            s.send(b"*\r\n")
        elif ln.startswith("OFFER "):
            got = getattr(s, "last_offer", b"").hex()
            if got != ln.split()[1].lower():
                raise AssertionError("line %d: offer %s, expected %s" % (lineno, got, ln.split()[1]))
        elif ln.startswith("AUTH"):
            words = ln.split()[1:]
            initial = "noinitial" not in words
            longline = "longline" in words
            opt = dict(w.split("=", 1) for w in words if "=" in w)
            words = [w for w in words if w not in ("noinitial", "longline", "nomutual")
                     and "=" not in w]
            got = gssapi_auth(s, words[0] if words else "", initial, longline=longline,
                              mutual="nomutual" not in ln.split(),
                              layer=int(opt.get("layer", "1"), 0),
                              force_layer="layer" in opt,
                              maxbuf=int(opt["maxbuf"], 0) if "maxbuf" in opt else None)
            s.buf = (got + "\r\n").encode("latin-1") + s.buf  # next S: checks it
        elif ln.startswith("LONG: "):
            s.send(b"A" * int(ln[6:]) + b"\r\n")
        elif ln == "STARTTLS":
            s.starttls()
        elif ln.startswith("B64: "):
            s.send(base64.b64encode(eval(ln[5:], {"__builtins__": {}})) + b"\r\n")
        elif ln == "EOF":
            s.expect_eof()
        elif ln.startswith("SLEEP "):
            time.sleep(float(ln.split()[1]))
        elif extra is None or not extra(ln, lineno):
            raise AssertionError("line %d: bad script line %r" % (lineno, ln))


def main():
    kpopd = os.environ["KPOPD"]
    kdcdir = os.environ.get("KPOP_TEST_DIR", "")
    workroot = tempfile.mkdtemp(prefix="kp-transcripts.", dir=os.environ.get("KP_TMP"))
    os.chmod(workroot, 0o711)
    passed = failed = 0
    for path in sys.argv[1:]:
        ok, why = run_script(path, kpopd, kdcdir, workroot)
        name = "transcript " + os.path.basename(path)
        if ok:
            passed += 1
            print("ok - " + name)
        else:
            failed += 1
            print("FAIL - %s: %s" % (name, why))
    if failed:
        print("kpopd log: " + os.path.join(workroot, "kpopd-transcripts.log"))
    else:
        subprocess.call(["rm", "-rf", workroot])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
