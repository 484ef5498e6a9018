# The security-layer offer with the default sasl_min_ssf = 0 and sasl_max_ssf = 256:
# no layer, integrity and privacy (aes256: ssf 256), max buffer 65536.  A client
# without mutual authentication (curl) gets the offer at once, never an empty "+ ".
# A layer byte without the integrity and privacy bits means "no layer" (libsasl2).
S: +OK kpopd ready
AUTH nomutual
OFFER 07010000
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
