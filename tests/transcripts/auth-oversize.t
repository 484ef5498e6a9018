# Oversized and truncated Kerberos tokens: refused with -ERR [AUTH], nothing crashes,
# and a real login still works afterwards.  The cap is a 65,535-octet token (Active
# Directory's largest MaxTokenSize): 87,380 octets of base64.  A longer line is
# drained and answered "Kerberos token too large"; one at the cap is read whole and
# decoded (garbage here: the Kerberos check refuses it).
S: +OK kpopd ready
C: AUTH GSSAPI
S: + 
LONG: 87400
S: -ERR [AUTH] Kerberos token too large
C: AUTH GSSAPI
S: + 
LONG: 87380
S: -ERR [AUTH] Authentication failed
C: NOOP
S: +OK
AUTH
S~ \+OK Logged in as alice, 3 messages .*
C: QUIT
S~ \+OK kpopd signing off.*
