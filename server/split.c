/* split.c - system-user mode: the session parent (root until the verdict, then the
 * user) and the unprivileged front, and the auth channel relayed between them. */
#include "config.h"
#include "server/split.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_log.h"
#include "server/ident.h"
#include "server/proctitle.h"
#include "server/proxyadmit.h"

static uid_t front_uid;
static gid_t front_gid;
static int front_ready;

int
kp_split_wanted(const struct kp_conf *c)
{
	return geteuid() == 0 && c->mail_uid == NULL;
}

/* A GSS-API context exported by the auth service names the krb5 configuration files
 * it was made with, and importing it in the front reads them again: a chrooted front
 * needs a copy at the same paths, or security layers fail. */
static void
chroot_krb5_conf(const struct kp_conf *c)
{
	const char *files = getenv("KRB5_CONFIG");
	char one[PATH_MAX], in[PATH_MAX * 2];
	const char *p, *end;
	struct stat st;

	if (c->worker_chroot[0] == '\0')
		return;
	if (files == NULL || files[0] == '\0')
		files = "/etc/krb5.conf";
	for (p = files; *p != '\0'; p = *end == ':' ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) >= sizeof(one) || end == p)
			continue;
		memcpy(one, p, (size_t)(end - p));
		one[end - p] = '\0';
		if (stat(one, &st) != 0)
			continue;
		snprintf(in, sizeof(in), "%s%s", c->worker_chroot, one);
		if (stat(in, &st) != 0)
			kp_log(KP_LOG_WARN, "worker_chroot %s has no copy of %s: GSSAPI security "
			       "layers will fail (copy it to %s)", c->worker_chroot, one, in);
	}
}

int
kp_split_prepare(const struct kp_conf *c)
{
	char why[256];

	if (kp_ident_lookup_service_user(c->worker_user, "worker_user", &front_uid, &front_gid,
					 why, sizeof(why)) != 0) {
		kp_log(KP_LOG_ERR, "%s", why);
		front_ready = 0;
		return KP_E_CONFIG;
	}
	front_ready = 1;
	chroot_krb5_conf(c);
	return 0;
}

/* The front's side: become worker_user, in worker_chroot, and die with the parent. */
static void
front_privileges(const struct kp_conf *c, pid_t parent)
{
	if (c->worker_chroot[0] != '\0' && kp_ident_chroot(c->worker_chroot) != 0)
		kp_fatal("front: chroot %s: %s", c->worker_chroot, strerror(errno));
	if (kp_ident_drop_to(front_uid, front_gid) != 0)
		kp_fatal("front: cannot become worker_user %s: %s", c->worker_user,
			 strerror(errno));
	/* after the uid change, which clears it; then the race with an early death */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
}

static void
front_logged_in(void *arg, const char *user, const char *mech)
{
	(void)mech;
	kp_proctitle("worker %s %s", (const char *)arg, user);
}

/* Requests a worker may send, and those the auth service answers. */
static int
is_request(uint32_t t)
{
	return t >= KP_IPC_BEGIN && t <= KP_IPC_END;
}

static int
is_answered(uint32_t t)
{
	return t == KP_IPC_GSS_STEP || t == KP_IPC_PASSWORD || t == KP_IPC_KPOP_APREQ ||
	       t == KP_IPC_KPOP_USER;
}

static int
send_raw(int fd, unsigned char *msg, size_t len)
{
	struct kp_buf b;

	memset(&b, 0, sizeof(b));
	b.data = msg;
	b.len = len;
	return kp_ipc_send(fd, &b);
}

/* The front's copy of a verdict: who, and the security layer; no uid, gid or
 * maildrop (the parent alone acts on those). */
static int
send_front_verdict(int front, uint32_t sid, const struct kp_ipc_verdict *v)
{
	struct kp_ipc_verdict fv;
	struct kp_buf b;
	int rc;

	fv = *v;
	fv.uid = 0;
	fv.gid = 0;
	fv.maildrop[0] = '\0';
	rc = kp_ipc_enc_verdict(&b, sid, &fv);
	kp_ipc_wipe(&fv, sizeof(fv));
	if (rc == 0) {
		rc = kp_ipc_send(front, &b);
		kp_buf_free(&b);
	}
	return rc;
}

