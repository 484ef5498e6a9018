# AUTH PLAIN's authzid: another user is refused; the principal (with its realm)
# names the same user and is accepted, as for GSSAPI.
% tls pop3s
S: +OK kpopd ready
C: AUTH PLAIN Ym9iAGFsaWNlAGFsaWNlLXB3
S: -ERR [AUTH] Authentication failed
C: AUTH PLAIN
S~ \+ ?
B64: b"alice@KPOP.TEST\0alice\0alice-pw"
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
