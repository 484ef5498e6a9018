/* proxyproto.c - the PROXY protocol v1 and v2 headers a load balancer sends before
 * the client's first byte (HAProxy's "proxy-protocol.txt"), and trusted networks. */
#include "config.h"
#include "server/proxyproto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_pop3.h"

static const char v1_sig[] = "PROXY ";
#define V1_SIGLEN 6
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
#define V2_HDRLEN 16
#define V2_INET_LEN 12   /* two IPv4 addresses, two ports */
#define V2_INET6_LEN 36
#define V2_UNIX_LEN 216

/* --- v1: "PROXY TCP4 SRC DST SPORT DPORT\r\n" ------------------------------------ */

/* A port: decimal 0-65535 without leading zeros. */
static int
v1_port(const char *s, uint16_t *out)
{
	unsigned long v;

	if ((s[0] == '0' && s[1] != '\0') || kp_parse_ulong(s, 0, 65535, &v) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* One address and port into ss. */
static int
v1_addr(int family, const char *a, const char *port, struct sockaddr_storage *ss,
	socklen_t *len)
{
	uint16_t p;

	if (v1_port(port, &p) != 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, a, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, a, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
	}
	return 0;
}

static int
parse_v1(const unsigned char *p, size_t len, struct kp_proxy_hdr *out, size_t *need_out,
	 char *why, size_t whycap)
{
	char line[KP_PROXY_V1_MAX + 1], *f[7], *s;
	size_t i, n = 0, hlen;
	int family;

	/* CRLF ends the line at offset KP_PROXY_V1_MAX - 2 at the latest */
	for (i = V1_SIGLEN; i < len && i < KP_PROXY_V1_MAX - 1; i++) {
		if (p[i] == '\r')
			break;
		if (p[i] < 0x20 || p[i] > 0x7e) {
			snprintf(why, whycap, "PROXY v1 header: byte 0x%02x at offset %zu", p[i], i);
			return KP_E_SYNTAX;
		}
	}
	if (i == KP_PROXY_V1_MAX - 1) {
		snprintf(why, whycap, "PROXY v1 header longer than %d bytes", KP_PROXY_V1_MAX);
		return KP_E_TOOBIG;
	}
	if (i + 1 >= len) {
		*need_out = i < len ? 1 : (i + 2) - len;
		return 0;
	}
	if (p[i + 1] != '\n') {
		snprintf(why, whycap, "PROXY v1 header: CR without LF");
		return KP_E_SYNTAX;
	}
	hlen = i + 2;
	memcpy(line, p, i);
	line[i] = '\0';
	/* fields separated by exactly one space: an empty field is an error */
	for (s = line; n < 7; n++) {
		char *sp = strchr(s, ' ');

		f[n] = s;
		if (sp == NULL) {
			n++;
			break;
		}
		*sp = '\0';
		s = sp + 1;
	}
	if (n >= 2 && strcmp(f[1], "UNKNOWN") == 0) {
		/* the proxy could not tell: the rest of the line is to be ignored */
		out->version = 1;
		out->local = 1;
		out->len = hlen;
		return (int)hlen;
	}
	if (n != 6) {
		snprintf(why, whycap, "PROXY v1 header: expected 6 fields, got %s%zu",
			 n > 6 ? "more than " : "", n > 6 ? (size_t)6 : n);
		return KP_E_SYNTAX;
	}
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else {
		snprintf(why, whycap, "PROXY v1 header: unknown protocol \"%.16s\"", f[1]);
		return KP_E_SYNTAX;
	}
	if (v1_addr(family, f[2], f[4], &out->src, &out->srclen) != 0 ||
	    v1_addr(family, f[3], f[5], &out->dst, &out->dstlen) != 0) {
		snprintf(why, whycap, "PROXY v1 header: bad %s address or port", f[1]);
		return KP_E_SYNTAX;
	}
	out->version = 1;
	out->len = hlen;
	return (int)hlen;
}

/* --- v2: signature, version/command, family/protocol, length, addresses, TLVs --- */

static int
parse_v2(const unsigned char *p, size_t len, struct kp_proxy_hdr *out, size_t *need_out,
	 char *why, size_t whycap)
{
	size_t body, total, alen, off;
	unsigned ver = p[12] >> 4, cmd = p[12] & 0x0f, fam = p[13] >> 4, proto = p[13] & 0x0f;

	if (ver != 2) {
		snprintf(why, whycap, "PROXY v2 header: version %u", ver);
		return KP_E_SYNTAX;
	}
	if (cmd > 1) {
		snprintf(why, whycap, "PROXY v2 header: unknown command %u", cmd);
		return KP_E_SYNTAX;
	}
	body = ((size_t)p[14] << 8) | p[15];
	total = V2_HDRLEN + body;
	if (total > KP_PROXY_V2_MAX) {
		snprintf(why, whycap, "PROXY v2 header of %zu bytes (at most %d)", total,
			 KP_PROXY_V2_MAX);
		return KP_E_TOOBIG;
	}
	if (fam > 3 || proto > 2) {
		snprintf(why, whycap, "PROXY v2 header: unknown family 0x%02x", p[13]);
		return KP_E_SYNTAX;
	}
	if (len < total) {
		*need_out = total - len;
		return 0;
	}
	out->version = 2;
	out->len = total;
	if (cmd == 0) {
		/* LOCAL: the proxy's own connection (a health check); the spec says to
		 * ignore the address block and use the real endpoints */
		out->local = 1;
		return (int)total;
	}
	if (proto == 2) {
		snprintf(why, whycap, "PROXY v2 header: a datagram connection on a stream listener");
		return KP_E_SYNTAX;
	}
	alen = fam == 1 ? V2_INET_LEN : fam == 2 ? V2_INET6_LEN : fam == 3 ? V2_UNIX_LEN : 0;
	if (body < alen) {
		snprintf(why, whycap, "PROXY v2 header: %zu bytes, too short for its addresses",
			 body);
		return KP_E_SYNTAX;
	}
	p += V2_HDRLEN;
	if (fam == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		out->srclen = out->dstlen = sizeof(*s);
	} else if (fam == 2) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p, 16);
		memcpy(&d->sin6_addr, p + 16, 16);
		memcpy(&s->sin6_port, p + 32, 2);
		memcpy(&d->sin6_port, p + 34, 2);
		out->srclen = out->dstlen = sizeof(*s);
	} else {
		/* UNSPEC or a UNIX-socket client: no IP address to take */
		out->local = 1;
	}
	/* TLVs: type, 2-byte length, value; none is needed, each must fit */
	for (off = alen; off < body;) {
		size_t vlen;

		if (body - off < 3) {
			snprintf(why, whycap, "PROXY v2 header: truncated TLV at offset %zu",
				 V2_HDRLEN + off);
			goto bad;
		}
		vlen = ((size_t)p[off + 1] << 8) | p[off + 2];
		if (vlen > body - off - 3) {
			snprintf(why, whycap, "PROXY v2 header: TLV 0x%02x of %zu bytes overruns "
				 "the header", p[off], vlen);
			goto bad;
		}
		off += 3 + vlen;
	}
	return (int)total;
bad:
	memset(out, 0, sizeof(*out));
	return KP_E_SYNTAX;
}