/* The client's address as the front's BEGIN names it ("ip;port", from the PROXY
 * header on a proxy listener), copied to peer (cap >= KP_IPC_ADDR_MAX) and its log
 * form ("ip:port", "[ip6]:port") to log, if it is made of address characters
 * only; else both are left empty. */
static void
begin_peer(const unsigned char *msg, size_t len, char *peer, char *log, size_t logcap)
{
	struct kp_ipc_begin bg;
	uint32_t sid;
	const char *semi;
	size_t n;

	if (kp_ipc_dec_begin(msg, len, &sid, &bg) != 0)
		return;
	n = strspn(bg.peer, "0123456789abcdefABCDEF.:;");
	semi = strchr(bg.peer, ';');
	if (bg.peer[0] == '\0' || bg.peer[n] != '\0' || semi == NULL || semi == bg.peer ||
	    semi[1] == '\0')
		return;
	n = (size_t)(semi - bg.peer);
	if (memchr(bg.peer, ':', n) != NULL)
		(void)snprintf(log, logcap, "[%.*s]:%s", (int)n, bg.peer, semi + 1);
	else
		(void)snprintf(log, logcap, "%.*s:%s", (int)n, bg.peer, semi + 1);
	memcpy(peer, bg.peer, strlen(bg.peer) + 1);
}

/* Pass the front's requests to the auth service and its answers back, looking at
 * nothing but each request's type (and BEGIN's client address, for the logs of a
 * proxy listener's session: peer, log), until a verdict (kept in *v, its context
 * dropped) or the front ends.  Returns 1 with a verdict, 0 without. */
static int
relay(int front, int authd, uint32_t sid, struct kp_ipc_verdict *v, int *kpop,
      const char **mech, char *peer, char *log, size_t logcap)
{
	unsigned char *buf = malloc(KP_IPC_MSG_MAX + 1);
	struct kp_ipc_rd r;
	struct kp_buf b;
	uint32_t type, msid;
	size_t len = 0;
	int got = 0, rc;

	if (buf == NULL)
		return 0;
	for (;;) {
		rc = kp_ipc_recv(front, buf, KP_IPC_MSG_MAX, &len);
		if (rc != 0) {
			if (rc != KP_E_EOF)
				kp_log(KP_LOG_WARN, "front: %s", kp_strerror(rc));
			break;
		}
		kp_ipc_rd_init(&r, buf, len);
		if (kp_ipc_get_hdr(&r, &type, &msid) != 0 || !is_request(type) || msid != sid) {
			kp_log(KP_LOG_ERR, "front: not a request for this session (type 0x%x): "
			       "closing", (unsigned)type);
			break;
		}
		if (type == KP_IPC_KPOP_APREQ)
			*kpop = 1;
		/* the way in, for kpopd -s (the verdict does not say) */
		if (type == KP_IPC_KPOP_APREQ || type == KP_IPC_KPOP_USER)
			*mech = "KPOP";
		else if (type == KP_IPC_GSS_STEP)
			*mech = "GSSAPI";
		else if (type == KP_IPC_PASSWORD) {
			struct kp_ipc_password *pw = calloc(1, sizeof(*pw));
			uint32_t psid;

			*mech = "USER";
			if (pw != NULL && kp_ipc_dec_password(buf, len, &psid, pw) == 0 &&
			    pw->sasl_plain)
				*mech = "PLAIN";
			if (pw != NULL) {
				kp_ipc_wipe(pw, sizeof(*pw));
				free(pw);
			}
		}
		if (type == KP_IPC_BEGIN && peer != NULL)
			begin_peer(buf, len, peer, log, logcap);
		if (send_raw(authd, buf, len) != 0) {
			kp_log(KP_LOG_ERR, "auth service: send failed");
			break;
		}
		kp_ipc_wipe(buf, len);
		if (!is_answered(type))
			continue;
		rc = kp_ipc_recv(authd, buf, KP_IPC_MSG_MAX, &len);
		if (rc != 0) {
			kp_log(KP_LOG_ERR, "auth service: %s", kp_strerror(rc));
			len = 0;
			break;
		}
		kp_ipc_rd_init(&r, buf, len);
		if (kp_ipc_get_hdr(&r, &type, &msid) != 0)
			break;
		if (type != KP_IPC_VERDICT) {
			if (send_raw(front, buf, len) != 0)
				break;
			kp_ipc_wipe(buf, len);
			continue;
		}
		if (kp_ipc_dec_verdict(buf, len, &msid, v) != 0) {
			kp_log(KP_LOG_ERR, "auth service: undecodable verdict");
			break;
		}
		rc = send_front_verdict(front, sid, v);
		v->gss_ctx.data = NULL; /* the front imports it; it is wiped with buf */
		v->gss_ctx.len = 0;
		if (rc != 0)
			break;
		/* the auth service forgets the session now; the front no longer asks */
		if (kp_ipc_enc_end(&b, sid) == 0) {
			(void)kp_ipc_send(authd, &b);
			kp_buf_free(&b);
		}
		got = 1;
		break;
	}
	kp_ipc_wipe(buf, len);
	free(buf);
	return got;
}

