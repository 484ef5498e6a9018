/* bsess.c - the benchmark client's sessions, on common/'s line engine, TLS layer
 * and base64, with RFC 4752 written directly on GSS-API (no libsasl2 in the way). */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <gssapi/gssapi_krb5.h>

#include "bsess.h"
#include "kp_b64.h"
#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_pop3.h"
#include "kp_tls.h"

/* Longest line read: an AUTH continuation carries a base64 token. */
#define LINE_MAX_OCTETS KP_AUTH_LINE_MAX
/* Largest security-layer packet accepted from the server (what we announce). */
#define LAYER_MAXBUF 65536
/* Network timeout of one wait; a bench client stuck longer has failed. */
#define NET_TIMEOUT_MS 30000

static char line[LINE_MAX_OCTETS + 1];

static int __attribute__((format(printf, 2, 3)))
fail(struct bs_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void
gss_fail(struct bs_client *c, const char *what, OM_uint32 maj, OM_uint32 min)
{
	char text[200];

	kp_gss_status_text(maj, min, text, sizeof(text));
	fail(c, "%s: %s", what, text);
}

static int
connect_port(struct bs_client *c, int *fd_out)
{
	struct sockaddr_in sa;
	struct timeval tv = { NET_TIMEOUT_MS / 1000, 0 };
	int fd, one = 1;

	*fd_out = -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, "socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* KPOP's krb5_sendauth reads the raw descriptor: bound it too. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return fail(c, "connect 127.0.0.1:%d: %s", c->port, strerror(errno));
	}
	*fd_out = fd;
	return 0;
}

/* One reply line; 0 for +OK, 1 for a "+ " continuation, -1 otherwise (c->err). */
static int
reply(struct bs_client *c, const char *what)
{
	struct kp_pop3_reply r;
	size_t len;
	int rc;

	rc = kp_io_read_line(c->io, line, LINE_MAX_OCTETS, &len);
	if (rc != 0)
		return fail(c, "%s: reading the reply: %s", what, kp_strerror(rc));
	if (kp_pop3_parse_reply(line, &r) != 0)
		return fail(c, "%s: malformed reply '%.80s'", what, line);
	if (r.status == KP_POP3_OK)
		return 0;
	if (r.status == KP_POP3_CONT)
		return 1;
	return fail(c, "%s: %.160s", what, line);
}

static int
command(struct bs_client *c, const char *cmd, const char *arg)
{
	int rc;

	if (arg != NULL)
		rc = kp_io_printf(c->io, "%s %s\r\n", cmd, arg);
	else
		rc = kp_io_printf(c->io, "%s\r\n", cmd);
	if (rc != 0 || kp_io_flush(c->io) != 0)
		return fail(c, "%s: write error", cmd);
	return reply(c, cmd) == 0 ? 0 : -1;
}

/* Skip a multi-line body (CAPA) up to its "." line. */
static int
skip_multiline(struct bs_client *c, const char *what)
{
	size_t len;
	int rc;

	for (;;) {
		rc = kp_io_read_line(c->io, line, LINE_MAX_OCTETS, &len);
		if (rc != 0)
			return fail(c, "%s: reading the body: %s", what, kp_strerror(rc));
		if (len == 1 && line[0] == '.')
			return 0;
	}
}

/* QUIT, then wait for the server to close: only then is its maildrop lock gone. */
static int
quit(struct bs_client *c)
{
	unsigned char buf[512];
	ssize_t r;

	if (command(c, "QUIT", NULL) != 0)
		return -1;
	while ((r = kp_io_read_some(c->io, buf, sizeof(buf))) > 0)
		;
	if (r != KP_E_EOF)
		return fail(c, "after QUIT: %s", kp_strerror((int)r));
	return 0;
}

/* --- the RFC 4752 security layer as a kp_io layer --------------------------- */

struct glayer {
	gss_ctx_id_t ctx;
	int fd;
	int conf;
	size_t peer_max;         /* the server's largest acceptable packet */
	unsigned char *pkt;      /* one wrapped packet as read */
	size_t pktcap;
	gss_buffer_desc dec;     /* its unwrapped contents, consumed from dpos */
	size_t dpos;
};

static int
read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
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

