# Bad base64, garbage tokens, empty initial response: -ERR [AUTH], three strikes.
S: +OK kpopd ready
C: AUTH GSSAPI !!!!
S: -ERR [AUTH] Invalid base64 in initial response
C: AUTH GSSAPI
S: + 
C: aGVsbG8=
S: -ERR [AUTH] Authentication failed
C: AUTH GSSAPI =
S: -ERR [AUTH] Authentication failed
