/* session.h - one POP3 session (RFC 1939, RFC 2449, RFC 5034) on an established
 * connection.  The session does not know how its process was created: it gets the
 * descriptors, the configuration and the peer's name. */
#ifndef KP_SESSION_H
#define KP_SESSION_H

#include <openssl/ssl.h>
#include "server/conf.h"

struct kp_authc;

struct kp_session_params {
	const struct kp_conf *conf;
	int rfd, wfd;          /* the connection (the same socket, or stdin/stdout) */
	const char *peer;      /* "ip;port" of the client, for SASL and logs */
	const char *local;     /* "ip;port" of our end */
	/* The connection already authenticated with legacy KPOP: USER names the
	 * maildrop, which the auth service authorizes for the principal it verified. */
	int kpop;
	struct kp_authc *authc; /* the auth service, for this session's requests */
	SSL_CTX *tls_ctx;      /* TLS configured: STLS offered; NULL: no TLS */
	int implicit_tls;      /* pop3s: TLS handshake before the greeting */
	long long start_ms;    /* connect time (kp_io_now_ms); 0: now.  login_timeout
				* counts from here */
	int greeted;           /* the greeting went out already (the master sent it) */
	/* Called once when the session logged in as user (the daemon's per-address
	 * limits count connections that have not; the process title names the user);
	 * may be NULL. */
	void (*logged_in)(void *arg, const char *user, const char *mech);
	void *logged_in_arg;
	/* System-user mode (server/split.c).  handover_fd >= 0: this is the front; at
	 * login the session parent answers on handover_fd and serves TRANSACTION there,
	 * and this process relays.  verdict != NULL: this is the back; rfd/wfd are the
	 * data socket: log in with the verdict (its login reply is the first line) and
	 * serve TRANSACTION. */
	int handover_fd;
	const struct kp_ipc_verdict *verdict;
	const char *mech;      /* the back: the front's way in (GSSAPI, PLAIN, USER,
				* KPOP) for the live-session list; may be NULL */
};

/* Greet, serve commands until QUIT, EOF, timeout or too many errors, apply
 * deletions if the client QUIT in TRANSACTION.  Returns 0 if the session ended with
 * QUIT, else a KP_E_* describing why it ended. */
int kp_session_run(const struct kp_session_params *p);

#endif