static ssize_t
glayer_read(void *ctx, void *buf, size_t n)
{
	struct glayer *g = ctx;
	unsigned char hdr[4];
	gss_buffer_desc in;
	OM_uint32 maj, min;
	size_t len, avail;
	int rc;

	if (g->dpos == g->dec.length) {
		gss_release_buffer(&min, &g->dec);
		g->dpos = 0;
		rc = read_full(g->fd, hdr, 4);
		if (rc == KP_E_EOF)
			return 0;
		if (rc != 0)
			return rc;
		len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (len == 0 || len > LAYER_MAXBUF + 1024)
			return KP_E_PROTO;
		if (len > g->pktcap) {
			unsigned char *p = realloc(g->pkt, len);

			if (p == NULL)
				return KP_E_NOMEM;
			g->pkt = p;
			g->pktcap = len;
		}
		if ((rc = read_full(g->fd, g->pkt, len)) != 0)
			return rc == KP_E_EOF ? KP_E_PROTO : rc;
		in.value = g->pkt;
		in.length = len;
		maj = gss_unwrap(&min, g->ctx, &in, &g->dec, NULL, NULL);
		if (GSS_ERROR(maj))
			return KP_E_LAYER;
		if (g->dec.length == 0)
			return KP_E_PROTO;
	}
	avail = g->dec.length - g->dpos;
	if (n > avail)
		n = avail;
	memcpy(buf, (unsigned char *)g->dec.value + g->dpos, n);
	g->dpos += n;
	return (ssize_t)n;
}

static ssize_t
glayer_write(void *ctx, const void *buf, size_t n)
{
	struct glayer *g = ctx;
	gss_buffer_desc in, out;
	OM_uint32 maj, min;
	unsigned char hdr[4];
	int conf_state, rc;

	/* Commands are short; a packet of 4 KiB stays far below any server's maximum. */
	if (n > 4096)
		n = 4096;
	if (g->peer_max != 0 && n > g->peer_max / 2)
		n = g->peer_max / 2;
	in.value = (void *)buf;
	in.length = n;
	maj = gss_wrap(&min, g->ctx, g->conf, GSS_C_QOP_DEFAULT, &in, &conf_state, &out);
	if (GSS_ERROR(maj))
		return KP_E_LAYER;
	hdr[0] = (unsigned char)(out.length >> 24);
	hdr[1] = (unsigned char)(out.length >> 16);
	hdr[2] = (unsigned char)(out.length >> 8);
	hdr[3] = (unsigned char)out.length;
	rc = kp_write_all(g->fd, hdr, 4);
	if (rc == 0)
		rc = kp_write_all(g->fd, out.value, out.length);
	gss_release_buffer(&min, &out);
	return rc == 0 ? (ssize_t)n : rc;
}

static size_t
glayer_pending(void *ctx)
{
	struct glayer *g = ctx;

	return g->dec.length - g->dpos;
}

static void
glayer_free(struct glayer *g)
{
	OM_uint32 min;

	if (g == NULL)
		return;
	gss_release_buffer(&min, &g->dec);
	free(g->pkt);
	free(g);
}

/* --- AUTH GSSAPI ------------------------------------------------------------ */

static int
send_token(struct bs_client *c, const gss_buffer_desc *tok)
{
	static char b64[KP_B64_ENCLEN(KP_AUTH_TOKEN_MAX)];
	size_t n;

	if (tok->length > KP_AUTH_TOKEN_MAX ||
	    kp_b64_encode(tok->value, tok->length, b64, sizeof(b64), &n) != 0)
		return fail(c, "AUTH: token too big");
	if (kp_io_printf(c->io, "%s\r\n", b64) != 0 || kp_io_flush(c->io) != 0)
		return fail(c, "AUTH: write error");
	return 0;
}

/* The token of a "+ b64" continuation in line; decoded into buf. */
static int
cont_token(struct bs_client *c, unsigned char *buf, size_t cap, size_t *len_out)
{
	const char *p = line + 1;

	while (*p == ' ')
		p++;
	if (kp_b64_decode(p, strlen(p), buf, cap, len_out) != 0)
		return fail(c, "AUTH: bad base64 from the server");
	return 0;
}

/* AUTH GSSAPI with mutual authentication; on return the context is open and, for a
 * layer, the layer sits under c->io (*g_out, freed by the caller). */
