# inetd mode behind a load balancer: the PROXY header comes first (the peer is the
# test's socketpair, a "local" peer, trusted as such); a command pipelined in the
# same write as the header is answered; then a real AUTH GSSAPI login.
% -o proxy_trusted=local -L "1109 pop3 proxy"
R: b'PROXY TCP4 127.0.2.7 127.0.0.1 4444 1109\r\nNOOP\r\n'
S: +OK kpopd ready
S: +OK
AUTH
S~ \+OK Logged in as alice.*
C: STAT
S~ \+OK 3 [0-9]+
C: QUIT
S~ \+OK kpopd signing off.*