int
kp_proxy_parse(const unsigned char *p, size_t len, struct kp_proxy_hdr *out,
	       size_t *need_out, char *why, size_t whycap)
{
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	*need_out = 0;
	why[0] = '\0';
	if (len == 0) {
		*need_out = 1;
		return 0;
	}
	if (p[0] == (unsigned char)v1_sig[0]) {
		n = len < V1_SIGLEN ? len : V1_SIGLEN;
		if (memcmp(p, v1_sig, n) != 0)
			goto none;
		if (len < V1_SIGLEN) {
			*need_out = V1_SIGLEN - len;
			return 0;
		}
		rc = parse_v1(p, len, out, need_out, why, whycap);
	} else {
		n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
		if (memcmp(p, v2_sig, n) != 0)
			goto none;
		if (len < V2_HDRLEN) {
			*need_out = V2_HDRLEN - len;
			return 0;
		}
		rc = parse_v2(p, len, out, need_out, why, whycap);
	}
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
none:
	snprintf(why, whycap, "no PROXY header (the connection began with 0x%02x)", p[0]);
	return KP_E_PROTO;
}

/* --- reading it from a connection ----------------------------------------------- */

/* Consume n bytes already peeked (they are in the socket's queue). */
static int
consume(int fd, unsigned char *dst, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, dst, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return KP_E_IO;
		dst += r;
		n -= (size_t)r;
	}
	return 0;
}

