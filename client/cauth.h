/* cauth.h - the client's authentication: AUTH GSSAPI through libsasl2, and legacy
 * KPOP (krb5_sendauth "KPOPV1.0") followed by USER/PASS. */
#ifndef KP_CAUTH_H
#define KP_CAUTH_H

#include "client/pop3c.h"

/* AUTH GSSAPI to service@host with the default credentials cache.  authzid may be
 * NULL or "".  min_ssf/max_ssf: the security layer wanted (0/0 none, 1/1 integrity,
 * 2/256 privacy); a negotiated layer is put under the connection at once.  The
 * server's +OK counts only once libsasl2 finished the exchange (its AP-REP and
 * security-layer offer verified); an earlier +OK is EXIT_PROTO, "skipped mutual
 * authentication".  On failure the reason has been printed.  Returns an exit status
 * (0 on success; enum kpop_exit in explain.h). */
int cauth_gssapi(struct pop3c *c, const char *service, const char *host, const char *authzid,
		 unsigned min_ssf, unsigned max_ssf);

/* The KPOP handshake on a freshly connected socket, before the greeting, with
 * mutual authentication required: 0 only after the server's AP-REP verified, so
 * USER is never sent to a server that did not prove it holds the service key.
 * Returns an exit status. */
int cauth_kpop_handshake(struct pop3c *c, const char *service, const char *host);

/* After the greeting of a KPOP session: USER user, PASS with a dummy. */
int cauth_kpop_login(struct pop3c *c, const char *user);

#endif
