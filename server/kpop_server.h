/* kpop_server.h - legacy KPOP (Kerberos V5 sendauth "KPOPV1.0") on a fresh
 * connection: sniffing it apart from POP3, and the handshake. */
#ifndef KP_KPOP_SERVER_H
#define KP_KPOP_SERVER_H

#include <stddef.h>
#include "server/conf.h"

#define KP_KPOP_NONE 0  /* the client did not start KPOP: serve plain POP3 */
#define KP_KPOP_DONE 1  /* KPOP handshake succeeded */

struct kp_authc;

/* Called before the greeting.  required = 0 (auto listener): wait up to sniff_ms for
 * the client to speak first; a KPOP header starts the handshake, silence or anything
 * else means POP3.  required = 1 (kpop listener): the handshake must happen.
 * Reads exactly the handshake's bytes from rfd, so commands the client pipelined
 * after it stay unread for the session.  The AP-REQ is verified by the auth service
 * through authc, which keeps the principal for the USER that follows.  Returns
 * KP_KPOP_NONE, KP_KPOP_DONE, or a KP_E_* after logging why (the caller closes). */
int kp_kpop_accept(const struct kp_conf *c, struct kp_authc *authc, int rfd, int wfd,
		   int required);

#endif