static int
auth_gssapi(struct bs_client *c, gss_ctx_id_t *ctx, struct glayer **g_out)
{
	static unsigned char tokbuf[KP_AUTH_TOKEN_MAX];
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER, wrapped;
	OM_uint32 maj, min, flags = GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
	unsigned char resp[4];
	size_t n;
	int rc, conf;

	*g_out = NULL;
	if (kp_io_puts(c->io, "AUTH GSSAPI\r\n") != 0 || kp_io_flush(c->io) != 0)
		return fail(c, "AUTH: write error");
	if (reply(c, "AUTH GSSAPI") != 1)
		return -1;
	for (;;) {
		maj = gss_init_sec_context(&min, c->cred, ctx, c->target, (gss_OID)gss_mech_krb5,
					   flags, 0, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out,
					   NULL, NULL);
		if (GSS_ERROR(maj)) {
			gss_fail(c, "gss_init_sec_context", maj, min);
			return -1;
		}
		rc = send_token(c, &out);
		gss_release_buffer(&min, &out);
		if (rc != 0)
			return -1;
		if (reply(c, "AUTH token") != 1)
			return -1;
		if (maj == GSS_S_COMPLETE)
			break;
		if (cont_token(c, tokbuf, sizeof(tokbuf), &n) != 0)
			return -1;
		in.value = tokbuf;
		in.length = n;
	}
	/* The server's security-layer offer: 4 octets, wrapped. */
	if (cont_token(c, tokbuf, sizeof(tokbuf), &n) != 0)
		return -1;
	in.value = tokbuf;
	in.length = n;
	maj = gss_unwrap(&min, *ctx, &in, &out, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_fail(c, "gss_unwrap (layer offer)", maj, min);
		return -1;
	}
	if (out.length != 4) {
		gss_release_buffer(&min, &out);
		return fail(c, "AUTH: layer offer of %zu octets", out.length);
	}
	memcpy(resp, out.value, 4);
	gss_release_buffer(&min, &out);
	if (!(resp[0] & c->layer))
		return fail(c, "AUTH: the server does not offer layer 0x%x (offer 0x%02x)",
			    c->layer, resp[0]);
	{
		size_t peer_max = (size_t)resp[1] << 16 | (size_t)resp[2] << 8 | resp[3];

		resp[0] = (unsigned char)c->layer;
		resp[1] = resp[2] = resp[3] = 0;
		if (c->layer != BS_LAYER_NONE)
			resp[1] = LAYER_MAXBUF >> 16; /* 65536 */
		in.value = resp;
		in.length = 4;
		maj = gss_wrap(&min, *ctx, 0, GSS_C_QOP_DEFAULT, &in, &conf, &wrapped);
		if (GSS_ERROR(maj)) {
			gss_fail(c, "gss_wrap (layer choice)", maj, min);
			return -1;
		}
		rc = send_token(c, &wrapped);
		gss_release_buffer(&min, &wrapped);
		if (rc != 0 || reply(c, "AUTH final") != 0)
			return -1;
		if (c->layer != BS_LAYER_NONE) {
			struct glayer *g = calloc(1, sizeof(*g));
			struct kp_io_layer l;

			if (g == NULL)
				return fail(c, "out of memory");
			g->ctx = *ctx;
			g->fd = c->io->rfd;
			g->conf = c->layer == BS_LAYER_PRIVACY;
			g->peer_max = peer_max;
			l.read = glayer_read;
			l.write = glayer_write;
			l.pending = glayer_pending;
			l.ctx = g;
			*g_out = g;
			if (kp_io_buffered(c->io) != 0)
				return fail(c, "AUTH: input after +OK before the layer");
			if (kp_io_set_layer(c->io, &l) != 0)
				return fail(c, "AUTH: cannot start the layer");
		}
	}
	return 0;
}

/* --- sessions --------------------------------------------------------------- */

/* Connect (TLS if configured) and read the greeting. */
static int
open_session(struct bs_client *c, int *fd_out, struct kp_tls **tls_out)
{
	char err[200];

	*tls_out = NULL;
	if (connect_port(c, fd_out) != 0)
		return -1;
	kp_io_init(c->io, *fd_out, *fd_out, NET_TIMEOUT_MS);
	if (c->tls && kp_tls_start(c->io, c->tls_ctx, c->host, tls_out, err, sizeof(err)) != 0)
		return fail(c, "TLS: %s", err);
	return reply(c, "greeting") == 0 ? 0 : -1;
}

