# "*" cancels an exchange; the session stays in AUTHORIZATION and AUTH works after.
S: +OK kpopd ready
AUTH-CANCEL
S: -ERR Authentication cancelled
C: STAT
S: -ERR Not allowed before authentication
AUTH noinitial
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
MAILDIR-COUNT 3
