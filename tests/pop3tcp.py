#!/usr/bin/python3
"""pop3tcp.py - a scripted POP3 client over TCP for end-to-end tests, running the
same script language as transcript.py (transcript.run_lines) plus
  HOLD seconds      keep the connection open without a word (in-use tests)
  PAUSE-FOR file    wait until file exists (for a test to act mid-session)
  TOUCH file        create file (tells the test a point was reached)
usage: pop3tcp.py HOST PORT SCRIPT-FILE   (prints nothing on success; exit 1 + why)
POP3TCP_SOURCE=ADDR binds the client's end to ADDR (e.g. 127.0.0.9) first;
POP3TCP_RCVBUF=N fixes its receive buffer at N bytes (a client that stops reading).
"""
import os, socket, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transcript  # noqa: E402


class TcpSession(transcript.Session):
    def __init__(self, host, port):  # pylint: disable=super-init-not-called
        src = os.environ.get("POP3TCP_SOURCE")
        rcvbuf = os.environ.get("POP3TCP_RCVBUF")
        if rcvbuf:
            # a fixed receive buffer (set before connect: no autotuning, which on
            # some kernels grows to 32 MB and swallows a whole big RETR)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
            self.sock.settimeout(transcript.TIMEOUT)
            if src:
                self.sock.bind((src, 0))
            self.sock.connect((host, int(port)))
        else:
            self.sock = socket.create_connection((host, int(port)), timeout=transcript.TIMEOUT,
                                                 source_address=(src, 0) if src else None)
        self.buf = b""
        self.proc = None

    def close(self):
        self.sock.close()


def main():
    host, port, script = sys.argv[1:4]
    s = TcpSession(host, port)

    def extra(ln, lineno):  # pylint: disable=unused-argument
        if ln.startswith("HOLD "):
            time.sleep(float(ln.split()[1]))
        elif ln.startswith("PAUSE-FOR "):
            deadline = time.time() + 30
            while not os.path.exists(ln.split()[1]) and time.time() < deadline:
                time.sleep(0.05)
        elif ln.startswith("TOUCH "):
            open(ln.split()[1], "w").close()
        else:
            return False
        return True

    try:
        transcript.run_lines(s, open(script).read().splitlines(), extra)
    except Exception as e:  # noqa: BLE001
        print("%s: %s" % (type(e).__name__, e))
        return 1
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
