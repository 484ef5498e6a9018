# AUTH GSSAPI with a real ticket, then every TRANSACTION command and bad arguments.
S: +OK kpopd ready
AUTH
S: +OK Logged in as alice, 3 messages (166 octets)
C: STAT
S: +OK 3 166
C: LIST
S: +OK 3 messages (166 octets)
S: 1 49
S: 2 81
S: 3 36
S: .
C: LIST 2
S: +OK 2 81
C: LIST 0
S: -ERR No such message
C: LIST 4
S: -ERR No such message
C: LIST 4294967297
S: -ERR No such message
C: LIST 99999999999999999999999
S: -ERR No such message
C: RETR 1x
S: -ERR Invalid message number
C: LIST -1
S: -ERR Invalid message number
C: LIST +1
S: -ERR Invalid message number
C: UIDL
S: +OK Unique-ID listing follows
S: 1 1000000001.M1P1.test
S: 2 1000000002.M2P1.test
S: 3 1000000003.M3P1.test
S: .
C: UIDL 3
S: +OK 3 1000000003.M3P1.test
C: RETR 2
S: +OK 81 octets
S: From: bob@kpop.test
S: Subject: two
S:
S: ..starts with dot
S: ...two dots
S: line3
S: line4
S: .
C: RETR 3
S: +OK 36 octets
S: Subject: three
S:
S: no final newline
S: .
C: TOP 2 0
S: +OK Top of message follows
S: From: bob@kpop.test
S: Subject: two
S:
S: .
C: TOP 2 1
S: +OK Top of message follows
S: From: bob@kpop.test
S: Subject: two
S:
S: ..starts with dot
S: .
C: TOP 2 x
S: -ERR Invalid number of lines
C: TOP 2
S: -ERR Wrong number of arguments for TOP
C: AUTH GSSAPI
S: -ERR Already authenticated
C: DELE 1
S: +OK Message 1 deleted
C: DELE 1
S: -ERR Message 1 has been deleted
C: RETR 1
S: -ERR Message 1 has been deleted
C: STAT
S: +OK 2 117
C: LIST
S: +OK 2 messages (117 octets)
S: 2 81
S: 3 36
S: .
C: RSET
S: +OK 3 messages (166 octets)
C: DELE 2
S: +OK Message 2 deleted
C: NOOP
S: +OK
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: SASL GSSAPI
S: EXPIRE NEVER
S: LOGIN-DELAY 0
S~ IMPLEMENTATION kpopd-[0-9.]+
S: .
C: QUIT
S: +OK kpopd signing off (1 messages deleted, 2 left)
MAILDIR-COUNT 2
