#!/usr/bin/python3
"""badserver.py - servers that are not (working) POP3 servers, for kpop's tests.

usage: badserver.py MODE PORTFILE [LIFETIME]
Listens on a free 127.0.0.1 port, writes the port to PORTFILE, serves
connections one after another until LIFETIME seconds (default 30) have passed.
MODES
  silent    accepts and never says anything
  close     accepts and closes at once
  http      answers like a web server
  tls       sends the start of a TLS ServerHello (a POP3S port seen in plaintext)
  plain     greets in plaintext (a POP3 port seen by a TLS client)
"""
import socket, sys, time

mode, portfile = sys.argv[1], sys.argv[2]
lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os  # noqa: E402
os.rename(portfile + ".tmp", portfile)
end = time.time() + lifetime
held = []
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    try:
        if mode == "silent":
            held.append(c)  # kept open, never written to
            continue
        if mode == "http":
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        elif mode == "tls":
            c.sendall(b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03" + b"\x00" * 40)
        elif mode == "plain":
            c.sendall(b"+OK plaintext POP3 ready\r\n")
            c.settimeout(5)
            try:
                c.recv(4096)
            except OSError:
                pass
        c.close()
    except OSError:
        pass
for c in held:
    c.close()
