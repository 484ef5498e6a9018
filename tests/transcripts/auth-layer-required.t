# sasl_min_ssf = 1: "no layer" is not offered (integrity and privacy are); a client
# that answers without a layer (byte 1, or 0) is refused.
% -o sasl_min_ssf=1
S: +OK kpopd ready
AUTH layer=1
OFFER 06010000
S: -ERR [AUTH] Authentication failed
AUTH layer=0
S: -ERR [AUTH] Authentication failed
C: STAT
S: -ERR Not allowed before authentication
C: QUIT
S: +OK kpopd signing off
