# sasl_min_ssf = 2 with sasl_max_ssf = 128: integrity is too weak and the aes256
# context's privacy (ssf 256) too strong, so the offer has no layer at all (as
# libsasl2 sent it) and every answer is refused.
% -o sasl_min_ssf=2 -o sasl_max_ssf=128
S: +OK kpopd ready
AUTH layer=4
OFFER 00000000
S: -ERR [AUTH] Authentication failed
AUTH layer=1
S: -ERR [AUTH] Authentication failed
C: QUIT
S: +OK kpopd signing off
