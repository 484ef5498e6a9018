# An authzid with one trailing NUL (older clients) is tolerated; two are refused.
S: +OK kpopd ready
AUTH alice+NULNUL
S: -ERR [AUTH] Authentication failed
AUTH alice+NUL
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
