#!/usr/bin/python3
"""pop3tcp.py - a scripted POP3 client over TCP for end-to-end tests, with the same
script syntax as transcript.py (C:, R:, S:, S~, AUTH, EOF, SLEEP) plus
  HOLD seconds      keep the connection open without a word (in-use tests)
  PAUSE-FOR file    wait until file exists (for a test to act mid-session)
  TOUCH file        create file (tells the test a point was reached)
usage: pop3tcp.py HOST PORT SCRIPT-FILE   (prints nothing on success; exit 1 + why)
"""
import os, socket, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transcript  # noqa: E402


class TcpSession(transcript.Session):
    def __init__(self, host, port):  # pylint: disable=super-init-not-called
        self.sock = socket.create_connection((host, int(port)), timeout=transcript.TIMEOUT)
        self.buf = b""
        self.proc = None

    def close(self):
        self.sock.close()


def main():
    host, port, script = sys.argv[1:4]
    s = TcpSession(host, port)
    import ast, re
    for lineno, ln in enumerate(open(script).read().splitlines(), 1):
        if not ln.strip() or ln.startswith("#"):
            continue
        try:
            if ln.startswith("C: ") or ln == "C:":
                s.send(ln[3:].encode("latin-1") + b"\r\n")
            elif ln.startswith("R: "):
                s.send(ast.literal_eval(ln[3:]))
            elif ln.startswith("S: ") or ln == "S:":
                got = s.line()
                if got != ln[3:]:
                    raise AssertionError("expected %r, got %r" % (ln[3:], got))
            elif ln.startswith("S~ "):
                got = s.line()
                if not re.fullmatch(ln[3:], got):
                    raise AssertionError("%r does not match %r" % (got, ln[3:]))
            elif ln.startswith("AUTH"):
                words = ln.split()[1:]
                got = transcript.gssapi_auth(s, words[0] if words else "")
                s.buf = (got + "\r\n").encode("latin-1") + s.buf
            elif ln == "EOF":
                s.expect_eof()
            elif ln.startswith("SLEEP ") or ln.startswith("HOLD "):
                time.sleep(float(ln.split()[1]))
            elif ln.startswith("PAUSE-FOR "):
                deadline = time.time() + 30
                while not os.path.exists(ln.split()[1]) and time.time() < deadline:
                    time.sleep(0.05)
            elif ln.startswith("TOUCH "):
                open(ln.split()[1], "w").close()
            else:
                raise AssertionError("bad script line")
        except Exception as e:  # noqa: BLE001
            print("line %d (%s): %s: %s" % (lineno, ln, type(e).__name__, e))
            return 1
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
