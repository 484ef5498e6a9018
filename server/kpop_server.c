/* kpop_server.c - the server side of legacy KPOP: the krb5 sendauth wire protocol
 * read with hard caps, the AP-REQ checked with krb5_rd_req against the keytab. */
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
#include <krb5.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"

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

/* One length-prefixed message of at most max bytes (and at least 1). */
static int
read_msg(struct hs *h, unsigned char *buf, size_t max, size_t *len_out, const char *what)
{
	uint32_t be;
	size_t len;
	int rc;

	rc = read_exact(h, &be, 4);
	if (rc != 0) {
		kp_log(KP_LOG_INFO, "KPOP: %s: %s", what, kp_strerror(rc));
		return rc;
	}
	len = ntohl(be);
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

static void
send_krb_error(krb5_context ctx, struct hs *h, krb5_error_code code)
{
	krb5_error err;
	krb5_data out = { 0 };
	krb5_principal placeholder = NULL;

	memset(&err, 0, sizeof(err));
	err.error = (krb5_ui_4)(code - ERROR_TABLE_BASE_krb5);
	if (err.error > 127)
		err.error = KRB5KRB_ERR_GENERIC - ERROR_TABLE_BASE_krb5;
	if (krb5_us_timeofday(ctx, &err.stime, &err.susec) != 0)
		return;
	if (krb5_parse_name(ctx, "????", &placeholder) != 0)
		return;
	err.server = placeholder;
	if (krb5_mk_error(ctx, &err, &out) == 0) {
		(void)write_msg(h, out.data, out.length);
		krb5_free_data_contents(ctx, &out);
	}
	krb5_free_principal(ctx, placeholder);
}

/* The ticket's service must be ours ("pop", or "pop3" when kpop_pop3 is set), or the
 * exact pinned principal. */
static int
service_ok(const struct kp_conf *c, krb5_context ctx, krb5_const_principal server,
	   char *why, size_t cap)
{
	const krb5_data *svc;
	char *name = NULL;
	int ok = 0;

	if (krb5_unparse_name(ctx, server, &name) != 0)
		return 0;
	if (c->server_principal != NULL) {
		ok = strcmp(name, c->server_principal) == 0;
	} else if (krb5_princ_size(ctx, server) == 2) {
		svc = krb5_princ_component(ctx, server, 0);
		ok = (svc->length == strlen(c->service) &&
		      memcmp(svc->data, c->service, svc->length) == 0) ||
		     (c->kpop_pop3 && svc->length == 4 && memcmp(svc->data, "pop3", 4) == 0);
	}
	if (!ok)
		snprintf(why, cap, "ticket is for %s, not for a %s/HOST service", name, c->service);
	krb5_free_unparsed_name(ctx, name);
	return ok;
}

int
kp_kpop_accept(const struct kp_conf *c, int rfd, int wfd, int required, char *principal_out,
	       size_t cap)
{
	krb5_context ctx = NULL;
	krb5_auth_context ac = NULL;
	krb5_keytab kt = NULL;
	krb5_rcache rc_ = NULL;
	krb5_ticket *ticket = NULL;
	krb5_flags ap_opts = 0;
	krb5_error_code kret;
	krb5_data req, rep = { 0 }, piece;
	struct hs h;
	unsigned char *buf = NULL;
	size_t len;
	char *client = NULL, why[512] = "";
	unsigned char verdict;
	int rc;

	principal_out[0] = '\0';
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

	/* 2. the AP-REQ, checked against every key in our keytab. */
	if ((rc = read_msg(&h, buf, KP_AUTH_TOKEN_MAX, &len, "AP-REQ")) != 0)
		goto cleanup;
	rc = KP_E_AUTH;
	if ((kret = krb5_init_context(&ctx)) != 0) {
		kp_log(KP_LOG_ERR, "KPOP: krb5_init_context: %ld", (long)kret);
		goto cleanup;
	}
	if ((kret = krb5_auth_con_init(ctx, &ac)) != 0)
		goto krb_fail;
	/* With no server principal given, krb5_rd_req would skip the replay cache:
	 * set one explicitly (in KRB5RCACHEDIR / rcache_dir). */
	piece.data = c->service;
	piece.length = (unsigned int)strlen(c->service);
	if ((kret = krb5_get_server_rcache(ctx, &piece, &rc_)) != 0)
		goto krb_fail;
	if ((kret = krb5_auth_con_setrcache(ctx, ac, rc_)) != 0)
		goto krb_fail;
	kret = c->keytab != NULL ? krb5_kt_resolve(ctx, c->keytab, &kt) : krb5_kt_default(ctx, &kt);
	if (kret != 0)
		goto krb_fail;
	req.data = (char *)buf;
	req.length = (unsigned int)len;
	kret = krb5_rd_req(ctx, &ac, &req, NULL, kt, &ap_opts, &ticket);
	if (kret != 0) {
		send_krb_error(ctx, &h, kret);
		goto krb_fail;
	}
	if (!service_ok(c, ctx, ticket->server, why, sizeof(why))) {
		kp_log(KP_LOG_WARN, "KPOP: refused: %s", why);
		send_krb_error(ctx, &h, KRB5KRB_AP_WRONG_PRINC);
		goto cleanup;
	}
	if ((kret = krb5_unparse_name(ctx, ticket->enc_part2->client, &client)) != 0)
		goto krb_fail;
	if (strlen(client) >= cap) {
		kp_log(KP_LOG_WARN, "KPOP: client principal too long");
		goto cleanup;
	}
	/* 3. success: four zero bytes, then the AP-REP if mutual auth was asked for. */
	len = 0;
	if (ap_opts & AP_OPTS_MUTUAL_REQUIRED) {
		if ((kret = krb5_mk_rep(ctx, ac, &rep)) != 0) {
			rc = KP_E_AUTH;
			goto krb_fail;
		}
		rc = write_msgs(&h, "", 0, rep.data, rep.length);
	} else {
		rc = write_msg(&h, "", 0);
	}
	if (rc != 0)
		goto cleanup;
	memcpy(principal_out, client, strlen(client) + 1);
	kp_log(KP_LOG_INFO, "KPOP: authenticated principal=%s mutual=%s", client,
	       (ap_opts & AP_OPTS_MUTUAL_REQUIRED) ? "yes" : "no");
	rc = KP_KPOP_DONE;
	goto cleanup;

krb_fail:
	{
		const char *m = krb5_get_error_message(ctx, kret);
		const char *hint = kp_krb_why_text(kp_krb5_classify(kret));

		kp_log(KP_LOG_WARN, "KPOP: authentication failed: %s%s%s", m,
		       hint != NULL ? " -- " : "", hint != NULL ? hint : "");
		krb5_free_error_message(ctx, m);
	}
	rc = KP_E_AUTH;
cleanup:
	if (ctx != NULL) {
		krb5_free_data_contents(ctx, &rep);
		if (client != NULL)
			krb5_free_unparsed_name(ctx, client);
		if (ticket != NULL)
			krb5_free_ticket(ctx, ticket);
		if (kt != NULL)
			krb5_kt_close(ctx, kt);
		if (ac != NULL)
			krb5_auth_con_free(ctx, ac); /* also closes the rcache */
		krb5_free_context(ctx);
	}
	free(buf);
	return rc;
}
