/* pop3c.c - the client's POP3 engine. */
#include "config.h"
#include "client/pop3c.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_dot.h"
#include "kp_err.h"
#include "kp_log.h"
#include <sasl/sasl.h>
#include "client/explain.h"

static const char *state_names[] = { "CONNECTED", "AUTHORIZATION", "TRANSACTION", "QUIT",
				     "FAILED" };

void
pop3c_set_state(struct pop3c *c, enum pop3c_state next)
{
	if (c->state != next)
		kp_log(KP_LOG_DEBUG, "state %s -> %s", state_names[c->state], state_names[next]);
	c->state = next;
}

static int
connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, int timeout_s)
{
	struct pollfd p;
	int flags = fcntl(fd, F_GETFL), err = 0, r;
	socklen_t el = sizeof(err);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	r = connect(fd, sa, len);
	if (r != 0 && errno != EINPROGRESS)
		return -1;
	if (r != 0) {
		p.fd = fd;
		p.events = POLLOUT;
		do
			r = poll(&p, 1, timeout_s * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

int
pop3c_connect(struct pop3c *c, const char *host, const char *port, int timeout_s)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, saved = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->host, sizeof(c->host), "%s", host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "kpop: cannot resolve %s: %s\n", host, gai_strerror(rc));
		return KP_E_IO;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_s) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "kpop: cannot connect to %s port %s: %s\n", host, port,
			strerror(saved));
		return saved == ETIMEDOUT ? KP_E_TIMEOUT : KP_E_IO;
	}
	{
		/* each command, pipelined batch and KPOP frame is one message; Nagle
		 * would hold krb5_sendauth's split writes for the server's delayed ACK */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->fd = fd;
	c->timeout_s = timeout_s;
	kp_log(KP_LOG_DEBUG, "connected to %s port %s", host, port);
	kp_io_init(&c->io, fd, fd, timeout_s * 1000);
	c->state = PC_CONNECTED;
	return 0;
}

static int
read_reply(struct pop3c *c, char *buf, size_t max)
{
	size_t len;
	int rc;

	rc = kp_io_read_line(&c->io, buf, max, &len);
	if (rc != 0) {
		pop3c_set_state(c, PC_FAILED);
		return rc == KP_E_TOOLONG || rc == KP_E_NUL ? KP_E_PROTO : rc;
	}
	if (c->in_auth && len >= 2 && buf[0] == '+' && buf[1] == ' ')
		kp_log_proto("S: +", buf + 2, len - 2, 1); /* a Kerberos token */
	else
		kp_log_proto("S:", buf, len, 0);
	if (c->state == PC_CONNECTED)
		return (int)KP_POP3_OK; /* the greeting: pop3c_greeting judges it */
	if (kp_pop3_parse_reply(buf, &c->reply) != 0) {
		char esc[200];

		kp_log_escape(buf, len, esc, sizeof(esc));
		kp_log(KP_LOG_ERR, "the server sent a malformed reply: %s", esc);
		pop3c_set_state(c, PC_FAILED);
		return KP_E_PROTO;
	}
	return (int)c->reply.status;
}

int
pop3c_reply(struct pop3c *c)
{
	return read_reply(c, c->line, KP_CLIENT_REPLY_MAX);
}

int
pop3c_reply_big(struct pop3c *c, char *big, size_t max)
{
	return read_reply(c, big, max);
}

int
pop3c_send(struct pop3c *c, const char *fmt, ...)
{
	struct kp_buf b;
	va_list ap;
	int rc;

	/* a command, or an AUTH response of up to KP_CLIENT_SEND_MAX; zeroed when
	 * freed since it may carry a token or a password */
	kp_buf_init(&b, KP_CLIENT_SEND_MAX, 1);
	va_start(ap, fmt);
	kp_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (b.err == 0)
		kp_log_proto("C:", (const char *)b.data, b.len, c->in_auth);
	kp_buf_add(&b, "\r\n", 2);
	rc = b.err != 0 ? b.err : kp_io_write(&c->io, b.data, b.len);
	kp_buf_free(&b);
	return rc;
}

/* What the first bytes of a server that is not speaking POP3 look like. */
static const char *
what_is_it(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0x16 && p[1] == 0x03)
		return "it speaks TLS on this port (a POP3S port: use --tls)";
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		return "it is a web server (HTTP), not POP3";
	if (n >= 4 && memcmp(p, "* OK", 4) == 0)
		return "it is an IMAP server, not POP3";
	if (n >= 4 && p[0] == '2' && p[1] == '2' && p[2] == '0')
		return "it is an SMTP or FTP server, not POP3";
	if (n >= 4 && memcmp(p, "SSH-", 4) == 0)
		return "it is an SSH server, not POP3";
	return "that is not a POP3 greeting";
}

