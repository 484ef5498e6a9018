/* fuzz-proxy.c - the PROXY protocol (server/proxyproto.c, server/proxyadmit.c):
 * HAProxy's v1 text and v2 binary headers with their TLVs, as a "proxy" listener's
 * worker reads them before anything else, and the trusted-network lists.  The first
 * byte: bit 7 set, the rest is a network list (kp_cidr_parse_list, then format and
 * match); else the rest is what a load balancer sent, and
 * - kp_proxy_parse runs on the whole of it and on prefixes: a prefix is either a
 *   valid beginning (asking for no more bytes than the header really has) or gets
 *   the whole's result, never another one; a header found says what its bytes say
 *   (v1: the line written back from the addresses is the line; v2: the length and
 *   the address block);
 * - bit 0 set: kp_proxy_admit (the worker's entry, which runs kp_proxy_read)
 *   reads it from a stream socket, as from the load balancer, peeking; clear:
 *   kp_proxy_read reads it from a non-socket descriptor (inetd on a pipe), a byte
 *   count at a time.  Either way the result is the parser's, and exactly the
 *   header is consumed: what follows it is left for the session. */
#include "config.h"
#include "fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "server/conf.h"
#include "server/proxyadmit.h"
#include "server/proxyproto.h"

static struct kp_conf conf;
static struct kp_listen listener;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[128];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	kp_conf_defaults(&conf);
	/* the worker's peer is the other end of a socketpair: a "local" proxy */
	conf.nproxy_trusted = kp_cidr_parse_list("local 127.0.0.1", conf.proxy_trusted,
						 KP_PROXY_TRUSTED_MAX, why, sizeof(why));
	if (conf.nproxy_trusted != 2)
		abort();
	listener.proxy = 1;
	listener.mode = KP_MODE_POP3;
	return 0;
}

