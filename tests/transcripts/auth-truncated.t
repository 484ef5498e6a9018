# A truncated GSS token (the first bytes of a real AP-REQ) is refused.
S: +OK kpopd ready
C: AUTH GSSAPI YIICwwYJKoZIhvcSAQICAQBuggKyMIICrqADAgEFoQMCAQ6iBwMFACAAAACjggHIYYIBxDCCAcCgAwIBBaELGwlLUE9QLlRFU1Si
S: -ERR [AUTH] Authentication failed
AUTH
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
