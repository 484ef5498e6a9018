# Without TLS AUTH PLAIN is neither listed nor accepted; after STLS it is both.
% tls
S: +OK kpopd ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: STLS
S: SASL GSSAPI
S: EXPIRE NEVER
S: LOGIN-DELAY 0
S~ IMPLEMENTATION kpopd-[0-9.]+
S: .
C: AUTH
S: +OK Methods supported:
S: GSSAPI
S: .
C: AUTH PLAIN AGFsaWNlAGFsaWNlLXB3
S: -ERR [AUTH] Plaintext login needs TLS: use STLS first
C: AUTH PLAIN
S: -ERR [AUTH] Plaintext login needs TLS: use STLS first
C: STLS
S: +OK Begin TLS negotiation
STARTTLS
C: AUTH PLAIN AGFsaWNlAGFsaWNlLXB3
S: +OK Logged in as alice, 3 messages (166 octets)
C: QUIT
S: +OK kpopd signing off (0 messages deleted, 3 left)