int
pop3c_greeting(struct pop3c *c)
{
	unsigned long long before = c->io.bytes_in; /* a KPOP handshake came first */
	int rc = read_reply(c, c->line, KP_CLIENT_REPLY_MAX);
	char safe[EXPLAIN_SAFE_MAX];
	size_t seen;

	/* kp_io_read_line leaves what it read of the line in c->line */
	seen = c->io.bytes_in - before < KP_CLIENT_REPLY_MAX ?
	       (size_t)(c->io.bytes_in - before) : KP_CLIENT_REPLY_MAX;
	if ((rc == KP_E_EOF || rc == KP_E_TIMEOUT) && seen > 0) {
		/* bytes, but never a line: binary from another protocol */
		c->not_pop3 = 1;
		fprintf(stderr, "kpop: %s answered, but %s\n", c->host,
			what_is_it((const unsigned char *)c->line, seen));
		return KP_E_PROTO;
	}
	if (rc == KP_E_EOF) {
		fprintf(stderr, "kpop: %s closed the connection at once, without a greeting "
			"(the server refused the connection, or the port is for another "
			"protocol; a KPOP-only port needs --auth kpop)\n", c->host);
		return rc;
	}
	if (rc == KP_E_TIMEOUT) {
		fprintf(stderr, "kpop: %s accepted the connection but sent no greeting in %d "
			"seconds (a POP3S port waits for TLS: try --tls; a KPOP port waits for "
			"the Kerberos handshake: try --auth kpop)\n", c->host, c->timeout_s);
		return rc;
	}
	if (rc == KP_E_PROTO || (rc == KP_POP3_OK &&
				 kp_pop3_parse_reply(c->line, &c->reply) != 0)) {
		c->not_pop3 = 1;
		pop3c_set_state(c, PC_FAILED);
		fprintf(stderr, "kpop: %s answered, but %s\n", c->host,
			what_is_it((const unsigned char *)c->line,
				   rc == KP_POP3_OK ? strlen(c->line) : seen));
		if (rc == KP_POP3_OK) {
			kp_log(KP_LOG_DEBUG, "greeting: %s", explain_safe(c->line, safe, sizeof(safe)));
		}
		return KP_E_PROTO;
	}
	if (rc < 0) {
		fprintf(stderr, "kpop: reading the greeting of %s failed: %s\n", c->host,
			kp_strerror(rc));
		return rc;
	}
	if (c->reply.status != KP_POP3_OK) {
		fprintf(stderr, "kpop: %s refused the connection: %s\n", c->host,
			explain_safe(c->line, safe, sizeof(safe)));
		return KP_E_PROTO;
	}
	pop3c_set_state(c, PC_AUTHORIZATION);
	return 0;
}

static int
capa_line(void *arg, const char *line)
{
	struct pop3c *c = arg;
	char word[64];
	size_t n = strcspn(line, " ");

	if (n >= sizeof(word))
		return 0;
	memcpy(word, line, n);
	word[n] = '\0';
	if (kp_pop3_is(word, "PIPELINING"))
		c->capa_pipelining = 1;
	else if (kp_pop3_is(word, "TOP"))
		c->capa_top = 1;
	else if (kp_pop3_is(word, "UIDL"))
		c->capa_uidl = 1;
	else if (kp_pop3_is(word, "USER"))
		c->capa_user = 1;
	else if (kp_pop3_is(word, "STLS"))
		c->capa_stls = 1;
	else if (kp_pop3_is(word, "RESP-CODES"))
		c->capa_resp_codes = 1;
	else if (kp_pop3_is(word, "IMPLEMENTATION"))
		snprintf(c->impl, sizeof(c->impl), "%s", line[n] ? line + n + 1 : "");
	else if (kp_pop3_is(word, "SASL")) {
		const char *p = line + n;

		while (*p == ' ') {
			size_t m;

			p++;
			m = strcspn(p, " ");
			if (m == 6 && strncasecmp(p, "GSSAPI", 6) == 0)
				c->capa_sasl_gssapi = 1;
			p += m;
		}
	}
	return 0;
}

int
pop3c_capa(struct pop3c *c)
{
	int rc;

	if ((rc = pop3c_send(c, "CAPA")) != 0)
		return rc;
	rc = pop3c_reply(c);
	if (rc < 0)
		return rc;
	if (rc != KP_POP3_OK)
		return 0; /* an RFC 1939 server without CAPA */
	c->have_capa = 1;
	return pop3c_lines(c, capa_line, c);
}

