/* test-proxy.c - unit tests of server/proxyproto.c: PROXY v1 and v2 headers fed a
 * byte at a time, every malformed form, the caps, TLVs; the reader over a real
 * socketpair and a pipe (exactly the header consumed, the bytes after it left for
 * the session), its timeout and EOF; trusted-network lists. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "server/proxyproto.h"
#include "tap.h"

static char why[256];

/* Parse the whole of p (rc returned), after checking every proper prefix: it asks
 * for more (for a valid header, no more bytes than are really missing), or already
 * fails with the same error as the whole. */
static int
parse_bytewise(const void *p, size_t len, struct kp_proxy_hdr *h, const char *name)
{
	size_t i, need;
	int rc, whole, prefixes_ok = 1;

	whole = kp_proxy_parse(p, len, h, &need, why, sizeof(why));
	for (i = 0; i < len; i++) {
		rc = kp_proxy_parse(p, i, h, &need, why, sizeof(why));
		if (rc < 0 && rc == whole)
			break; /* an error may show before the end */
		if (rc != 0 || need == 0 || (whole > 0 && i + need > len)) {
			prefixes_ok = 0;
			printf("# %s: prefix %zu: rc %d need %zu\n", name, i, rc, need);
		}
	}
	T_OK(prefixes_ok, name);
	return kp_proxy_parse(p, len, h, &need, why, sizeof(why));
}

static const char *
addr_text(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, cap, "%s %u", a, port);
	return buf;
}

