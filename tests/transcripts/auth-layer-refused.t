# sasl_max_ssf = 0: only "no layer" is offered, with max buffer 0; a client that
# chooses a layer that was not offered is refused, and may try again.
% -o sasl_max_ssf=0
S: +OK kpopd ready
AUTH layer=2
OFFER 01000000
S: -ERR [AUTH] Authentication failed
AUTH layer=4
S: -ERR [AUTH] Authentication failed
AUTH
OFFER 01000000
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
