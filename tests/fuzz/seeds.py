#!/usr/bin/python3
"""tests/fuzz/seeds.py - (re)write the committed seed corpora of tests/fuzz/corpus/
from real traffic: the client and server lines of the transcript tests
(tests/transcripts/*.t), plus a few hand-made inputs per harness for what the
transcripts do not show (spools, caches, KPOP frames, IPC packets, RFC 4752 layer
answers), and PROXY headers captured from a real HAProxy.  Run it after
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
    # a last token with the offer ahead ('N'): empty response, then data there
    put("session", b"\x00AUTH GSSAPI Tg==\r\n\r\nVg==\r\nSTAT\r\nQUIT\r\n")
    put("session", b"\x00AUTH GSSAPI Tg==\r\nQw==\r\nAUTH GSSAPI Vg==\r\nQUIT\r\n")
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
    # ssf (fuzz-ssf.c): qop+mode, min_ssf/2, max_ssf/2, strength/2, reason size, then
    # the unwrapped answer; the answers of DESIGN.md's clients to kpopd's offers
    dflt = bytes([0x07, 0, 128, 128, 200])      # every layer, sasl 0..256, aes256
    tls = bytes([0x07, 0, 0, 128, 200])         # over TLS: no layer
    put("ssf", tls + b"\x01\xff\xff\xff" + b"alice")           # fetchmail
    put("ssf", tls + b"\x01\xff\xff\xff")                      # mpop
    put("ssf", tls + b"\x01\x00\x00\x00")                      # curl
    put("ssf", tls + b"\x01\x00\x00\x00" + b"alice@KPOP.TEST")  # pop3test
    put("ssf", tls + b"\x01\x00\x00\x00" + b"alice\x00")        # an older client's NUL
    put("ssf", dflt + b"\x02\x01\x00\x00")                     # libsasl2: integrity
    put("ssf", dflt + b"\x04\x01\x00\x00" + b"alice")          # libsasl2: privacy
    put("ssf", dflt + b"\x06\x00\x40\x00")                     # both bits
    put("ssf", dflt + b"\x02\x00\x00\x00")                     # a layer, max size 0
    put("ssf", bytes([0x07, 1, 128, 128, 200]) + b"\x01\x00\x00\x00")  # layer required
    put("ssf", bytes([0x0b, 0, 128, 128, 10]) + b"\x04\x00\x10\x00al\x00ice")  # raw offer
    put("ssf", dflt + b"\x01\x00\x00\x00 \t alice \r\n")
    put("ssf", dflt + b"\x01\x00\x00\x00" + b"z" * 1023 + b"\x00")
    # proxy (fuzz-proxy.c): bit 0 of the first byte, through kp_proxy_admit on a
    # socket (1) or kp_proxy_read on a non-socket (0).  Captured from HAProxy 2.6.12
    # (send-proxy, send-proxy-v2, proxy-v2-options authority,crc32c,unique-id,ssl,
    # ssl-cipher,cert-sig,cert-key, send-proxy-v2-ssl-cn behind "bind ... ssl", a
    # UNIX-socket frontend, and check-send-proxy health checks) with the pipelined
    # CAPA that followed
    v2 = b"\r\n\r\n\x00\r\nQUIT\n"
    hap = [
        b"PROXY TCP4 127.0.0.1 127.0.0.1 36310 40681\r\nCAPA\r\n",
        b"PROXY TCP6 ::1 ::1 58212 37049\r\nCAPA\r\n",
        b"PROXY UNKNOWN\r\nCAPA\r\n",
        b"PROXY TCP4 127.0.0.1 127.0.0.1 32890 44181\r\n",
        v2 + b"!\x11\x00\x0c\x7f\x00\x00\x01\x7f\x00\x00\x01\xb2\xe6\xaf\xe7CAPA\r\n",
        v2 + b"!!\x00$" + b"\x00" * 15 + b"\x01" + b"\x00" * 15 + b"\x01\xd3n\xa4\rCAPA\r\n",
        v2 + b" \x00\x00\x00CAPA\r\n",
        v2 + b" \x00\x00\x00",
        v2 + b"!\x11\x00L\x7f\x00\x00\x01\x7f\x00\x00\x01\xe2\xde\xb6g\x03\x00\x04\x1f\xed"
        b"\x7f\xc0\x05\x00.7F000001:E2DE_7F000001:B667_6B104CEB_0002:1724 \x00\x05\x00\x00"
        b"\x00\x00\x00CAPA\r\n",
        v2 + b"!!\x006" + b"\x00" * 15 + b"\x01" + b"\x00" * 15 + b"\x01\xb2\x04\xbd\xc5 "
        b"\x00\x0f\x01\x00\x00\x00\x00!\x00\x07TLSv1.3CAPA\r\n",
        v2 + b"!\x11\x00f\x7f\x00\x00\x01\x7f\x00\x00\x01\xbf.\xcb!\x03\x00\x04\xc3a\xc2,"
        b"\x02\x00\x0email.kpop.test \x00?\x01\x00\x00\x00\x00!\x00\x07TLSv1.3%\x00\x07"
        b"RSA2048$\x00\nRSA-SHA256#\x00\x16TLS_AES_256_GCM_SHA384CAPA\r\n",
    ]
    for h in hap:
        put("proxy", b"\x01" + h)
        put("proxy", b"\x00" + h)
    # by hand: the longest v1 line, a KPOP client's first frame behind a v2 header,
    # a UNIX-family v2 header, a UDP one, a TLV that overruns; network lists
    put("proxy", b"\x00PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")
    put("proxy", b"\x01" + v2 + b"!\x11\x00\x0c\x7f\x00\x00\x09\x7f\x00\x00\x01\x30\x39\x04\x55"
        b"\x00\x00\x00\x13KRB5_SENDAUTH_V1.0\x00")
    put("proxy", b"\x01" + v2 + b"!1\x00\xd8" + b"/tmp/a\x00".ljust(108, b"\x00") * 2)
    put("proxy", b"\x00" + v2 + b"!\x12\x00\x0c\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02")
    put("proxy", b"\x00" + v2 + b"!\x11\x00\x10\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02"
        b"\x04\x00\x05")
    put("proxy", b"\x80127.0.0.0/8 ::1 127.0.0.9 local,127.1.2.3/16 ::ffff:127.0.0.1/120")
    put("proxy", b"\x80fe80::/10\t2001:db8::/32 0.0.0.0/0 ::/0")
    # deliver (fuzz-deliver.c): chunk seed, then messages split by 00 ff 00, as
    # kpop's mbox sink gets them (LF line ends)
    sep = b"\x00\xff\x00"
    put("deliver", b"\x05Return-Path: <bob@example.org>\nSubject: a\n\nFrom here\n>From there\n"
        b">>From x\nFrom\n" + sep + b"Subject: b\n\nno newline" + sep + sep + b"From ")
    put("deliver", b"\x01Return-Path: -x@evil\nFrom: a\n\n\n\n>>>>>>>>From \n" + sep +
        b"\n\nFrom a Thu Jan  1 00:00:00 2026\n")
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