static void
test_v1(void)
{
	struct kp_proxy_hdr h;
	char a[80], line[200];
	const char *s;
	size_t need;
	int rc;

	s = "PROXY TCP4 127.0.2.10 127.0.0.1 54321 1109\r\n";
	rc = parse_bytewise(s, strlen(s), &h, "v1 TCP4: every prefix asks for more");
	T_EQ_INT(rc, strlen(s), "v1 TCP4: the header length");
	T_EQ_INT(h.version, 1, "v1 TCP4: version");
	T_EQ_INT(h.local, 0, "v1 TCP4: not local");
	T_EQ_STR(addr_text(&h.src, a, sizeof(a)), "127.0.2.10 54321", "v1 TCP4: source");
	T_EQ_STR(addr_text(&h.dst, a, sizeof(a)), "127.0.0.1 1109", "v1 TCP4: destination");
	T_EQ_INT(h.srclen, sizeof(struct sockaddr_in), "v1 TCP4: source length");

	/* what follows the header is not the parser's: the length stops at CRLF */
	snprintf(line, sizeof(line), "%sCAPA\r\n", s);
	T_EQ_INT(kp_proxy_parse((const void *)line, strlen(line), &h, &need, why, sizeof(why)),
		 strlen(s), "v1: bytes after the header are left alone");

	s = "PROXY TCP6 ::1 ::1 0 65535\r\n";
	rc = parse_bytewise(s, strlen(s), &h, "v1 TCP6: every prefix asks for more");
	T_EQ_INT(rc, strlen(s), "v1 TCP6: the header length");
	T_EQ_STR(addr_text(&h.src, a, sizeof(a)), "::1 0", "v1 TCP6: source, port 0");
	T_EQ_STR(addr_text(&h.dst, a, sizeof(a)), "::1 65535", "v1 TCP6: destination");

	s = "PROXY UNKNOWN\r\n";
	T_EQ_INT(parse_bytewise(s, strlen(s), &h, "v1 UNKNOWN prefixes"), strlen(s), "v1 UNKNOWN");
	T_EQ_INT(h.local, 1, "v1 UNKNOWN: use the connection's own addresses");
	s = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
	T_EQ_INT(parse_bytewise(s, strlen(s), &h, "v1 UNKNOWN+rest prefixes"), strlen(s),
		 "v1 UNKNOWN: the rest of the line is ignored");

	/* the longest line the spec allows, 107 bytes, and one more */
	s = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	T_EQ_INT(parse_bytewise(s, strlen(s), &h, "v1 longest TCP6 prefixes"), 104,
		 "v1: the longest TCP6 line");
	s = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	T_EQ_INT(strlen(s), KP_PROXY_V1_MAX, "the test line is the longest v1 line");
	T_EQ_INT(parse_bytewise(s, strlen(s), &h, "v1 107 bytes prefixes"), 107,
		 "v1: 107 bytes accepted");
	s = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n";
	T_EQ_INT(strlen(s), KP_PROXY_V1_MAX + 1, "a 108-byte line");
	T_EQ_INT(parse_bytewise(s, strlen(s), &h, "v1 108"), KP_E_TOOBIG, "v1: 108 bytes refused");
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY ", 6);
	T_EQ_INT(kp_proxy_parse((const void *)line, sizeof(line), &h, &need, why, sizeof(why)),
		 KP_E_TOOBIG, "v1: no CRLF in 107 bytes");
	T_OK(strstr(why, "107") != NULL, "v1: the reason names the cap");

	{
		static const struct { const char *in; int rc; const char *name; } bad[] = {
			{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", KP_E_SYNTAX, "unknown protocol" },
			{ "PROXY TCP4 ::1 ::1 1 2\r\n", KP_E_SYNTAX, "TCP4 with IPv6 addresses" },
			{ "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", KP_E_SYNTAX, "TCP6 with IPv4" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", KP_E_SYNTAX, "port 65536" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", KP_E_SYNTAX, "leading zero" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", KP_E_SYNTAX, "negative port" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", KP_E_SYNTAX, "trailing space" },
			{ "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", KP_E_SYNTAX, "two spaces" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", KP_E_SYNTAX, "five fields" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", KP_E_SYNTAX, "seven fields" },
			{ "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", KP_E_SYNTAX, "three-part IPv4" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", KP_E_SYNTAX, "CR without LF" },
			{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", KP_E_SYNTAX, "LF alone" },
			{ "PROXY \r\n", KP_E_SYNTAX, "no protocol" },
			{ "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", KP_E_SYNTAX, "lower case protocol" },
			{ "PROXYTCP4 1.2.3.4\r\n", KP_E_PROTO, "no space after PROXY" },
			{ "USER alice\r\n", KP_E_PROTO, "a POP3 command, no header" },
			{ "\x00\x00\x00\x13KRB5_SENDAUTH_V1.0", KP_E_PROTO, "a KPOP client, no header" },
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			size_t n = bad[i].in[0] == '\0' ? 22 : strlen(bad[i].in);

			snprintf(line, sizeof(line), "v1 refused: %s", bad[i].name);
			T_EQ_INT(parse_bytewise(bad[i].in, n, &h, line), bad[i].rc, line);
			T_OK(why[0] != '\0', "the refusal says why");
			T_EQ_INT(h.version, 0, "a refused header leaves nothing in out");
		}
	}
	T_EQ_INT(kp_proxy_parse((const void *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\0", 32, &h, &need,
				why, sizeof(why)), KP_E_SYNTAX, "v1: NUL refused");
	T_EQ_INT(kp_proxy_parse((const void *)"PRO", 3, &h, &need, why, sizeof(why)), 0,
		 "\"PRO\" may still become a header");
	T_EQ_INT(need, 3, "\"PRO\": three more bytes at least");
	T_EQ_INT(kp_proxy_parse((const void *)"", 0, &h, &need, why, sizeof(why)), 0,
		 "nothing yet");
	T_EQ_INT(need, 1, "nothing yet: one byte at least");
}

/* A v2 header: ver_cmd, fam, then body. */
static size_t
v2(unsigned char *out, unsigned ver_cmd, unsigned fam, const void *body, size_t blen)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a,
					       0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(blen >> 8);
	out[15] = (unsigned char)blen;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static void
test_v2(void)
{
	static unsigned char buf[KP_PROXY_V2_MAX + 64], body[KP_PROXY_V2_MAX + 64];
	static const unsigned char inet[12] = { 127, 51, 100, 7, 127, 0, 0, 2, 0xd4, 0x31,
						0x04, 0x55 };
	struct kp_proxy_hdr h;
	unsigned char b6[36];
	char a[80];
	size_t n, need;

	n = v2(buf, 0x21, 0x11, inet, sizeof(inet));
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 INET prefixes"), 28, "v2 PROXY TCP4");
	T_EQ_INT(h.version, 2, "v2: version");
	T_EQ_INT(h.local, 0, "v2 PROXY: not local");
	T_EQ_STR(addr_text(&h.src, a, sizeof(a)), "127.51.100.7 54321", "v2 INET: source");
	T_EQ_STR(addr_text(&h.dst, a, sizeof(a)), "127.0.0.2 1109", "v2 INET: destination");

	memset(b6, 0, sizeof(b6));
	b6[15] = 1;     /* ::1 */
	b6[31] = 1;     /* ::1 */
	b6[32] = 0xff;
	b6[33] = 0xfe;  /* 65534 */
	b6[35] = 110;
	n = v2(buf, 0x21, 0x21, b6, sizeof(b6));
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 INET6 prefixes"), 52, "v2 PROXY TCP6");
	T_EQ_STR(addr_text(&h.src, a, sizeof(a)), "::1 65534", "v2 INET6: source");
	T_EQ_STR(addr_text(&h.dst, a, sizeof(a)), "::1 110", "v2 INET6: destination");

	/* HAProxy's health check: LOCAL, no addresses */
	n = v2(buf, 0x20, 0x00, NULL, 0);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 LOCAL prefixes"), 16, "v2 LOCAL");
	T_EQ_INT(h.local, 1, "v2 LOCAL: the proxy's own connection");
	n = v2(buf, 0x20, 0x11, inet, sizeof(inet));
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 LOCAL+addr"), 28, "v2 LOCAL with addresses");
	T_EQ_INT(h.local, 1, "v2 LOCAL: its addresses are ignored");
	T_EQ_INT(h.src.ss_family, 0, "v2 LOCAL: no source taken");
	n = v2(buf, 0x21, 0x00, NULL, 0);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 UNSPEC"), 16, "v2 PROXY UNSPEC");
	T_EQ_INT(h.local, 1, "v2 PROXY UNSPEC: the connection's addresses");
	memset(body, 0, 216);
	n = v2(buf, 0x21, 0x31, body, 216);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 UNIX"), 232, "v2 PROXY UNIX stream");
	T_EQ_INT(h.local, 1, "v2 UNIX client: no IP address to take");

	/* TLVs are skipped; each must fit */
	memcpy(body, inet, 12);
	memcpy(body + 12, "\x01\x00\x02h2" "\x04\x00\x00" "\x05\x00\x03" "abc", 3 + 2 + 3 + 3 + 3);
	n = v2(buf, 0x21, 0x11, body, 12 + 14);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 TLVs prefixes"), 16 + 26, "v2 with ALPN, "
		 "NOOP and unique-id TLVs");
	T_EQ_STR(addr_text(&h.src, a, sizeof(a)), "127.51.100.7 54321", "v2 TLVs: source");
	n = v2(buf, 0x21, 0x11, body, 12 + 13);
	buf[16 + 12 + 8 + 2] = 4; /* the unique-id TLV says 4 bytes, 2 are left */
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 TLV overrun"), KP_E_SYNTAX, "v2: a TLV longer "
		 "than the header");
	T_OK(strstr(why, "TLV") != NULL, "v2: the reason names the TLV");
	n = v2(buf, 0x21, 0x11, body, 12 + 2);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 TLV truncated"), KP_E_SYNTAX, "v2: 2 bytes "
		 "cannot hold a TLV header");
	n = v2(buf, 0x21, 0x11, body, KP_PROXY_V2_MAX - 16);
	memset(buf + 28, 0, (size_t)KP_PROXY_V2_MAX - 28);
	buf[28 + 1] = (unsigned char)((KP_PROXY_V2_MAX - 28 - 3) >> 8);
	buf[28 + 2] = (unsigned char)(KP_PROXY_V2_MAX - 28 - 3);
	T_EQ_INT(kp_proxy_parse(buf, n, &h, &need, why, sizeof(why)), KP_PROXY_V2_MAX,
		 "v2: a header of exactly the cap");

	/* refused */
	n = v2(buf, 0x21, 0x11, body, KP_PROXY_V2_MAX - 15);
	T_EQ_INT(kp_proxy_parse(buf, 16, &h, &need, why, sizeof(why)), KP_E_TOOBIG,
		 "v2: one byte over the cap, refused from its length alone");
	n = v2(buf, 0x11, 0x11, inet, 12);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 ver 1"), KP_E_SYNTAX, "v2: version 1 nibble");
	n = v2(buf, 0x22, 0x11, inet, 12);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 cmd 2"), KP_E_SYNTAX, "v2: command 2");
	n = v2(buf, 0x21, 0x12, inet, 12);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 dgram"), KP_E_SYNTAX, "v2: UDP");
	n = v2(buf, 0x21, 0x41, inet, 12);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 fam 4"), KP_E_SYNTAX, "v2: family 4");
	n = v2(buf, 0x21, 0x11, inet, 11);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 short"), KP_E_SYNTAX, "v2: INET in 11 bytes");
	n = v2(buf, 0x21, 0x21, b6, 12);
	T_EQ_INT(parse_bytewise(buf, n, &h, "v2 short6"), KP_E_SYNTAX, "v2: INET6 in 12 bytes");
	T_EQ_INT(h.version, 0, "v2: a refused header leaves nothing in out");
	n = v2(buf, 0x21, 0x11, inet, 12);
	buf[6] = 0x0b;
	T_EQ_INT(kp_proxy_parse(buf, 8, &h, &need, why, sizeof(why)), KP_E_PROTO,
		 "v2: a broken signature is no header");
}

/* The reader: write chunks into one end, read the header at the other; what is
 * left must be exactly rest. */
static void
reader_case(int use_pipe, const void *hdr, size_t hlen, size_t split, const char *rest,
	    int expect_rc, const char *name)
{
	struct kp_proxy_hdr h;
	char left[64], title[160];
	int sv[2], rc;
	ssize_t n;

	if (use_pipe ? pipe(sv) != 0 : socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		T_OK(0, "socketpair/pipe");
		return;
	}
	if (use_pipe) {
		int t = sv[0];

		sv[0] = sv[1]; /* sv[0] writes, sv[1] reads */
		sv[1] = t;
	}
	if (split > 0 && split < hlen) {
		pid_t pid = fork();

		if (pid == 0) {
			(void)!write(sv[0], hdr, split);
			usleep(50000);
			(void)!write(sv[0], (const char *)hdr + split, hlen - split);
			(void)!write(sv[0], rest, strlen(rest));
			_exit(0);
		}
		close(sv[0]);
		sv[0] = -1;
		rc = kp_proxy_read(sv[1], 5000, &h, why, sizeof(why));
		waitpid(pid, NULL, 0);
	} else {
		(void)!write(sv[0], hdr, hlen);
		(void)!write(sv[0], rest, strlen(rest));
		close(sv[0]);
		sv[0] = -1;
		rc = kp_proxy_read(sv[1], 5000, &h, why, sizeof(why));
	}
	snprintf(title, sizeof(title), "reader (%s): %s", use_pipe ? "pipe" : "socket", name);
	T_EQ_INT(rc, expect_rc, title);
	if (rc == 0) {
		n = read(sv[1], left, sizeof(left) - 1);
		left[n > 0 ? n : 0] = '\0';
		snprintf(title, sizeof(title), "reader (%s): %s: the rest is the session's",
			 use_pipe ? "pipe" : "socket", name);
		T_EQ_STR(left, rest, title);
	}
	close(sv[1]);
}

static void
test_reader(void)
{
	static const char v1[] = "PROXY TCP4 127.0.2.1 127.0.0.1 40000 1109\r\n";
	unsigned char b[64];
	static const unsigned char inet[12] = { 10, 0, 0, 1, 127, 0, 0, 1, 0, 1, 0, 2 };
	struct kp_proxy_hdr h;
	size_t n = v2(b, 0x21, 0x11, inet, sizeof(inet));
	int p, sv[2];

	for (p = 0; p <= 1; p++) {
		reader_case(p, v1, strlen(v1), 0, "CAPA\r\n", 0, "v1 and a pipelined command");
		reader_case(p, v1, strlen(v1), 9, "USER a\r\n", 0, "v1 in two writes");
		reader_case(p, b, n, 0, "\x00\x00\x00\x13KRB5", 0, "v2 and a KPOP client's bytes");
		reader_case(p, b, n, 14, "QUIT\r\n", 0, "v2 split inside the fixed part");
		reader_case(p, b, n, 20, "", 0, "v2 split inside the addresses, nothing after");
		reader_case(p, "CAPA\r\n", 6, 0, "", KP_E_PROTO, "no header");
		reader_case(p, v1, 20, 0, "", KP_E_EOF, "EOF inside the header");
		reader_case(p, "", 0, 0, "", KP_E_EOF, "EOF before a header");
	}
	/* half a header and silence: the timeout ends it */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		(void)!write(sv[0], v1, 10);
		T_EQ_INT(kp_proxy_read(sv[1], 200, &h, why, sizeof(why)), KP_E_TIMEOUT,
			 "reader: half a header, then silence: timeout");
		T_OK(strstr(why, "10 bytes") != NULL, "reader: the timeout says how far it got");
		close(sv[0]);
		close(sv[1]);
	}
}