/* Legacy KPOP: krb5_sendauth before the greeting, then USER/PASS. */
static int
kpop_handshake(struct bs_client *c, int fd)
{
	krb5_auth_context actx = NULL;
	krb5_error *kerr = NULL;
	krb5_ap_rep_enc_part *rep = NULL;
	krb5_principal server = NULL;
	krb5_error_code kret;
	int rc = -1;

	kret = krb5_sname_to_principal(c->kctx, c->host, c->service, KRB5_NT_SRV_HST, &server);
	if (kret == 0)
		kret = krb5_sendauth(c->kctx, &actx, &fd, "KPOPV1.0", NULL, server,
				     AP_OPTS_MUTUAL_REQUIRED, NULL, NULL, c->ccache, &kerr,
				     &rep, NULL);
	if (kret != 0) {
		const char *m = krb5_get_error_message(c->kctx, kret);

		fail(c, "krb5_sendauth: %s%s%.*s", m, kerr != NULL ? "; server: " : "",
		     kerr != NULL ? (int)kerr->text.length : 0,
		     kerr != NULL ? kerr->text.data : "");
		krb5_free_error_message(c->kctx, m);
	} else {
		rc = 0;
	}
	if (kerr != NULL)
		krb5_free_error(c->kctx, kerr);
	if (rep != NULL)
		krb5_free_ap_rep_enc_part(c->kctx, rep);
	if (actx != NULL)
		krb5_auth_con_free(c->kctx, actx);
	if (server != NULL)
		krb5_free_principal(c->kctx, server);
	return rc;
}

/* RETR's body up to the terminating ".": counts the octets without looking at lines. */
static int
read_retr_body(struct bs_client *c, unsigned long long *octets_out)
{
	static unsigned char buf[KP_IO_RBUF];
	static const char end[] = "\r\n.\r\n";
	unsigned char win[8];   /* the last octets seen, then the head of this read */
	size_t tail = 2, k, keep;
	unsigned long long n = 0;
	ssize_t r;

	memcpy(win, "\r\n", 2); /* the +OK line's CRLF may start the terminator */
	for (;;) {
		r = kp_io_read_some(c->io, buf, sizeof(buf));
		if (r <= 0)
			return fail(c, "RETR: %s after %llu octets", kp_strerror((int)r), n);
		n += (unsigned long long)r;
		k = (size_t)r < 4 ? (size_t)r : 4;
		memcpy(win + tail, buf, k);
		if (memmem(win, tail + k, end, 5) != NULL || memmem(buf, (size_t)r, end, 5) != NULL)
			break;
		if ((size_t)r >= 4) {
			memcpy(win, buf + r - 4, 4);
			tail = 4;
		} else { /* win holds all of the old tail and this short read */
			keep = tail + k < 4 ? tail + k : 4;
			memmove(win, win + tail + k - keep, keep);
			tail = keep;
		}
	}
	*octets_out = n;
	return 0;
}

/* Tear down what bs_session / bs_fetch_session set up (any of it may be absent). */
static void
session_end(struct bs_client *c, struct glayer *g, gss_ctx_id_t ctx, struct kp_tls *tls, int fd)
{
	OM_uint32 min;

	kp_io_set_layer(c->io, NULL);
	glayer_free(g);
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	kp_tls_free(tls);
	if (fd >= 0)
		close(fd);
}

