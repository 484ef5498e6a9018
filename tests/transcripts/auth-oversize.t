# Oversized and truncated Kerberos tokens: refused with -ERR [AUTH], nothing crashes,
# and a real login still works afterwards.
S: +OK kpopd ready
C: AUTH GSSAPI
S: + 
LONG: 40000
S: -ERR [AUTH] Invalid AUTH response line
C: AUTH GSSAPI
S: + 
LONG: 30000
S: -ERR [AUTH] Authentication failed
C: NOOP
S: +OK
