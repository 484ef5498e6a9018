# Inside TLS with plaintext_login off, AUTH PLAIN is neither listed nor accepted.
% tls pop3s
% -o plaintext_login=no
S: +OK kpopd ready
C: AUTH
S: +OK Methods supported:
S: GSSAPI
S: .
C: AUTH PLAIN AGFsaWNlAGFsaWNlLXB3
S: -ERR [AUTH] Plaintext login is not offered: use AUTH GSSAPI
C: QUIT
S: +OK kpopd signing off
