# authzid details: a NUL inside, or two trailing NULs, is refused; white space around
# it is dropped (as libsasl2's canonicalisation did); the full principal works too.
S: +OK kpopd ready
AUTH alNULice
S: -ERR [AUTH] Authentication failed
AUTH alice+NULNUL
S: -ERR [AUTH] Authentication failed
AUTH +SPalice+SP
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
