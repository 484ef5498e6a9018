# AUTH PLAIN with empty parts: "=" (an empty initial response), an empty authcid,
# an empty password; all refused.  A "*" cancels without counting as a failure,
# and what follows it is a command again.
% tls pop3s
S: +OK kpopd ready
C: AUTH PLAIN =
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN
S~ \+ ?
C: *
S: -ERR Authentication cancelled
B64: b"\0\0alice-pw"
S: -ERR Unknown command
C: AUTH PLAIN AABhbGljZS1wdw==
S: -ERR [AUTH] Invalid PLAIN message
C: AUTH PLAIN AGFsaWNlAA==
S: -ERR [AUTH] Invalid PLAIN message
EOF