int
pop3c_lines(struct pop3c *c, int (*fn)(void *arg, const char *line), void *arg)
{
	int rc, fn_rc = 0;
	unsigned long nlines = 0;

	for (;;) {
		size_t len;
		const char *p = c->line;

		rc = kp_io_read_line(&c->io, c->line, KP_CLIENT_REPLY_MAX, &len);
		if (rc != 0) {
			pop3c_set_state(c, PC_FAILED);
			return rc == KP_E_TOOLONG || rc == KP_E_NUL ? KP_E_PROTO : rc;
		}
		if (len == 1 && c->line[0] == '.')
			return fn_rc;
		if (++nlines > KP_CLIENT_LINES_MAX) {
			kp_log(KP_LOG_ERR, "the server sent more than %lu lines in one answer",
			       (unsigned long)KP_CLIENT_LINES_MAX);
			pop3c_set_state(c, PC_FAILED);
			return KP_E_TOOBIG;
		}
		if (c->line[0] == '.')
			p++; /* un-stuff */
		if (fn_rc == 0)
			fn_rc = fn(arg, p);
	}
}

int
pop3c_body(struct pop3c *c, unsigned long long max,
	   int (*fn)(void *arg, const char *data, size_t n), void *arg)
{
	struct kp_unstuff u;
	char out[KP_IO_RBUF + 2];
	int fn_rc = 0, rc;
	unsigned long long wire = 0;

	kp_unstuff_init(&u, 1);
	for (;;) {
		size_t used, outlen;
		int done;

		if ((rc = kp_io_fill(&c->io)) != 0) {
			pop3c_set_state(c, PC_FAILED);
			return rc;
		}
		done = kp_unstuff_feed(&u, (const char *)c->io.rbuf + c->io.rpos,
				       c->io.rlen - c->io.rpos, &used, out, &outlen);
		c->io.rpos += used;
		wire += used;
		if (wire > max) {
			/* checked before the bytes are stored: nothing past the bound is kept */
			pop3c_set_state(c, PC_FAILED);
			return KP_E_TOOBIG;
		}
		if (outlen > 0 && fn_rc == 0)
			fn_rc = fn(arg, out, outlen);
		if (done)
			return fn_rc;
	}
}

int
pop3c_quit(struct pop3c *c)
{
	int rc;

	if ((rc = pop3c_send(c, "QUIT")) != 0)
		return rc;
	rc = pop3c_reply(c);
	if (rc < 0)
		return rc;
	pop3c_set_state(c, PC_QUIT);
	return rc == KP_POP3_OK ? 0 : KP_E_PROTO;
}

int
pop3c_tls(struct pop3c *c, SSL_CTX *ctx, const char *host)
{
	char err[512], desc[128];

	if (kp_tls_start(&c->io, ctx, host, &c->tls, err, sizeof(err)) != 0) {
		char safe[EXPLAIN_SAFE_MAX];

		/* the reason can quote the server's certificate */
		fprintf(stderr, "kpop: TLS with %s failed: %s%s\n", host,
			explain_safe(err, safe, sizeof(safe)),
			strstr(err, "wrong version number") != NULL ||
			strstr(err, "packet length too long") != NULL ?
			" (the server answered in plaintext, not TLS: on a POP3 port use "
			"--starttls instead of --tls)" : "");
		pop3c_set_state(c, PC_FAILED);
		return -1;
	}
	kp_log(KP_LOG_DEBUG, "TLS: %s", kp_tls_describe(c->tls, desc, sizeof(desc)));
	return 0;
}

int
pop3c_stls(struct pop3c *c, SSL_CTX *ctx, const char *host)
{
	int rc;

	pop3c_send(c, "STLS");
	rc = pop3c_reply(c);
	if (rc != KP_POP3_OK) {
		char safe[EXPLAIN_SAFE_MAX];

		fprintf(stderr, "kpop: %s refused STLS: %s\n", host,
			rc < 0 ? kp_strerror(rc) : explain_safe(c->reply.text, safe, sizeof(safe)));
		return -1;
	}
	/* nothing the server sent before the handshake may count as protected */
	kp_io_discard_input(&c->io);
	if (pop3c_tls(c, ctx, host) != 0)
		return -1;
	c->have_capa = c->capa_pipelining = c->capa_top = c->capa_uidl = 0;
	c->capa_user = c->capa_stls = c->capa_resp_codes = c->capa_sasl_gssapi = 0;
	return pop3c_capa(c) < 0 ? -1 : 0;
}

void
pop3c_close(struct pop3c *c)
{
	if (c->fd >= 0) {
		kp_io_flush(&c->io);
		kp_tls_free(c->tls);
		c->tls = NULL;
		close(c->fd);
	}
	c->fd = -1;
	kp_saslio_free(c->layer);
	c->layer = NULL;
	if (c->sasl_conn != NULL) {
		sasl_conn_t *conn = c->sasl_conn;

		sasl_dispose(&conn);
		c->sasl_conn = NULL;
	}
}