int
bs_session(struct bs_client *c, enum bs_kind kind, unsigned long long *retr_octets_out)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	struct glayer *g = NULL;
	struct kp_tls *tls = NULL;
	char num[32];
	int fd = -1, rc = -1;

	*retr_octets_out = 0;
	c->err[0] = '\0';
	if (kind == BS_KPOP) {
		if (connect_port(c, &fd) != 0 || kpop_handshake(c, fd) != 0)
			goto cleanup;
		kp_io_init(c->io, fd, fd, NET_TIMEOUT_MS);
		if (reply(c, "greeting") != 0)
			goto cleanup;
	} else if (open_session(c, &fd, &tls) != 0) {
		goto cleanup;
	}
	switch (kind) {
	case BS_CAPA:
		if (command(c, "CAPA", NULL) != 0 || skip_multiline(c, "CAPA") != 0)
			goto cleanup;
		break;
	case BS_KPOP:
	case BS_USERPASS:
		if (command(c, "USER", c->user) != 0 ||
		    command(c, "PASS", kind == BS_KPOP ? "krb_ticket" : c->password) != 0 ||
		    command(c, "STAT", NULL) != 0)
			goto cleanup;
		break;
	case BS_GSSAPI:
		if (auth_gssapi(c, &ctx, &g) != 0 || command(c, "STAT", NULL) != 0)
			goto cleanup;
		break;
	case BS_RETR:
		snprintf(num, sizeof(num), "%lu", c->msg);
		if (auth_gssapi(c, &ctx, &g) != 0 || command(c, "RETR", num) != 0 ||
		    read_retr_body(c, retr_octets_out) != 0)
			goto cleanup;
		break;
	case BS_FETCH: /* bs_fetch_session's */
		fail(c, "bs_session: use bs_fetch_session");
		goto cleanup;
	}
	rc = quit(c);
cleanup:
	session_end(c, g, ctx, tls, fd);
	return rc;
}

/* "+OK N SIZE" (the STAT reply left in line): N. */
static int
stat_count(struct bs_client *c, unsigned long *n_out)
{
	const char *p = line + 3;
	char num[24];
	size_t k = 0;

	while (*p == ' ')
		p++;
	while (p[k] >= '0' && p[k] <= '9' && k < sizeof(num) - 1) {
		num[k] = p[k];
		k++;
	}
	num[k] = '\0';
	if (k == 0 || kp_parse_ulong(num, 0, 100000000, n_out) != 0)
		return fail(c, "STAT: malformed reply '%.80s'", line);
	return 0;
}

int
bs_fetch_session(struct bs_client *c, unsigned long *msgs_out, unsigned long long *octets_out)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	struct glayer *g = NULL;
	struct kp_tls *tls = NULL;
	unsigned long n = 0, i, want;
	unsigned long long octets = 0, o;
	char num[32], err[200];
	int fd = -1, rc = -1;

	*msgs_out = 0;
	*octets_out = 0;
	c->err[0] = '\0';
	if (c->auth == BS_AUTH_KPOP) {
		if (connect_port(c, &fd) != 0 || kpop_handshake(c, fd) != 0)
			goto cleanup;
		kp_io_init(c->io, fd, fd, NET_TIMEOUT_MS);
		if (reply(c, "greeting") != 0)
			goto cleanup;
	} else if (open_session(c, &fd, &tls) != 0) {
		goto cleanup;
	}
	if (c->stls && !c->tls) {
		if (command(c, "STLS", NULL) != 0)
			goto cleanup;
		if (kp_io_buffered(c->io) != 0) {
			fail(c, "STLS: input after +OK before the handshake");
			goto cleanup;
		}
		if (kp_tls_start(c->io, c->tls_ctx, c->host, &tls, err, sizeof(err)) != 0) {
			fail(c, "STLS: %s", err);
			goto cleanup;
		}
	}
	switch (c->auth) {
	case BS_AUTH_GSSAPI:
		if (auth_gssapi(c, &ctx, &g) != 0)
			goto cleanup;
		break;
	case BS_AUTH_KPOP:
	case BS_AUTH_USERPASS:
		if (command(c, "USER", c->user) != 0 ||
		    command(c, "PASS", c->auth == BS_AUTH_KPOP ? "krb_ticket" : c->password) != 0)
			goto cleanup;
		break;
	}
	if (command(c, "STAT", NULL) != 0 || stat_count(c, &n) != 0)
		goto cleanup;
	want = n < c->fetch_max ? n : c->fetch_max;
	for (i = 1; i <= want; i++) {
		snprintf(num, sizeof(num), "%lu", i);
		if (command(c, "RETR", num) != 0 || read_retr_body(c, &o) != 0 ||
		    command(c, "DELE", num) != 0)
			goto cleanup;
		octets += o;
	}
	if (quit(c) != 0)
		goto cleanup;
	*msgs_out = want;
	*octets_out = octets;
	rc = 0;
