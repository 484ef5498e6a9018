# Malformed AUTH PLAIN messages inside TLS: no NUL, one NUL, a NUL inside the
# password.  Each is refused and counts as a failed authentication; the third ends
# the session.
% tls pop3s
S: +OK kpopd ready
C: AUTH PLAIN
S~ \+ ?
B64: b"alice"
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN AGFsaWNl
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN
S~ \+ ?
B64: b"\0alice\0alice\0pw"
S: -ERR [AUTH] Invalid PLAIN message
EOF