static uint32_t
be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* What a header found must say, from its own bytes. */
static void
check_header(const uint8_t *p, size_t n, int rc, const struct kp_proxy_hdr *h)
{
	FUZZ_CHECK((size_t)rc <= n && h->len == (size_t)rc, "kp_proxy_parse",
		   "header length beyond the input or not in the result");
	FUZZ_CHECK(h->local || ((h->src.ss_family == AF_INET || h->src.ss_family == AF_INET6) &&
		   h->src.ss_family == h->dst.ss_family && h->srclen == h->dstlen &&
		   h->srclen == (h->src.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		   sizeof(struct sockaddr_in6))), "kp_proxy_parse", "addresses of odd shape");
	if (h->version == 1) {
		FUZZ_CHECK(rc <= KP_PROXY_V1_MAX && rc >= 8 && memcmp(p, "PROXY ", 6) == 0 &&
			   p[rc - 2] == '\r' && p[rc - 1] == '\n', "kp_proxy_parse",
			   "v1 header is not a PROXY line of at most 107 bytes");
		FUZZ_CHECK(memchr(p, '\r', (size_t)rc - 2) == NULL, "kp_proxy_parse",
			   "v1 header does not end at its first CR");
		if (h->local) {
			FUZZ_CHECK(rc >= 15 && memcmp(p + 6, "UNKNOWN", 7) == 0 &&
				   (rc == 15 || p[13] == ' '), "kp_proxy_parse",
				   "v1 without addresses that is not UNKNOWN");
		} else {
			/* the line written back from what was parsed is the line (TCP4:
			 * inet_pton takes only dotted quads; TCP6: written back, it parses to
			 * the same addresses) */
			char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], line[KP_PROXY_V1_MAX + 40];
			unsigned sp, dp;
			int v4 = h->src.ss_family == AF_INET, w;
			struct kp_proxy_hdr again;
			size_t need;
			char why[256];

			if (v4) {
				const struct sockaddr_in *s = (const void *)&h->src, *d = (const void *)&h->dst;

				inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
				inet_ntop(AF_INET, &d->sin_addr, b, sizeof(b));
				sp = ntohs(s->sin_port);
				dp = ntohs(d->sin_port);
			} else {
				const struct sockaddr_in6 *s = (const void *)&h->src, *d = (const void *)&h->dst;

				inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
				inet_ntop(AF_INET6, &d->sin6_addr, b, sizeof(b));
				sp = ntohs(s->sin6_port);
				dp = ntohs(d->sin6_port);
			}
			w = snprintf(line, sizeof(line), "PROXY TCP%c %s %s %u %u\r\n", v4 ? '4' : '6',
				     a, b, sp, dp);
			FUZZ_CHECK(w > 0 && (size_t)w < sizeof(line), "fuzz-proxy", "line too long");
			if (v4)
				FUZZ_CHECK((size_t)w == (size_t)rc && memcmp(line, p, (size_t)w) == 0,
					   "kp_proxy_parse", "v1 TCP4 header accepted that does not "
					   "say what was parsed (a non-canonical address or port)");
			FUZZ_CHECK(kp_proxy_parse((const void *)line, (size_t)w, &again, &need, why,
						  sizeof(why)) == w &&
				   memcmp(&again.src, &h->src, sizeof(h->src)) == 0 &&
				   memcmp(&again.dst, &h->dst, sizeof(h->dst)) == 0, "kp_proxy_parse",
				   "the v1 line written back from a header parses differently");
		}
	} else {
		unsigned cmd, fam;

		FUZZ_CHECK(h->version == 2 && rc >= 16 && (size_t)rc == 16 + be16(p + 14) &&
			   rc <= KP_PROXY_V2_MAX && (p[12] >> 4) == 2, "kp_proxy_parse",
			   "v2 header length is not 16 + its length field");
		cmd = p[12] & 0x0f;
		fam = p[13] >> 4;
		FUZZ_CHECK(cmd <= 1, "kp_proxy_parse", "v2 unknown command accepted");
		FUZZ_CHECK(h->local == (cmd == 0 || fam == 0 || fam == 3), "kp_proxy_parse",
			   "v2 LOCAL / UNSPEC / UNIX without local, or local with addresses");
		if (!h->local && fam == 1) {
			const struct sockaddr_in *s = (const void *)&h->src, *d = (const void *)&h->dst;

			FUZZ_CHECK(rc >= 28 && memcmp(&s->sin_addr, p + 16, 4) == 0 &&
				   memcmp(&d->sin_addr, p + 20, 4) == 0 &&
				   memcmp(&s->sin_port, p + 24, 2) == 0 &&
				   memcmp(&d->sin_port, p + 26, 2) == 0, "kp_proxy_parse",
				   "v2 IPv4 addresses are not the header's");
		}
		if (!h->local && fam == 2) {
			const struct sockaddr_in6 *s = (const void *)&h->src;
			const struct sockaddr_in6 *d = (const void *)&h->dst;

			FUZZ_CHECK(rc >= 52 && memcmp(&s->sin6_addr, p + 16, 16) == 0 &&
				   memcmp(&d->sin6_addr, p + 32, 16) == 0 &&
				   memcmp(&s->sin6_port, p + 48, 2) == 0 &&
				   memcmp(&d->sin6_port, p + 50, 2) == 0, "kp_proxy_parse",
				   "v2 IPv6 addresses are not the header's");
		}
	}
}

/* The prefix rule on length k: 0 (a beginning, the header no shorter than k + need)
 * or exactly the whole's result. */
static void
check_prefix(const uint8_t *p, size_t k, int whole, const struct kp_proxy_hdr *wh)
{
	struct kp_proxy_hdr h;
	size_t need = 12345;
	char why[256];
	int rc = kp_proxy_parse(p, k, &h, &need, why, sizeof(why));

	if (rc == 0) {
		FUZZ_CHECK(need > 0, "kp_proxy_parse", "a beginning that needs no more bytes");
		FUZZ_CHECK(whole <= 0 || k + need <= (size_t)whole, "kp_proxy_parse",
			   "asked for more bytes than the header has");
		return;
	}
	FUZZ_CHECK(rc == whole, "kp_proxy_parse",
		   "a prefix gets another result than the whole input");
	if (rc > 0)
		FUZZ_CHECK(memcmp(&h, wh, sizeof(h)) == 0, "kp_proxy_parse",
			   "a prefix holding the header parses to another header");
}

