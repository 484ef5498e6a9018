# A layer byte without the integrity and privacy bits means "no layer", as libsasl2
# read it, when no layer is offered.
S: +OK kpopd ready
AUTH layer=0
OFFER 07010000
S: +OK Logged in as alice, 3 messages (166 octets)
C: STAT
S: +OK 3 166
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
