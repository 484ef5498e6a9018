/* proxyadmit.h - a connection on a "proxy" listener, in the worker before anything
 * else: the peer must be a trusted proxy, its PROXY header names the client, and
 * the master applies the per-address limits to that client (BUSY -> ADMIT or
 * REFUSE) before the session starts. */
#ifndef KP_SERVER_PROXYADMIT_H
#define KP_SERVER_PROXYADMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include <netdb.h>

#include "server/conf.h"
#include "server/master.h"

/* fd is the connection on listener l; *peer / *local are its endpoints (peer
 * family AF_UNSPEC for a pipe or other non-socket peer).  ctl is the worker's
 * channel to the master (-1 in inetd mode: no limits to ask), sid the session
 * number.  Returns 0 with *peer, *local (and their lengths) replaced by the
 * header's addresses (kept for a LOCAL health check), or a KP_E_* after logging
 * why: the caller closes the connection without another byte read or written. */
int kp_proxy_admit(const struct kp_conf *c, const struct kp_listen *l, int fd, int ctl,
		   uint32_t sid, struct sockaddr_storage *peer, socklen_t *peer_len,
		   struct sockaddr_storage *local, socklen_t *local_len);

/* The client's names after a PROXY header (the caller's storage). */
struct kp_proxy_names {
	char peer[NI_MAXHOST + 16];  /* "ip;port" */
	char local[NI_MAXHOST + 16];
	char log[NI_MAXHOST + 16];   /* "ip:port" */
};

/* In the process that reads the client's first byte, never a privileged one: for
 * a connection on a proxy listener (a->listen->proxy), kp_proxy_admit; then
 * a->peer, a->local and a->arg point into *names, and the log prefix and the
 * process title name the client.  Returns 0 (also for other listeners: nothing
 * done) or a KP_E_* after logging why: close the connection. */
int kp_proxy_front(const struct kp_conf *c, struct kp_serve_args *a, int ctl,
		   struct kp_proxy_names *names);

#endif