/* After a completed read, the descriptor holds exactly the bytes after the header. */
static void
check_rest(int fd, int sock, const uint8_t *p, size_t n, size_t hlen, const char *func)
{
	unsigned char buf[512];
	size_t off = hlen;

	for (;;) {
		ssize_t r = sock ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : read(fd, buf, sizeof(buf));

		if (r <= 0)
			break;
		FUZZ_CHECK(off + (size_t)r <= n && memcmp(buf, p + off, (size_t)r) == 0, func,
			   "consumed other bytes than the header's");
		off += (size_t)r;
	}
	FUZZ_CHECK(off == n, func, "consumed bytes after the header");
}

static void
headers(const uint8_t *p, size_t n, int via_socket)
{
	struct kp_proxy_hdr whole_h, h;
	size_t need, k;
	uint32_t rng = 2166136261u;
	char why[256];
	int whole, rc, fd;

	whole = kp_proxy_parse(p, n, &whole_h, &need, why, sizeof(why));
	FUZZ_CHECK(whole >= 0 || whole == KP_E_PROTO || whole == KP_E_SYNTAX ||
		   whole == KP_E_TOOBIG, "kp_proxy_parse", "unexpected return code");
	FUZZ_CHECK(whole != 0 || (need > 0 && n + need <= KP_PROXY_V2_MAX), "kp_proxy_parse",
		   "incomplete, but needs nothing or more than the cap");
	FUZZ_CHECK(whole >= 0 || why[0] != '\0', "kp_proxy_parse", "an error without a reason");
	if (whole > 0)
		check_header(p, n, whole, &whole_h);
	else
		FUZZ_CHECK(whole_h.version == 0 && whole_h.len == 0, "kp_proxy_parse",
			   "a result kept without a header");

	/* prefixes: all of the first 160, then some picked by the input's hash */
	for (k = 0; k < n; k++)
		rng = (rng ^ p[k]) * 16777619u;
	for (k = 0; k < n && k < 160; k++)
		check_prefix(p, k, whole, &whole_h);
	for (k = 0; n > 160 && k < 24; k++)
		check_prefix(p, 160 + fuzz_rng(&rng) % (n - 160), whole, &whole_h);
	if (whole > 0 && (size_t)whole < n)
		check_prefix(p, (size_t)whole - 1, whole, &whole_h);

	if (via_socket) {
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof(peer), ll = sizeof(local);

		fd = fuzz_input_socket(p, n);
		memset(&peer, 0, sizeof(peer));
		memset(&local, 0, sizeof(local));
		if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
		    getsockname(fd, (struct sockaddr *)&local, &ll) != 0)
			abort();
		rc = kp_proxy_admit(&conf, &listener, fd, -1, 1, &peer, &pl, &local, &ll);
		FUZZ_CHECK(whole > 0 ? rc == 0 : whole < 0 ? rc == whole : rc == KP_E_EOF,
			   "kp_proxy_admit", "another result than the parser's");
		if (rc == 0 && !whole_h.local)
			FUZZ_CHECK(pl == whole_h.srclen && ll == whole_h.dstlen &&
				   memcmp(&peer, &whole_h.src, pl) == 0 &&
				   memcmp(&local, &whole_h.dst, ll) == 0, "kp_proxy_admit",
				   "the connection's endpoints are not the header's");
		if (rc == 0 && whole_h.local)
			FUZZ_CHECK(peer.ss_family == AF_UNIX, "kp_proxy_admit",
				   "a LOCAL header replaced the real endpoints");
		if (rc == 0)
			check_rest(fd, 1, p, n, (size_t)whole, "kp_proxy_admit");
	} else {
		fd = fuzz_input_fd(p, n);
		rc = kp_proxy_read(fd, 1000, &h, why, sizeof(why));
		FUZZ_CHECK(whole > 0 ? rc == 0 : whole < 0 ? rc == whole : rc == KP_E_EOF,
			   "kp_proxy_read", "another result than the parser's (not a socket)");
		if (rc == 0) {
			FUZZ_CHECK(memcmp(&h, &whole_h, sizeof(h)) == 0, "kp_proxy_read",
				   "another header than the parser's");
			check_rest(fd, 0, p, n, (size_t)whole, "kp_proxy_read");
		}
		if (rc != 0)
			FUZZ_CHECK(why[0] != '\0', "kp_proxy_read", "failed without a reason");
	}
	close(fd);
}

