# DELE without QUIT: the connection ends, nothing is removed.
S: +OK kpopd ready
AUTH
S: +OK Logged in as alice, 3 messages (166 octets)
C: DELE 1
S: +OK Message 1 deleted
C: DELE 2
S: +OK Message 2 deleted
MAILDIR-COUNT 3