cleanup:
	session_end(c, g, ctx, tls, fd);
	return rc;
}

int
bs_login_hold(struct bs_client *c, int *fd_out)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	struct glayer *g = NULL;
	struct kp_tls *tls = NULL;
	OM_uint32 min;
	int fd = -1, rc = -1;

	*fd_out = -1;
	c->err[0] = '\0';
	if (c->tls)
		return fail(c, "idle sessions are plaintext");
	if (open_session(c, &fd, &tls) != 0 || auth_gssapi(c, &ctx, &g) != 0 ||
	    command(c, "STAT", NULL) != 0)
		goto cleanup;
	*fd_out = fd;
	fd = -1;
	rc = 0;
cleanup:
	kp_io_set_layer(c->io, NULL);
	glayer_free(g);
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- set-up ------------------------------------------------------------------ */

int
bs_client_init(struct bs_client *c)
{
	krb5_principal me = NULL, server = NULL;
	krb5_creds creds, in, *out = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_error_code kret;
	gss_buffer_desc nb;
	OM_uint32 maj, min;
	char name[300];
	int have_creds = 0, rc = -1;

	c->io = malloc(sizeof(*c->io));
	if (c->io == NULL)
		return fail(c, "out of memory");
	c->cred = GSS_C_NO_CREDENTIAL;
	c->target = GSS_C_NO_NAME;
	if (!c->krb) /* CAPA and USER/PASS need no tickets */
		return 0;
	memset(&creds, 0, sizeof(creds));
	if ((kret = krb5_init_context(&c->kctx)) != 0)
		return fail(c, "krb5_init_context: %d", kret);
	kret = krb5_parse_name(c->kctx, c->user, &me);
	if (kret == 0)
		kret = krb5_get_init_creds_opt_alloc(c->kctx, &opt);
	if (kret == 0)
		kret = krb5_get_init_creds_password(c->kctx, &creds, me, c->password, NULL, NULL,
						    0, NULL, opt);
	if (kret == 0) {
		have_creds = 1;
		kret = krb5_cc_new_unique(c->kctx, "MEMORY", NULL, &c->ccache);
	}
	if (kret == 0)
		kret = krb5_cc_initialize(c->kctx, c->ccache, me);
	if (kret == 0)
		kret = krb5_cc_store_cred(c->kctx, c->ccache, &creds);
	if (kret == 0)
		kret = krb5_sname_to_principal(c->kctx, c->host, c->service, KRB5_NT_SRV_HST,
					       &server);
	if (kret == 0) {
		memset(&in, 0, sizeof(in));
		in.client = me;
		in.server = server;
		kret = krb5_get_credentials(c->kctx, 0, c->ccache, &in, &out);
	}
	if (kret != 0) {
		const char *m = krb5_get_error_message(c->kctx, kret);

		fail(c, "tickets for %s: %s", c->user, m);
		krb5_free_error_message(c->kctx, m);
		goto cleanup;
	}
	maj = gss_krb5_import_cred(&min, c->ccache, NULL, NULL, &c->cred);
	if (GSS_ERROR(maj)) {
		gss_fail(c, "gss_krb5_import_cred", maj, min);
		goto cleanup;
	}
	snprintf(name, sizeof(name), "%s@%s", c->service, c->host);
	nb.value = name;
	nb.length = strlen(name);
	maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &c->target);
	if (GSS_ERROR(maj)) {
		gss_fail(c, "gss_import_name", maj, min);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (out != NULL)
		krb5_free_creds(c->kctx, out);
	if (have_creds)
		krb5_free_cred_contents(c->kctx, &creds);
	if (opt != NULL)
		krb5_get_init_creds_opt_free(c->kctx, opt);
	if (server != NULL)
		krb5_free_principal(c->kctx, server);
	if (me != NULL)
		krb5_free_principal(c->kctx, me);
	return rc;
}

void
bs_client_free(struct bs_client *c)
{
	OM_uint32 min;

	if (c->target != GSS_C_NO_NAME)
		gss_release_name(&min, &c->target);
	if (c->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &c->cred);
	if (c->kctx != NULL) {
		if (c->ccache != NULL)
			krb5_cc_destroy(c->kctx, c->ccache);
		krb5_free_context(c->kctx);
	}
	free(c->io);
	c->io = NULL;
}
