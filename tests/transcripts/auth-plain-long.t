# Over-long AUTH PLAIN parts inside TLS: an authcid of 300 octets, a password of
# 300 octets, a continuation line past its cap; bad base64.  Then the session is over.
% tls pop3s
S: +OK kpopd ready
C: AUTH PLAIN
S~ \+ ?
B64: b"\0" + b"a" * 300 + b"\0pw"
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN
S~ \+ ?
B64: b"\0alice\0" + b"p" * 300
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN
S~ \+ ?
LONG: 100000
S: -ERR [AUTH] Invalid AUTH response line
EOF