int
kp_proxy_read(int fd, int timeout_ms, struct kp_proxy_hdr *out, char *why, size_t whycap)
{
	unsigned char buf[KP_PROXY_V2_MAX];
	long long until = kp_io_now_ms() + timeout_ms;
	size_t have = 0, need = 1;
	int peek = 1, rc;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = until - kp_io_now_ms();
		ssize_t n;

		if (left <= 0) {
			snprintf(why, whycap, "no complete PROXY header within %d ms (%zu bytes)",
				 timeout_ms, have);
			return KP_E_TIMEOUT;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR) {
			snprintf(why, whycap, "poll: %s", strerror(errno));
			return KP_E_IO;
		}
		if (rc <= 0)
			continue;
		if (peek) {
			/* look without taking: what follows the header belongs to the
			 * session (a pipelined command, a KPOP client's first bytes) */
			n = recv(fd, buf + have, sizeof(buf) - have, MSG_PEEK);
			if (n < 0 && errno == ENOTSOCK) {
				peek = 0;
				continue;
			}
		} else {
			n = read(fd, buf + have, need);
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(why, whycap, "reading the PROXY header: %s", strerror(errno));
			return KP_E_IO;
		}
		if (n == 0) {
			snprintf(why, whycap, "the peer closed the connection %s",
				 have == 0 ? "before sending a PROXY header" :
				 "in the middle of its PROXY header");
			return KP_E_EOF;
		}
		rc = kp_proxy_parse(buf, have + (size_t)n, out, &need, why, whycap);
		if (rc < 0)
			return rc;
		if (peek) {
			size_t take = rc > 0 ? (size_t)rc - have : (size_t)n;

			if (consume(fd, buf + have, take) != 0) {
				snprintf(why, whycap, "reading the PROXY header: %s", strerror(errno));
				return KP_E_IO;
			}
			have += take;
		} else {
			have += (size_t)n;
		}
		if (rc > 0)
			return 0;
	}
}

/* --- trusted networks ------------------------------------------------------------ */

int
kp_addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static int
in_net(const struct kp_cidr *c, const unsigned char key[16])
{
	unsigned full = c->bits / 8u, rest = c->bits % 8u;

	if (memcmp(c->addr, key, full) != 0)
		return 0;
	return rest == 0 || ((c->addr[full] ^ key[full]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

/* One "ADDR[/BITS]" or "local". */
static int
parse_one(const char *s, struct kp_cidr *out)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	unsigned char v4[4];
	unsigned i;
	int is4;

	memset(out, 0, sizeof(*out));
	if (strcmp(s, "local") == 0) {
		out->local = 1;
		return 0;
	}
	if (alen == 0 || alen >= sizeof(a))
		return -1;
	memcpy(a, s, alen);
	a[alen] = '\0';
	is4 = inet_pton(AF_INET, a, v4) == 1;
	if (is4) {
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, v4, 4);
	} else if (inet_pton(AF_INET6, a, out->addr) != 1) {
		return -1;
	}
	bits = is4 ? 32 : 128;
	if (slash != NULL && (kp_parse_ulong(slash + 1, 0, bits, &bits) != 0))
		return -1;
	out->bits = (unsigned char)(is4 ? bits + 96 : bits);
	/* host bits are cleared: "127.1.2.3/16" is 127.1.0.0/16 */
	for (i = out->bits; i < 128; i++)
		out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	return 0;
}

int
kp_cidr_parse_list(const char *s, struct kp_cidr *out, int cap, char *why, size_t whycap)
{
	int n = 0;

	why[0] = '\0';
	while (*s != '\0') {
		char item[80];
		size_t len = strcspn(s, " \t,");

		if (len == 0) {
			s++;
			continue;
		}
		if (len >= sizeof(item)) {
			snprintf(why, whycap, "\"%.20s...\" is not a network", s);
			return KP_E_SYNTAX;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (n >= cap) {
			snprintf(why, whycap, "more than %d networks", cap);
			return KP_E_TOOBIG;
		}
		if (parse_one(item, &out[n]) != 0) {
			snprintf(why, whycap, "\"%s\" is not ADDRESS[/BITS] or local", item);
			return KP_E_SYNTAX;
		}
		n++;
		s += len;
	}
	return n;
}

int
kp_cidr_match(const struct kp_cidr *nets, int n, const struct sockaddr *sa)
{
	unsigned char key[16];
	int i, ip = kp_addr_key(sa, key) == 0;

	for (i = 0; i < n; i++)
		if (ip ? !nets[i].local && in_net(&nets[i], key) : nets[i].local)
			return 1;
	return 0;
}

void
kp_cidr_format_list(const struct kp_cidr *nets, int n, char *out, size_t cap)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n && used < cap; i++) {
		char a[INET6_ADDRSTRLEN];
		int v4 = !nets[i].local && nets[i].bits >= 96 &&
			 memcmp(nets[i].addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
		int w;

		if (nets[i].local)
			w = snprintf(out + used, cap - used, "%slocal", i ? " " : "");
		else {
			if (v4)
				inet_ntop(AF_INET, nets[i].addr + 12, a, sizeof(a));
			else
				inet_ntop(AF_INET6, nets[i].addr, a, sizeof(a));
			w = snprintf(out + used, cap - used, "%s%s/%u", i ? " " : "", a,
				     v4 ? nets[i].bits - 96u : nets[i].bits);
		}
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
