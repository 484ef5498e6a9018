# The idle timeout ends a silent session with a reply, and nothing is removed.
% -o idle_timeout=1
S: +OK kpopd ready
C: NOOP
S: +OK
SLEEP 1.5
S: -ERR Autologout: idle for too long
