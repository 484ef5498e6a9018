#!/usr/bin/env bash
# tests/lib/mkcerts.sh DIR - a test CA and certificates, made fresh at test time:
#   ca.pem                     the test CA (trusted with kpop --cafile)
#   server.pem/server.key      for localhost and 127.0.0.1, signed by the CA
#   wrong.pem/wrong.key        signed by the CA, but for other.example
#   rogue.pem/rogue.key        for localhost, signed by an untrusted CA
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { openssl "$@" >/dev/null 2>&1; }
ca() { # NAME SUBJECT
	q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
}
leaf() { # NAME CA SAN
	q req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
	q x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
		-out "$1.pem" -extfile "$1.ext"
}
ca ca "kpop test CA"
ca rogueca "untrusted CA"
leaf server ca "DNS:localhost,IP:127.0.0.1"
leaf wrong ca "DNS:other.example"
leaf rogue rogueca "DNS:localhost"
