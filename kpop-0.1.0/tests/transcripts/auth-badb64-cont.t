# Bad base64 and a NUL in a continuation line; then a real login still works.
S: +OK kpopd ready
C: AUTH GSSAPI
S: + 
C: @@@@
S: -ERR [AUTH] Invalid base64 data
C: AUTH GSSAPI
S: + 
R: b'YWJj\x00ZA==\r\n'
S: -ERR [AUTH] Invalid AUTH response line
C: STAT
S: -ERR Not allowed before authentication
C: QUIT
S: +OK kpopd signing off
