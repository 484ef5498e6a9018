/* bsess.h - one benchmark client's POP3 sessions: connect, AUTH GSSAPI (RFC 4752,
 * optionally with a security layer), legacy KPOP, USER/PASS over TLS, CAPA, RETR;
 * and the soak's fetch-and-delete session over any of them, STLS included. */
#ifndef BSESS_H
#define BSESS_H

#include <stddef.h>
#include <gssapi/gssapi.h>
#include <krb5.h>
#include <openssl/ssl.h>
#include "kp_io.h"

enum bs_kind { BS_CAPA, BS_GSSAPI, BS_KPOP, BS_USERPASS, BS_RETR, BS_FETCH };
enum bs_layer { BS_LAYER_NONE = 1, BS_LAYER_INTEGRITY = 2, BS_LAYER_PRIVACY = 4 };
/* How bs_fetch_session logs in. */
enum bs_auth { BS_AUTH_GSSAPI, BS_AUTH_KPOP, BS_AUTH_USERPASS };

/* What every session of one client needs; set up once per client process. */
struct bs_client {
	int port;
	const char *host;        /* host part of the service principal and TLS name */
	const char *service;     /* "pop" */
	enum bs_layer layer;
	int tls;                 /* implicit TLS from the first byte (pop3s) */
	int stls;                /* bs_fetch_session: STLS after the greeting */
	enum bs_auth auth;       /* bs_fetch_session: the login */
	unsigned long fetch_max; /* bs_fetch_session: RETR + DELE at most this many */
	SSL_CTX *tls_ctx;
	const char *user;        /* mailbox / principal name */
	const char *password;    /* Kerberos initial tickets; PASS for USER/PASS */
	int krb;                 /* fetch tickets in bs_client_init */
	unsigned long msg;       /* RETR this message */
	krb5_context kctx;
	krb5_ccache ccache;      /* MEMORY: TGT and service ticket, fetched once */
	gss_cred_id_t cred;
	gss_name_t target;
	struct kp_io *io;        /* one big buffer set, reused session after session */
	char err[256];           /* why the last session failed */
};

/* Get a TGT for user with password into a new MEMORY ccache and the service ticket
 * for service/host, so that sessions never talk to the KDC.  Returns 0 or -1 with
 * the reason in c->err. */
int bs_client_init(struct bs_client *c);
void bs_client_free(struct bs_client *c);

/* One whole session of the given kind, ended by QUIT and the server's close (so that
 * the maildrop is free for the next one).  Returns 0 or -1 with the reason in
 * c->err; *retr_octets_out gets the octets of a RETR reply body (BS_RETR). */
int bs_session(struct bs_client *c, enum bs_kind kind, unsigned long long *retr_octets_out);

/* The soak's session: connect (pop3s, or STLS after the greeting when c->stls),
 * log in as c->auth says (AUTH GSSAPI with c->layer, KPOP + USER/PASS, or USER/PASS),
 * STAT, RETR and DELE the first min(count, c->fetch_max) messages, QUIT.  Only once
 * the server answered QUIT with +OK (its UPDATE removed them) *msgs_out and
 * *octets_out count them; on any failure both are 0.  Returns 0 or -1 (c->err). */
int bs_fetch_session(struct bs_client *c, unsigned long *msgs_out,
		     unsigned long long *octets_out);

/* Connect and log in with AUTH GSSAPI (no layer), then STAT, and leave the session
 * open: *fd_out is the connected descriptor.  For the idle-session holder. */
int bs_login_hold(struct bs_client *c, int *fd_out);

#endif
