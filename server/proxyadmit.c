/* proxyadmit.c - the worker's part of a "proxy" listener: trusted peer, PROXY
 * header, then the master's per-address limits for the client it names. */
#include "config.h"
#include "server/proxyadmit.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/master.h"
#include "server/proctitle.h"
#include "server/proxyproto.h"

/* "ip:port" for the log; "local" for a peer without an address. */
static void
name_of(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t cap)
{
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		kp_addr_names((const struct sockaddr *)ss, len, NULL, 0, out, cap);
	else
		snprintf(out, cap, "local");
}

/* BUSY with the client's address; the master answers ADMIT, or REFUSE with the
 * text for the client.  0, KP_E_AUTH (refused: told the client), or KP_E_IO. */
static int
ask_master(int ctl, int fd, uint32_t sid, const struct sockaddr_storage *peer,
	   socklen_t len)
{
	unsigned char buf[KP_IPC_MSG_MAX + 1];
	struct kp_ipc_busy b;
	struct kp_ipc_msg m;
	struct kp_buf out;
	size_t n;
	int rc;

	memset(&b, 0, sizeof(b));
	kp_addr_names((const struct sockaddr *)peer, len, b.peer, sizeof(b.peer), NULL, 0);
	if (kp_ipc_enc_busy(&out, sid, &b) != 0)
		return KP_E_IO;
	rc = kp_ipc_send(ctl, &out);
	kp_buf_free(&out);
	if (rc == 0)
		rc = kp_ipc_recv(ctl, buf, sizeof(buf) - 1, &n);
	if (rc == 0)
		rc = kp_ipc_decode(buf, n, KP_IPC_FROM_MASTER, &m);
	if (rc != 0 || (m.type != KP_IPC_ADMIT && m.type != KP_IPC_REFUSE)) {
		kp_log(KP_LOG_ERR, "the master did not answer BUSY (%s)", kp_strerror(rc));
		return KP_E_IO;
	}
	if (m.type == KP_IPC_REFUSE) {
		char line[KP_IPC_REASON_MAX + 32];
		int w = snprintf(line, sizeof(line), "-ERR [SYS/TEMP] %s\r\n", m.u.refuse.reason);

		(void)!write(fd, line, (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1);
		return KP_E_AUTH;
	}
	return 0;
}

int
kp_proxy_admit(const struct kp_conf *c, const struct kp_listen *l, int fd, int ctl,
	       uint32_t sid, struct sockaddr_storage *peer, socklen_t *peer_len,
	       struct sockaddr_storage *local, socklen_t *local_len)
{
	struct kp_proxy_hdr h;
	const struct kp_cidr *nets;
	char proxy[NI_MAXHOST + 16], client[NI_MAXHOST + 16], why[256];
	int n, rc;

	name_of(peer, *peer_len, proxy, sizeof(proxy));
	nets = kp_conf_proxy_trusted(c, l, &n);
	if (!kp_cidr_match(nets, n, (const struct sockaddr *)peer)) {
		kp_log(KP_LOG_WARN, "refusing %s: a proxy listener, and %s is not in "
		       "proxy_trusted", proxy, proxy);
		return KP_E_AUTH;
	}
	rc = kp_proxy_read(fd, KP_PROXY_TIMEOUT_MS, &h, why, sizeof(why));
	if (rc != 0) {
		kp_log(KP_LOG_WARN, "refusing %s: %s", proxy, why);
		return rc;
	}
	if (!h.local) {
		memcpy(peer, &h.src, sizeof(*peer));
		*peer_len = h.srclen;
		memcpy(local, &h.dst, sizeof(*local));
		*local_len = h.dstlen;
	}
	name_of(peer, *peer_len, client, sizeof(client));
	if (h.local)
		kp_log(KP_LOG_DEBUG, "PROXY v%d LOCAL from %s: the proxy's own connection "
		       "(a health check)", h.version, proxy);
	else
		kp_log(KP_LOG_INFO, "PROXY v%d from %s: client %s", h.version, proxy, client);
	if (ctl >= 0 && (peer->ss_family == AF_INET || peer->ss_family == AF_INET6))
		return ask_master(ctl, fd, sid, peer, *peer_len);
	return 0;
}

int
kp_proxy_front(const struct kp_conf *c, struct kp_serve_args *a, int ctl,
	       struct kp_proxy_names *names)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	int rc;

	if (a->listen == NULL || !a->listen->proxy)
		return 0;
	memset(&peer, 0, sizeof(peer));
	memset(&local, 0, sizeof(local));
	memset(names, 0, sizeof(*names));
	if (getpeername(a->fd, (struct sockaddr *)&peer, &pl) != 0)
		peer.ss_family = AF_UNSPEC; /* inetd on a pipe */
	if (getsockname(a->fd, (struct sockaddr *)&local, &ll) != 0)
		local.ss_family = AF_UNSPEC;
	rc = kp_proxy_admit(c, a->listen, a->fd, ctl, a->sid, &peer, &pl, &local, &ll);
	if (rc != 0)
		return rc;
	if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6) {
		kp_addr_names((struct sockaddr *)&peer, pl, names->peer, sizeof(names->peer),
			      names->log, sizeof(names->log));
		a->peer = names->peer;
		a->arg = names->log;
		kp_log_set_prefix(names->log);
		kp_proctitle("worker %s", names->log);
	}
	if (local.ss_family == AF_INET || local.ss_family == AF_INET6) {
		kp_addr_names((struct sockaddr *)&local, ll, names->local, sizeof(names->local),
			      NULL, 0);
		a->local = names->local;
	}
	return 0;
}
