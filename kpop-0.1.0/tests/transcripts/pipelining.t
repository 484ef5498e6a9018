# Commands sent in one write are answered in order.
S: +OK kpopd ready
R: b'NOOP\r\nFOO\r\nSTAT\r\nNOOP\r\nQUIT\r\n'
S: +OK
S: -ERR Unknown command
S: -ERR Not allowed before authentication
S: +OK
S: +OK kpopd signing off
