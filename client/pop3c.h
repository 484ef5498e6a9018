/* pop3c.h - the client's POP3 engine: connection, replies, multi-line responses,
 * streamed message bodies, capabilities.  Built on the shared core (common/). */
#ifndef KP_POP3C_H
#define KP_POP3C_H

#include <stddef.h>
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_pop3.h"
#include "kp_saslio.h"
#include "kp_tls.h"

enum pop3c_state {
	PC_CONNECTED,     /* TCP up, nothing read */
	PC_AUTHORIZATION, /* greeting read */
	PC_TRANSACTION,   /* authenticated */
	PC_QUIT,          /* QUIT sent and answered */
	PC_FAILED         /* the connection is unusable */
};

struct pop3c {
	struct kp_io io;
	int fd;
	enum pop3c_state state;
	char host[256];
	/* CAPA results */
	int have_capa, capa_pipelining, capa_top, capa_uidl, capa_user, capa_stls;
	int capa_resp_codes, capa_sasl_gssapi;
	int not_pop3;             /* the greeting was not POP3 at all (HTTP, TLS, ...) */
	int in_auth;              /* AUTH exchange: the trace redacts tokens both ways */
	int auth_rounds;          /* AUTH: the server's "+" challenges after our first
				   * token (0 at a refusal: it refused the ticket) */
	int timeout_s;
	char impl[128];
	/* protection in use; owned, freed by pop3c_close */
	struct kp_tls *tls;
	void *sasl_conn;          /* sasl_conn_t kept alive for a security layer */
	struct kp_saslio *layer;
	unsigned ssf;
	/* the last reply */
	char line[KP_CLIENT_REPLY_MAX + 1];
	struct kp_pop3_reply reply;
};

/* Connect to host:port (timeout_s for the connect and every later wait).  Prints
 * the reason on failure.  Returns 0 or KP_E_IO / KP_E_TIMEOUT. */
int pop3c_connect(struct pop3c *c, const char *host, const char *port, int timeout_s);

/* The one place the client's state changes (logged at debug level). */
void pop3c_set_state(struct pop3c *c, enum pop3c_state next);

/* Read the greeting.  0, KP_E_PROTO (-ERR or garbage), or an I/O error.  Every
 * failure is explained in one sentence (closed at once, silent, TLS on a plain
 * port, not POP3); not_pop3 is set for the last two. */
int pop3c_greeting(struct pop3c *c);

/* Send CAPA and record the capabilities; a -ERR answer leaves them all unset. */
int pop3c_capa(struct pop3c *c);

/* Queue one command line (CRLF added); it goes out with the next read or flush. */
int pop3c_send(struct pop3c *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read one reply line into c->line / c->reply.  Returns KP_POP3_OK, KP_POP3_ERR,
 * KP_POP3_CONT (> 0), or a negative KP_E_* (the connection is then unusable).
 * max: line cap (KP_CLIENT_REPLY_MAX, or KP_AUTH_LINE_MAX for AUTH challenges,
 * in which case the caller's buffer big is used instead of c->line). */
int pop3c_reply(struct pop3c *c);
int pop3c_reply_big(struct pop3c *c, char *big, size_t max);

/* Read the lines of a multi-line response up to ".", un-stuffed, each passed to
 * fn (NUL-terminated, without CRLF).  fn returns 0 or a KP_E_* to stop.  More than
 * KP_CLIENT_LINES_MAX lines is KP_E_TOOBIG and leaves the connection unusable. */
int pop3c_lines(struct pop3c *c, int (*fn)(void *arg, const char *line), void *arg);

/* Stream a message body up to "." into fn (LF line ends), reading at most max octets
 * of the wire (dot-stuffed, with CRLF, the terminating line included).  Returns 0 or
 * a KP_E_*: KP_E_TOOBIG when the body goes past max (the rest is not read: the
 * connection is unusable); I/O: the connection is unusable; fn's own error: passed
 * back, after the rest of the body has been read and dropped so the connection stays
 * in step. */
int pop3c_body(struct pop3c *c, unsigned long long max,
	       int (*fn)(void *arg, const char *data, size_t n), void *arg);

/* TLS on the connection now (implicit TLS before the greeting, or after STLS's
 * +OK), verifying host.  Prints the reason and returns -1 on failure. */
int pop3c_tls(struct pop3c *c, SSL_CTX *ctx, const char *host);

/* STLS, then CAPA again (RFC 2595: what was learnt before TLS is forgotten). */
int pop3c_stls(struct pop3c *c, SSL_CTX *ctx, const char *host);

/* QUIT and wait for its answer.  Returns 0 if +OK. */
int pop3c_quit(struct pop3c *c);

void pop3c_close(struct pop3c *c);

#endif
