# alice may log in as alice (authzid alice or alice@REALM) but not as bob.
S: +OK kpopd ready
AUTH bob
S: -ERR [AUTH] Authentication failed
AUTH alice@KPOP.TEST
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
