#!/usr/bin/python3
"""tests/fuzz/seeds.py - (re)write the committed seed corpora of tests/fuzz/corpus/
from real traffic: the client and server lines of the transcript tests
(tests/transcripts/*.t), plus a few hand-made inputs per harness for what the
transcripts do not show (spools, caches, KPOP frames, IPC packets).  Run it after
adding transcripts; the harnesses' own formats are described in each fuzz-*.c."""
import glob
import hashlib
import os
import struct
import sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(top, "tests", "fuzz", "corpus")


def put(name, data):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, h), "wb") as f:
        f.write(data)


def transcripts():
    for path in sorted(glob.glob(os.path.join(top, "tests", "transcripts", "*.t"))):
        c, s = [], []
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.rstrip("\n")
            if line.startswith("C: "):
                c.append(line[3:].encode())
            elif line.startswith("S: ") or line.startswith("S~ "):
                s.append(line[3:].encode())
        yield c, s


def main():
    crlf = b"\r\n"
    for c, s in transcripts():
        cmds = crlf.join(c) + crlf if c else b""
        # session: KPOP-authenticated and SASL, Maildir and mbox (fuzz-session.c)
        put("session", b"\x01USER alice\r\nPASS x\r\n" + cmds)
        put("session", b"\x03USER alice\r\nPASS x\r\n" + cmds)
        put("session", b"\x00AUTH GSSAPI Vg==\r\n" + cmds)
        put("session", b"\x02AUTH GSSAPI\r\nQw==\r\nVg==\r\n" + cmds)
        # line reader: command cap and AUTH cap (fuzz-line.c)
        put("line", b"\x00\x07" + cmds)
        put("line", b"\x01\x42" + cmds)
        # client: a server's replies (fuzz-client.c)
        if s:
            put("client", b"\x00" + crlf.join(s) + crlf)
        for line in s[:4]:
            put("pop3", line)
    put("session", b"\x00AUTH GSSAPI Qw==\r\n*\r\nAUTH GSSAPI Xw==\r\nSTAT\r\nQUIT\r\n")
    put("session", b"\x01USER bob\r\nPASS x\r\nUSER alice\r\nPASS\r\nLIST\r\nUIDL 2\r\n"
        b"TOP 1 0\r\nDELE 1\r\nDELE 1\r\nRSET\r\nDELE 3\r\nNOOP\r\nQUIT\r\n")
    # mbox (fuzz-mbox.c): deletion pattern byte, then the spool
    fr = b"From a@example.org Thu Jan  1 00:00:00 2026\n"
    put("mbox", b"\x05" + fr + b"Subject: a\n\nbody\n>From x\n>>From y\n\n" + fr +
        b"Subject: b\n\n.dot\n..two\n\n" + fr + b"Subject: c\n\nno newline")
    put("mbox", b"\x02" + fr + b"\n\n\n" + fr + b"From: b\n\n\nFrom not a separator\n")
    put("mbox", b"\x83" + fr + b"a\r\n\r\n" + fr + b"b\r\n" + fr + b"c\n\n" + fr + b"d\n")
    # size cache (fuzz-sizecache.c): placeholders %H %0-%2 %a-%c
    put("sizecache", b"\x00kpopd-sizes-2 %H\n%0 100 0 %a\n%1 101 0 %b\n%2 102 1 %c\n")
    put("sizecache", b"\x01kpopd-sizes-2 1 2 3 4\n%0 100 0 %a\n%1 7 0 %b\n")
    put("sizecache", b"\x02kpopd-sizes-2 %H\n%0 100 0 %a\n%0 100 0 %a\n")
    put("sizecache", b"\x00kpopd-sizes-1\n1 2 3 4 0 x\n")
    # kpop (fuzz-kpop.c): sendauth frames as fetchmail sends them
    def frame(b):
        return struct.pack(">I", len(b)) + b
    hello = frame(b"KRB5_SENDAUTH_V1.0\x00") + frame(b"KPOPV1.0\x00")
    put("kpop", b"\x00" + hello + frame(b"G" + b"\x6e" * 40) + b"USER alice\r\nPASS x\r\n")
    put("kpop", b"\x01" + hello + frame(b"\x6e\x82\x01\x00bad"))
    put("kpop", b"\x00" + frame(b"KRB5_SENDAUTH_V1.0\x00") + frame(b"KPOPV0.1\x00"))
    put("kpop", b"\x00CAPA\r\n")
    put("kpop", b"\x01" + struct.pack(">I", 0xffffffff))
    # client (fuzz-client.c): mode byte, then the server's stream
    put("client", b"\x00+OK hello <1.2@x>\r\n+OK\r\nSASL GSSAPI\r\nTOP\r\nUIDL\r\n.\r\n"
        b"+OK\r\n1 aaa\r\n2 bbb\r\n.\r\n+OK 12 octets\r\nSubject: x\r\n\r\n..dot\r\n.\r\n")
    put("client", b"\x01-ERR [IN-USE] locked\r\n")
    put("client", b"\x02HTTP/1.1 400 Bad Request\r\n\r\n")
    put("client", b"\x03+OK\r\n+ YWJj\r\n+OK\r\n" + b"+OK\r\n" + b"x" * 1100 + b"\r\n")
    # state file (fuzz-state.c)
    put("state", b"kpop-state 1 alice@127.0.0.1:110\nabc\nmb0123456789abcdef\n\nx y\n")
    put("state", b"kpop-state 1 other@host:110\nabc\n")
    put("state", b"kpop-state 1 alice@127.0.0.1:110\n" + b"u\n" * 50 + b"torn")
    # kpop's config file (fuzz-account.c)
    put("account", b"server = 127.0.0.1\nport = 110\nuser = alice\n\n[account work]\n"
        b"server = mail.example.org\ntls = yes\nmda = /usr/bin/procmail -d %u\n")
    put("account", b"[account]\n[account a]\n[account a]\nbogus\nkeep = maybe\n")
    # kpopd.conf (fuzz-conf.c)
    put("conf", b"# kpopd.conf\nlisten = 127.0.0.1:110 pop3\nrealms = KPOP.TEST\n"
        b"usermap = file\nusermap_file = /etc/kpop/usermap\nmaildir = %h/Maildir\n"
        b"mail_uid = 64011\nmax_messages = 1000\nsasl_min_ssf = 0\n")
    put("conf", b"keytab=/tmp/k\nidle_timeout = 0\nidle_timeout = 86401\nlisten = [::1]:995 pop3s\n")
    # usermap (fuzz-usermap.c): mode byte, principal line, map file
    put("usermap", b"\x01alice@KPOP.TEST\n# map\nalice@KPOP.TEST alice\nbob@KPOP.TEST  bob\n")
    put("usermap", b"\x00alice@KPOP.TEST\n")
    put("usermap", b"\x10alice/admin@KPOP.TEST\n")
    put("usermap", b"\x02alice@KPOP.TEST\n")
    # ipc (fuzz-ipc.c): a BEGIN and a FAIL as the codec writes them
    put("ipc", struct.pack("<II", 0x01, 7) + struct.pack("<II", 2, 0) +
        struct.pack("<I", 4) + b"1 2\x00" + struct.pack("<I", 4) + b"3 4\x00")
    # base64, dot, log
    put("b64", b"YWxpY2U=")
    put("b64", b"\x00\x01\x02\xff")
    put("dot", b"Subject: x\r\n\r\n.line\r\n..\r\n.\r\nrest")
    put("dot", b"\x01a\nb\r\n\r\n.\n")
    put("log", b"\x00PASS secret\r\n")
    put("log", b"\x03AUTH GSSAPI YWJj\x1b[31m")
    return 0


if __name__ == "__main__":
    sys.exit(main())
