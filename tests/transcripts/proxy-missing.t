# A proxy listener and a client that speaks POP3 at once: no PROXY header, closed.
% -o proxy_trusted=local -L "1109 pop3 proxy"
C: CAPA
EOF
