# A proxy listener whose trusted networks do not include the peer: the connection
# is closed before a byte of it is read, header or not.
% -o proxy_trusted=127.0.0.1 -L "1109 pop3 proxy"
R: b'PROXY TCP4 127.0.2.7 127.0.0.1 4444 1109\r\n'
EOF
