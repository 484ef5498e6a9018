# The line reader: 255-octet cap incl. CRLF, drained over-long lines, NUL, empty.
S: +OK kpopd ready
LONG: 253
S: -ERR Unknown command
LONG: 254
S: -ERR Line too long
LONG: 100000
S: -ERR Line too long
C: NOOP
S: +OK
R: b'NO\x00OP\r\n'
S: -ERR NUL byte in command
C: NOOP
S: +OK
R: b'\r\n'
S: -ERR Empty command
R: b'NOOP\n'
S: +OK
C: NOOP x
S: -ERR Wrong number of arguments for NOOP
C: QUIT
S: +OK kpopd signing off
