/* kpop_server.c - the wire half of legacy KPOP: the krb5 sendauth protocol read
 * with hard caps; the AP-REQ goes to the auth service (server/authd/kpop_verify.c),
 * which answers with the AP-REP or the KRB-ERROR to send. */
#include "config.h"
#include "server/kpop_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authc.h"

static const char sendauth_version[] = "KRB5_SENDAUTH_V1.0"; /* sent with its NUL */
static const char kpop_version[] = "KPOPV1.0";

struct hs {
	int rfd, wfd;
	struct timespec deadline;
};

static int
ms_left(const struct hs *h)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(h->deadline.tv_sec - now.tv_sec) * 1000 +
	     (h->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Read exactly n bytes before the deadline. 0, KP_E_EOF, KP_E_TIMEOUT, KP_E_IO. */
static int
read_exact(struct hs *h, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		int left = ms_left(h), w;
		ssize_t r;

		if (left == 0)
			return KP_E_TIMEOUT;
		w = kp_io_wait_readable(h->rfd, left);
		if (w < 0)
			return KP_E_IO;
		if (w == 0)
			return KP_E_TIMEOUT;
		r = read(h->rfd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return KP_E_IO;
		if (r == 0)
			return KP_E_EOF;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_all(struct hs *h, const void *buf, size_t n)
{
	return kp_write_all(h->wfd, buf, n);
}

/* The length prefix of the next message. */
static int
read_len(struct hs *h, size_t *len_out, const char *what)
{
	uint32_t be;
	int rc;

	rc = read_exact(h, &be, 4);
	if (rc != 0) {
		kp_log(KP_LOG_INFO, "KPOP: %s: %s", what, kp_strerror(rc));
		return rc;
	}
	*len_out = ntohl(be);
	return 0;
}

/* Read and throw away the n bytes of a message we will not keep (before the
 * deadline), so that what we answer is not lost to a reset when we close.  Past
 * KP_KPOP_DRAIN_MAX nothing is read: no real ticket is that large. */
static void
drain(struct hs *h, size_t n, unsigned char *buf, size_t cap)
{
	if (n > KP_KPOP_DRAIN_MAX)
		return;
	while (n > 0) {
		size_t k = n < cap ? n : cap;

		if (read_exact(h, buf, k) != 0)
			return;
		n -= k;
	}
}

/* One length-prefixed message of at most max bytes (and at least 1). */
static int
read_msg(struct hs *h, unsigned char *buf, size_t max, size_t *len_out, const char *what)
{
	size_t len;
	int rc;

	if ((rc = read_len(h, &len, what)) != 0)
		return rc;
	if (len == 0 || len > max) {
		kp_log(KP_LOG_INFO, "KPOP: %s: bad length %zu (1-%zu allowed)", what, len, max);
		return KP_E_PROTO;
	}
	rc = read_exact(h, buf, len);
	if (rc != 0) {
		kp_log(KP_LOG_INFO, "KPOP: %s: truncated (%s)", what, kp_strerror(rc));
		return rc;
	}
	*len_out = len;
	return 0;
}

/* Send one or two length-prefixed messages (b == NULL: one) in one write: a
 * length and its body written apart wait for the peer's delayed ACK (Nagle). */
static int
write_msgs(struct hs *h, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = 4 + alen + (b != NULL ? 4 + blen : 0);
	unsigned char *buf = malloc(n), *p;
	uint32_t be;
	int rc;

	if (buf == NULL)
		return KP_E_NOMEM;
	p = buf;
	be = htonl((uint32_t)alen);
	memcpy(p, &be, 4);
	if (alen > 0)
		memcpy(p + 4, a, alen);
	p += 4 + alen;
	if (b != NULL) {
		be = htonl((uint32_t)blen);
		memcpy(p, &be, 4);
		if (blen > 0)
			memcpy(p + 4, b, blen);
	}
	rc = write_all(h, buf, n);
	free(buf);
	return rc;
}

static int
write_msg(struct hs *h, const void *data, size_t len)
{
	return write_msgs(h, data, len, NULL, 0);
}

/* Did the client speak first, and how?  1 KPOP, 0 POP3, KP_E_* to close. */
static int
sniff(const struct kp_conf *c, int fd, int required)
{
	unsigned char head[8];
	ssize_t n;
	int w;

	w = kp_io_wait_readable(fd, required ? c->kpop_timeout * 1000 : c->sniff_ms);
	if (w <= 0) {
		if (!required)
			return 0;
		kp_log(KP_LOG_INFO, "KPOP: client sent nothing on a kpop listener");
		return KP_E_TIMEOUT;
	}
	n = recv(fd, head, sizeof(head), MSG_PEEK);
	if (n < 0 && errno == ENOTSOCK)
		n = 0; /* inetd on pipes: cannot peek; only an explicit kpop mode reads */
	if (n < 0)
		return KP_E_IO;
	if (n >= 7 && memcmp(head, "AUTHV0.", 7) == 0) {
		static const char v4[] = "-ERR Kerberos 4 (KPOP V4) is not supported: "
					 "use Kerberos 5\r\n";
		char drain[512];

		kp_log(KP_LOG_WARN, "KPOP: Kerberos 4 client (AUTHV0.1) refused: "
		       "Kerberos 4 is not supported, use Kerberos 5");
		/* take what it sent, so the close is orderly and the reason arrives */
		(void)!recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
		(void)!write(fd, v4, sizeof(v4) - 1);
		shutdown(fd, SHUT_WR);
		return KP_E_PROTO;
	}
	if (required)
		return 1; /* the handshake parser says what is wrong, if anything */
	if (n >= 1 && head[0] == 0)
		return 1; /* a length prefix: sendauth (checked in full below) */
	return 0; /* a POP3 client that pipelined before the greeting */
}

int
kp_kpop_accept(const struct kp_conf *c, struct kp_authc *authc, int rfd, int wfd,
	       int required)
{
	struct hs h;
	unsigned char *buf = NULL;
	const void *reply;
	size_t len, rlen;
	unsigned char verdict;
	int rc;

	rc = sniff(c, rfd, required);
	if (rc <= 0)
		return rc;
	h.rfd = rfd;
	h.wfd = wfd;
	clock_gettime(CLOCK_MONOTONIC, &h.deadline);
	h.deadline.tv_sec += c->kpop_timeout;
	buf = malloc(KP_AUTH_TOKEN_MAX);
	if (buf == NULL)
		return KP_E_NOMEM;

	/* 1. versions: "KRB5_SENDAUTH_V1.0\0" then "KPOPV1.0\0"; answer one byte. */
	if ((rc = read_msg(&h, buf, 64, &len, "sendauth version")) != 0)
		goto cleanup;
	if (len != sizeof(sendauth_version) || memcmp(buf, sendauth_version, len) != 0) {
		char esc[100];

		kp_log_escape((const char *)buf, len, esc, sizeof(esc));
		kp_log(KP_LOG_INFO, "KPOP: bad sendauth version \"%s\"", esc);
		verdict = 1;
		(void)write_all(&h, &verdict, 1);
		rc = KP_E_PROTO;
		goto cleanup;
	}
	if ((rc = read_msg(&h, buf, 64, &len, "application version")) != 0)
		goto cleanup;
	if (len != sizeof(kpop_version) || memcmp(buf, kpop_version, len) != 0) {
		char esc[100];

		kp_log_escape((const char *)buf, len, esc, sizeof(esc));
		kp_log(KP_LOG_INFO, "KPOP: bad application version \"%s\" (want KPOPV1.0)", esc);
		verdict = 2;
		(void)write_all(&h, &verdict, 1);
		rc = KP_E_PROTO;
		goto cleanup;
	}
	verdict = 0;
	if ((rc = write_all(&h, &verdict, 1)) != 0)
		goto cleanup;

	/* 2. the AP-REQ, checked by the auth service against the keytab.  One too
	 * large to hold (an AD ticket past MaxTokenSize), or of length 0, is answered
	 * with a KRB-ERROR too (krb5_recvauth would only close): the client can then
	 * say why, instead of "connection reset". */
	if ((rc = read_len(&h, &len, "AP-REQ")) != 0)
		goto cleanup;
	if (len > KP_AUTH_TOKEN_MAX) {
		drain(&h, len, buf, KP_AUTH_TOKEN_MAX);
		rc = kp_authc_kpop_apreq(authc, NULL, 0, (uint32_t)len, &reply, &rlen);
	} else {
		if (len > 0 && (rc = read_exact(&h, buf, len)) != 0) {
			kp_log(KP_LOG_INFO, "KPOP: AP-REQ: truncated (%s)", kp_strerror(rc));
			goto cleanup;
		}
		rc = kp_authc_kpop_apreq(authc, buf, len, 0, &reply, &rlen);
	}
	if (rc == KP_E_IO)
		goto cleanup;
	if (rc != 0) {
		/* the KRB-ERROR, as krb5_recvauth sends it */
		if (rlen > 0)
			(void)write_msg(&h, reply, rlen);
		rc = KP_E_AUTH;
		goto cleanup;
	}
	/* 3. success: four zero bytes, then the AP-REP if mutual auth was asked for. */
	if (rlen > 0)
		rc = write_msgs(&h, "", 0, reply, rlen);
	else
		rc = write_msg(&h, "", 0);
	if (rc == 0)
		rc = KP_KPOP_DONE;
cleanup:
	free(buf);
	return rc;
}