static void
test_cidr(void)
{
	struct kp_cidr nets[KP_PROXY_TRUSTED_MAX + 1];
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
	char text[512];
	int n;

	n = kp_cidr_parse_list("127.0.0.0/24, ::1 127.16.0.0/12\tlocal 127.200.2.77", nets,
			       KP_PROXY_TRUSTED_MAX, why, sizeof(why));
	T_EQ_INT(n, 5, "a list of five networks, spaces, tabs and commas");
	kp_cidr_format_list(nets, n, text, sizeof(text));
	T_EQ_STR(text, "127.0.0.0/24 ::1/128 127.16.0.0/12 local 127.200.2.77/32",
		 "the list printed back");
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.3", &in.sin_addr);
	T_OK(kp_cidr_match(nets, n, (struct sockaddr *)&in), "127.0.0.3 in 127.0.0.0/24");
	inet_pton(AF_INET, "127.31.255.255", &in.sin_addr);
	T_OK(kp_cidr_match(nets, n, (struct sockaddr *)&in), "127.31.255.255 in 127.16.0.0/12");
	inet_pton(AF_INET, "127.32.0.0", &in.sin_addr);
	T_OK(!kp_cidr_match(nets, n, (struct sockaddr *)&in), "127.32.0.0 not in 127.16.0.0/12");
	inet_pton(AF_INET, "127.200.2.78", &in.sin_addr);
	T_OK(!kp_cidr_match(nets, n, (struct sockaddr *)&in), "a host entry is one address");
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	T_OK(kp_cidr_match(nets, n, (struct sockaddr *)&in6), "::1 trusted");
	inet_pton(AF_INET6, "::ffff:127.0.0.9", &in6.sin6_addr);
	T_OK(kp_cidr_match(nets, n, (struct sockaddr *)&in6), "an IPv4-mapped address "
	     "matches the IPv4 network");
	inet_pton(AF_INET6, "::2", &in6.sin6_addr);
	T_OK(!kp_cidr_match(nets, n, (struct sockaddr *)&in6), "::2 not trusted");
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	T_OK(kp_cidr_match(nets, n, (struct sockaddr *)&un), "local: a UNIX peer");
	T_OK(!kp_cidr_match(nets, 3, (struct sockaddr *)&un), "without local: no UNIX peer");
	T_OK(!kp_cidr_match(nets, 0, (struct sockaddr *)&in), "an empty list trusts nobody");

	n = kp_cidr_parse_list("0.0.0.0/0", nets, 4, why, sizeof(why));
	inet_pton(AF_INET, "127.203.0.5", &in.sin_addr);
	T_OK(n == 1 && kp_cidr_match(nets, n, (struct sockaddr *)&in), "0.0.0.0/0: any IPv4");
	T_OK(!kp_cidr_match(nets, n, (struct sockaddr *)&in6), "0.0.0.0/0: not ::2");
	n = kp_cidr_parse_list("127.9.8.7/8", nets, 4, why, sizeof(why));
	kp_cidr_format_list(nets, n, text, sizeof(text));
	T_EQ_STR(text, "127.0.0.0/8", "host bits are cleared");
	T_EQ_INT(kp_cidr_parse_list("", nets, 4, why, sizeof(why)), 0, "an empty list");

	{
		static const char *bad[] = { "127.0.0.0/33", "::1/129", "127.0.0.0/", "127.0.0/8",
					     "host.example", "/8", "127.0.0.1/-1", "127.0.0.1/08x",
					     "localhost" };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(text, sizeof(text), "refused: %s", bad[i]);
			T_EQ_INT(kp_cidr_parse_list(bad[i], nets, 4, why, sizeof(why)), KP_E_SYNTAX,
				 text);
			T_OK(strstr(why, bad[i]) != NULL, "the error names the entry");
		}
	}
	T_EQ_INT(kp_cidr_parse_list("1.1.1.1 2.2.2.2 3.3.3.3", nets, 2, why, sizeof(why)),
		 KP_E_TOOBIG, "more networks than the cap");
}

int
main(void)
{
	test_v1();
	test_v2();
	test_reader();
	test_cidr();
	return tap_summary();
}