int
kp_split_serve(const struct kp_conf *c, const struct kp_serve_args *a, kp_serve_fn serve,
	       int close_in_front)
{
	struct kp_serve_args half;
	struct kp_proxy_names pnames;
	struct kp_ipc_verdict v;
	char cpeer[KP_IPC_ADDR_MAX] = "", clog[KP_IPC_ADDR_MAX + 4] = "";
	int proxied = a->listen != NULL && a->listen->proxy;
	int ap[2], dp[2], got, kpop = 0, rc = KP_E_EOF, st;
	const char *mech = NULL;
	pid_t self = getpid(), pid;

	if (!front_ready) {
		kp_log(KP_LOG_ERR, "no worker_user for the session front");
		return KP_E_CONFIG;
	}
	if (kp_ipc_pair(ap) != 0)
		return KP_E_IO;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dp) != 0) {
		close(ap[0]);
		close(ap[1]);
		return KP_E_IO;
	}
	pid = fork();
	if (pid < 0) {
		kp_log(KP_LOG_ERR, "fork: %s", strerror(errno));
		close(ap[0]);
		close(ap[1]);
		close(dp[0]);
		close(dp[1]);
		return KP_E_IO;
	}
	if (pid == 0) {
		close(ap[0]);
		close(dp[0]);
		if (a->auth_fd >= 0)
			close(a->auth_fd);
		front_privileges(c, self);
		half = *a;
		/* the front reads the client's first bytes, a PROXY header too: the
		 * root parent never does */
		if (kp_proxy_front(c, &half, close_in_front, &pnames) != 0)
			_exit(1);
		if (close_in_front >= 0)
			close(close_in_front);
		half.auth_fd = ap[1];
		half.handover_fd = dp[1];
		half.logged_in = front_logged_in;
		_exit(serve(c, &half) == 0 ? 0 : 1);
	}
	/* The parent: the client's connection is the front's alone. */
	close(ap[1]);
	close(dp[1]);
	close(a->fd);
	if (a->fd == 0)
		close(1); /* inetd */
	memset(&v, 0, sizeof(v));
	got = relay(ap[0], a->auth_fd, a->sid, &v, &kpop, &mech, proxied ? cpeer : NULL, clog,
		    sizeof(clog));
	close(ap[0]);
	if (got) {
		half = *a;
		/* behind a proxy the front read the client's address from the header:
		 * the session's own logs and title name the client, not the proxy */
		if (cpeer[0] != '\0' && clog[0] != '\0') {
			half.peer = cpeer;
			half.arg = clog;
			kp_log_set_prefix(clog);
			kp_proctitle("worker %s", clog);
		}
		half.fd = dp[0];
		half.auth_fd = -1;
		half.verdict = &v;
		half.kpop = kpop;
		half.mech = mech;
		rc = serve(c, &half);
	} else {
		(void)kill(pid, SIGKILL); /* it may be waiting for an answer */
	}
	close(dp[0]);
	kp_ipc_wipe(&v, sizeof(v));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return rc;
}
