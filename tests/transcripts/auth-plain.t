# AUTH PLAIN (RFC 4616) inside TLS: listed in CAPA and bare AUTH, with and without
# an initial response; the password is checked with the KDC against our own key.
% tls pop3s
S: +OK kpopd ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: USER
S: SASL GSSAPI PLAIN
S: EXPIRE NEVER
S: LOGIN-DELAY 0
S~ IMPLEMENTATION kpopd-[0-9.]+
S: .
C: AUTH
S: +OK Methods supported:
S: GSSAPI
S: PLAIN
S: .
# the wrong password, then the right one without an initial response
C: AUTH PLAIN AGFsaWNlAHdyb25nLXB3
S: -ERR [AUTH] Authentication failed
C: AUTH PLAIN
S~ \+ ?
B64: b"\0alice\0alice-pw"
S: +OK Logged in as alice, 3 messages (166 octets)
# the same list after login (a client compares it to detect a downgrade)
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: SASL GSSAPI PLAIN
S: EXPIRE NEVER
S: LOGIN-DELAY 0
S~ IMPLEMENTATION kpopd-[0-9.]+
S: .
C: STAT
S: +OK 3 166
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
