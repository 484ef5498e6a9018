# The idle timeout ends a silent session with a reply, and nothing is removed.
% -o idle_timeout=1
S: +OK kpopd ready
AUTH
S: +OK Logged in as alice, 3 messages (166 octets)
C: DELE 1
S: +OK Message 1 deleted
SLEEP 1.5
S: -ERR Autologout: idle for too long
EOF
MAILDIR-COUNT 3
