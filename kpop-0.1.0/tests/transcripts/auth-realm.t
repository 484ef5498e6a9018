# A principal from a realm that is not allowed is refused, not stripped.
% -o realms=OTHER.REALM
S: +OK kpopd ready
AUTH
S: -ERR [AUTH] Authentication failed
C: STAT
S: -ERR Not allowed before authentication
C: QUIT
S: +OK kpopd signing off
