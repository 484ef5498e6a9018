# Ten bad commands close the session.
S: +OK kpopd ready
C: A1
S: -ERR Unknown command
C: A2
S: -ERR Unknown command
C: A3
S: -ERR Unknown command
C: A4
S: -ERR Unknown command
C: A5
S: -ERR Unknown command
C: A6
S: -ERR Unknown command
C: A7
S: -ERR Unknown command
C: A8
S: -ERR Unknown command
C: A9
S: -ERR Unknown command
C: A10
S: -ERR Unknown command
S: -ERR Too many bad commands, closing
