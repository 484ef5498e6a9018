# AUTHORIZATION state without credentials: CAPA, refusals, bare AUTH, QUIT.
S: +OK kpopd ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: SASL GSSAPI
S: EXPIRE NEVER
S: LOGIN-DELAY 0
S~ IMPLEMENTATION kpopd-[0-9.]+
S: .
C: STAT
S: -ERR Not allowed before authentication
C: LIST 1
S: -ERR Not allowed before authentication
C: RETR 1
S: -ERR Not allowed before authentication
C: DELE 1
S: -ERR Not allowed before authentication
C: FOO
S: -ERR Unknown command
C: AUTH
S: +OK Methods supported:
S: GSSAPI
S: .
C: AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=
S: -ERR [AUTH] Plaintext login is not offered: use AUTH GSSAPI
C: AUTH CRAM-MD5
S: -ERR Unrecognized authentication type
C: USER alice
S: -ERR [AUTH] Plaintext login is not offered: use AUTH GSSAPI
C: noop
S: +OK
C: QUIT
S: +OK kpopd signing off