/* A network list: parsed, written back and parsed again to the same networks; each
 * network holds its own address; the text fits any buffer. */
static void
networks(const uint8_t *p, size_t n)
{
	struct kp_cidr nets[KP_PROXY_TRUSTED_MAX], again[KP_PROXY_TRUSTED_MAX];
	char why[256], text[KP_PROXY_TRUSTED_MAX * 60], small[24];
	char *s = fuzz_strdup(p, n);
	int cnt, cnt2, i;

	cnt = kp_cidr_parse_list(s, nets, KP_PROXY_TRUSTED_MAX, why, sizeof(why));
	FUZZ_CHECK(cnt >= 0 || ((cnt == KP_E_SYNTAX || cnt == KP_E_TOOBIG) && why[0] != '\0'),
		   "kp_cidr_parse_list", "unexpected result");
	for (i = 0; i < cnt; i++) {
		struct sockaddr_in6 sa6;
		struct sockaddr_in sa4;
		unsigned b;

		if (nets[i].local)
			continue;
		FUZZ_CHECK(nets[i].bits <= 128, "kp_cidr_parse_list", "more than 128 bits");
		for (b = nets[i].bits; b < 128; b++)
			FUZZ_CHECK(!(nets[i].addr[b / 8] & (0x80u >> (b % 8))), "kp_cidr_parse_list",
				   "host bits kept");
		memset(&sa6, 0, sizeof(sa6));
		sa6.sin6_family = AF_INET6;
		memcpy(&sa6.sin6_addr, nets[i].addr, 16);
		memset(&sa4, 0, sizeof(sa4));
		sa4.sin_family = AF_INET;
		memcpy(&sa4.sin_addr, nets[i].addr + 12, 4);
		/* an IPv4 network (::ffff:0:0/96 and longer) holds the IPv4 address */
		if (nets[i].bits >= 96 && memcmp(nets[i].addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			FUZZ_CHECK(kp_cidr_match(&nets[i], 1, (struct sockaddr *)&sa4),
				   "kp_cidr_match", "an IPv4 network does not hold its address");
		else
			FUZZ_CHECK(kp_cidr_match(&nets[i], 1, (struct sockaddr *)&sa6),
				   "kp_cidr_match", "a network does not hold its address");
	}
	if (cnt >= 0) {
		kp_cidr_format_list(nets, cnt, text, sizeof(text));
		FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL, "kp_cidr_format_list",
			   "not terminated");
		cnt2 = kp_cidr_parse_list(text, again, KP_PROXY_TRUSTED_MAX, why, sizeof(why));
		FUZZ_CHECK(cnt2 == cnt && memcmp(again, nets, sizeof(nets[0]) * (size_t)cnt) == 0,
			   "kp_cidr_format_list", "the list written back parses differently");
		memset(small, 'x', sizeof(small));
		kp_cidr_format_list(nets, cnt, small, sizeof(small) - 4);
		FUZZ_CHECK(memchr(small, '\0', sizeof(small) - 4) != NULL &&
			   memcmp(small + sizeof(small) - 4, "xxxx", 4) == 0, "kp_cidr_format_list",
			   "wrote past a small buffer");
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		networks(data + 1, size - 1);
	else
		headers(data + 1, size - 1, data[0] & 1);
	return 0;
}
