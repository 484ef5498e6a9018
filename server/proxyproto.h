/* proxyproto.h - the PROXY protocol (HAProxy's v1 text and v2 binary headers) that a
 * load balancer puts before the client's first byte, and the trusted networks it is
 * accepted from.  The parser is a pure function over bytes; the reader consumes
 * exactly the header from a connection, never a byte of what follows. */
#ifndef KP_SERVER_PROXYPROTO_H
#define KP_SERVER_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

/* One network, "ADDR/BITS" (IPv4 as ::ffff:a.b.c.d), or the non-IP peers. */
struct kp_cidr {
	unsigned char addr[16];
	unsigned char bits;    /* 0..128 (IPv4 networks count 96 +) */
	unsigned char local;   /* "local": UNIX sockets and pipes (inetd mode) */
};

/* The header, parsed. */
struct kp_proxy_hdr {
	int version;                 /* 1 or 2 */
	/* 1: use the connection's own endpoints (v2 LOCAL: the proxy's health check;
	 * v1 UNKNOWN; v2 PROXY with an unspecified or UNIX family) */
	int local;
	struct sockaddr_storage src; /* the client (when !local) */
	struct sockaddr_storage dst; /* the address the client connected to */
	socklen_t srclen, dstlen;
	size_t len;                  /* header length, TLVs included */
};

/* Parse a header from the first len bytes a connection received.  Returns the
 * header length (> 0; *out filled) when p holds a complete valid header; 0 when the
 * bytes so far are a valid beginning, with *need_out the least number of bytes
 * still missing (> 0); KP_E_PROTO (no PROXY signature: the client spoke without a
 * header), KP_E_SYNTAX (a malformed header) or KP_E_TOOBIG (longer than the caps in
 * kp_limits.h) with why filled.  out is cleared on entry. */
int kp_proxy_parse(const unsigned char *p, size_t len, struct kp_proxy_hdr *out,
		   size_t *need_out, char *why, size_t whycap);

/* Read one header from fd within timeout_ms, consuming exactly its bytes (a socket
 * is peeked first; anything else is read as it is needed).  Returns 0 (*out
 * filled), KP_E_TIMEOUT, KP_E_EOF, KP_E_IO, or a kp_proxy_parse error; why says what
 * happened for the log. */
int kp_proxy_read(int fd, int timeout_ms, struct kp_proxy_hdr *out, char *why,
		  size_t whycap);

/* Parse a list of networks ("127.0.0.0/8 ::1 127.0.0.9 local", separated by spaces
 * or commas; a bare address is a host) into out[cap].  Returns the count (>= 0) or
 * KP_E_SYNTAX / KP_E_TOOBIG with why filled. */
int kp_cidr_parse_list(const char *s, struct kp_cidr *out, int cap, char *why,
		       size_t whycap);

/* 1 if the address (an AF_INET or AF_INET6 sockaddr; anything else is a "local"
 * peer) lies in one of the n networks, else 0. */
int kp_cidr_match(const struct kp_cidr *nets, int n, const struct sockaddr *sa);

/* The 16-byte key of an address, IPv4 as ::ffff:a.b.c.d (what networks and the
 * per-address limits compare).  Returns 0, or -1 (key zeroed) for a non-IP address. */
int kp_addr_key(const struct sockaddr *sa, unsigned char key[16]);

/* The list back as text ("127.0.0.0/8 ::1/128 local"), for kpopd -t -v. */
void kp_cidr_format_list(const struct kp_cidr *nets, int n, char *out, size_t cap);

#endif
