# AUTH PLAIN with bad base64, in the initial response and in a continuation.
% tls pop3s
S: +OK kpopd ready
C: AUTH PLAIN AGFsaWNlAGFsaWNlLXB3=
S: -ERR [AUTH] Invalid base64 in initial response
C: AUTH PLAIN
S~ \+ ?
C: not base64!
S: -ERR [AUTH] Invalid base64 data
C: NOOP
S: +OK
C: QUIT
S: +OK kpopd signing off
