/* master.c - listeners, per-address and total limits, a pre-started pool of session
 * workers, signals and reload.  The master accepts and hands each connection to a
 * worker with SCM_RIGHTS; it never reads a byte a client sent. */
#include "config.h"
#include "server/master.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authc.h"
#include "server/authd/authd.h"
#include "server/control.h"
#include "server/ident.h"
#include "server/proctitle.h"
#include "server/proxyadmit.h"
#include "server/proxyproto.h"
#include "server/split.h"

enum wstate { W_FREE = 0, W_IDLE, W_BUSY };
struct worker {
	pid_t pid;
	int ctl;                 /* master's end of the control socketpair */
	enum wstate st;
	int authed;              /* BUSY: the session has logged in */
	int await_peer;          /* BUSY on a proxy listener: the client is not known
				  * until the worker's BUSY names it */
	unsigned char addr[16];  /* BUSY: client address (IPv4 as ::ffff:a.b.c.d) */
	/* for the live-session list (kpopd -s): */
	char peer[KP_IPC_ADDR_MAX + 4]; /* "ADDR:PORT" */
	char user[KP_NAME_MAX], mech[16]; /* from LOGIN */
	long long since_ms;      /* accept time */
};

static volatile sig_atomic_t got_term, got_chld, got_hup;
static int sigpipe_fds[2] = { -1, -1 };
static struct worker *workers;
static int nworkers;         /* slots: max_sessions at start (a reload keeps it) */
static int nslots;           /* slots ever used: every worker is below it (spawn takes
			      * the lowest free slot, so it is the pool's high-water
			      * mark, not max_sessions) */
static int n_idle, n_busy;   /* workers in W_IDLE and W_BUSY */
static int master_ep = -1;   /* the master's epoll set: listeners, signals, control
			      * socket and every worker's channel */
static pid_t authd_pid;      /* the auth service */
static int authd_ctl = -1;   /* the master's channel to it (new peers) */
static pid_t old_authd[4];   /* auth services a reload replaced, still draining */
static uint32_t next_sid;    /* session numbers for the logs */
static int control_fd = -1;  /* control_socket (kpopd -s) */
static long long started_ms;

void
kp_addr_names(const struct sockaddr *sa, socklen_t len, char *sasl, size_t sasl_cap,
	      char *log, size_t log_cap)
{
	char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, sizeof(host), "unknown");
		snprintf(serv, sizeof(serv), "0");
	}
	if (sasl != NULL)
		snprintf(sasl, sasl_cap, "%s;%s", host, serv);
	if (log != NULL)
		snprintf(log, log_cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	if (sigpipe_fds[1] >= 0)
		(void)!write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

static void
set_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* an admin's stray kill -USR1 must not stop the mail service */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
}

/* Refusals are logged at most once a second, with a note when some were not. */
static void
log_refusal(const char *peer, const char *why)
{
	static time_t last;
	static unsigned long quiet;
	time_t now = time(NULL);

	if (now == last) {
		quiet++;
		return;
	}
	kp_log(KP_LOG_WARN, "refusing %s: %s%s", peer, why,
	       quiet > 0 ? " (and earlier refusals not logged)" : "");
	last = now;
	quiet = 0;
}

/* --- the worker side ------------------------------------------------------------- */

static int worker_ctl = -1;  /* in a worker: its end of the control socketpair */
static int worker_auth = -1; /* in a worker: its channel to the auth service */

static void
worker_logged_in(void *arg, const char *user, const char *mech)
{
	struct kp_ipc_login m;
	struct kp_buf b;

	kp_proctitle("worker %s %s", (const char *)arg, user);
	memset(&m, 0, sizeof(m));
	snprintf(m.user, sizeof(m.user), "%s", user);
	snprintf(m.mech, sizeof(m.mech), "%s", mech != NULL ? mech : "");
	if (kp_ipc_enc_login(&b, 0, &m) == 0) {
		(void)kp_ipc_send(worker_ctl, &b);
		kp_buf_free(&b);
	}
}

/* Receive one CONN with its descriptor.  Returns the fd, or -1 (the master is gone
 * or sent something else: the worker exits). */
static int
recv_conn(int ctl, uint32_t *listener_out, long long *start_out, uint32_t *sid_out,
	  uint32_t *flags_out)
{
	unsigned char buf[64 + 1];
	struct kp_ipc_rd r;
	uint32_t type, sid, li, flags;
	uint64_t start;
	size_t len;
	int fd = -1;

	if (kp_ipc_recv_fd(ctl, buf, sizeof(buf) - 1, &len, &fd) != 0)
		return -1;
	kp_ipc_rd_init(&r, buf, len);
	kp_ipc_get_hdr(&r, &type, &sid);
	kp_ipc_get_u32(&r, &li);
	kp_ipc_get_u64(&r, &start);
	kp_ipc_get_u32(&r, &flags);
	if (kp_ipc_end(&r) != 0 || type != KP_IPC_CONN) {
		close(fd);
		return -1;
	}
	*listener_out = li;
	*start_out = (long long)start;
	*sid_out = sid;
	*flags_out = flags;
	return fd;
}

/* Tell the master a session is over: the worker takes the next one. */
static void
send_done(int ctl)
{
	struct kp_ipc_done d;
	struct kp_buf b;

	memset(&d, 0, sizeof(d));
	if (kp_ipc_enc_done(&b, 0, &d) == 0) {
		(void)kp_ipc_send(ctl, &b);
		kp_buf_free(&b);
	}
}

/* Before a worker reads any byte a client sent: virtual-user mode runs it as the
 * mail uid (it serves whole sessions, and many of them); system-user mode keeps
 * root for the uid switch after the verdict, and serves one session.  Returns the
 * number of sessions this worker may serve. */
static int
worker_privileges(const struct kp_conf *c)
{
	char why[256];
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return c->worker_max_sessions; /* a non-root daemon: one uid for all */
	if (c->mail_uid == NULL)
		return 1;
	if (kp_ident_mail_user(c, &uid, &gid, why, sizeof(why)) != 0)
		kp_fatal("worker: %s", why);
	if (kp_ident_drop_to(uid, gid) != 0)
		kp_fatal("worker: cannot become the mail uid %lu: %s", (unsigned long)uid,
			 strerror(errno));
	return c->worker_max_sessions;
}

/* A pre-started worker: wait for a connection, serve it; again, up to its session
 * count (a worker that may switch uid at login serves one); then exit. */
static void
worker_main(const struct kp_conf *c, int ctl, const struct kp_listener *ls, int nls,
	    kp_serve_fn serve)
{
	struct sockaddr_storage peer_ss, local_ss;
	socklen_t pl, ll;
	char peer[NI_MAXHOST + 16], local[NI_MAXHOST + 16], peer_log[NI_MAXHOST + 16];
	struct kp_serve_args a;
	struct kp_proxy_names pnames;
	uint32_t li, sid, flags;
	long long start_ms;
	int fd, n, max;

	worker_ctl = ctl;
	max = worker_privileges(c);
	for (n = 0; n < max; n++) {
		kp_proctitle("worker idle");
		kp_log_set_prefix(NULL);
		fd = recv_conn(ctl, &li, &start_ms, &sid, &flags);
		if (fd < 0 || li >= (uint32_t)nls)
			_exit(0);
		pl = sizeof(peer_ss);
		ll = sizeof(local_ss);
		if (getpeername(fd, (struct sockaddr *)&peer_ss, &pl) != 0 ||
		    getsockname(fd, (struct sockaddr *)&local_ss, &ll) != 0) {
			close(fd);
			send_done(ctl);
			continue;
		}
		kp_addr_names((struct sockaddr *)&peer_ss, pl, peer, sizeof(peer), peer_log,
			      sizeof(peer_log));
		kp_addr_names((struct sockaddr *)&local_ss, ll, local, sizeof(local), NULL, 0);
		kp_log_set_prefix(peer_log);
		kp_proctitle("worker %s", peer_log);
		kp_log(KP_LOG_INFO, "connect on %s (worker pid %ld, session %lu)", ls[li].name,
		       (long)getpid(), (unsigned long)sid);
		memset(&a, 0, sizeof(a));
		a.fd = fd;
		a.mode = ls[li].mode;
		a.peer = peer;
		a.local = local;
		a.start_ms = start_ms;
		a.greeted = (flags & KP_IPC_CONN_GREETED) != 0;
		a.auth_fd = worker_auth;
		a.sid = sid;
		a.handover_fd = -1;
		a.logged_in = worker_logged_in;
		a.arg = peer_log;
		a.listen = ls[li].conf_index >= 0 ? &c->listen[ls[li].conf_index] : NULL;
		if (kp_split_wanted(c)) {
			(void)kp_split_serve(c, &a, serve, ctl); /* closes fd */
			break; /* this process became the user */
		}
		if (kp_proxy_front(c, &a, ctl, &pnames) != 0) {
			close(fd);
			send_done(ctl);
			continue;
		}
		serve(c, &a);
		close(fd);
		if (kp_authc_channel_lost)
			break; /* our channel to the auth service is dead: be replaced */
		if (n + 1 < max)
			send_done(ctl);
	}
	_exit(0);
}

/* --- the master side ------------------------------------------------------------- */

static int
count(enum wstate st)
{
	return st == W_IDLE ? n_idle : st == W_BUSY ? n_busy : nworkers - n_idle - n_busy;
}

/* Every change of a slot's state goes through here, so the counts stay exact. */
static void
set_state(int i, enum wstate st)
{
	n_idle -= workers[i].st == W_IDLE;
	n_busy -= workers[i].st == W_BUSY;
	workers[i].st = st;
	n_idle += st == W_IDLE;
	n_busy += st == W_BUSY;
}

/* epoll data of a descriptor: who (as in the event loop: -1 - listener, 0 the
 * signal pipe, 1 + slot a worker) and the descriptor, which an event is checked
 * against (a worker's slot may have been reaped and reused since). */
static uint64_t
ep_key(int who, int fd)
{
	return (uint64_t)(uint32_t)who << 32 | (uint32_t)fd;
}

static int
ep_add(int fd, int who)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = ep_key(who, fd);
	if (master_ep >= 0 && epoll_ctl(master_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		kp_log(KP_LOG_ERR, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Close a worker's channel (and leave the epoll set). */
static void
close_ctl(int i)
{
	if (workers[i].ctl < 0)
		return;
	if (master_ep >= 0)
		(void)epoll_ctl(master_ep, EPOLL_CTL_DEL, workers[i].ctl, NULL);
	close(workers[i].ctl);
	workers[i].ctl = -1;
}

/* Worker processes not yet reaped. */
static int
live(void)
{
	int i, n = 0;

	for (i = 0; i < nslots; i++)
		n += workers[i].pid > 0;
	return n;
}

static void
close_listeners(struct kp_listener *ls, int nls)
{
	int i;

	for (i = 0; i < nls; i++)
		if (ls[i].fd >= 0) {
			close(ls[i].fd);
			ls[i].fd = -1;
		}
}

/* Start a worker in slot i.  Returns 0 or -1. */
static int
spawn(const struct kp_conf *c, int i, struct kp_listener *ls, int nls, kp_serve_fn serve)
{
	int sv[2], av[2], j;
	pid_t pid;

	if (authd_ctl < 0)
		return -1;
	if (kp_ipc_pair(sv) != 0) {
		kp_log(KP_LOG_ERR, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (kp_ipc_pair(av) != 0) {
		kp_log(KP_LOG_ERR, "socketpair: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		kp_log(KP_LOG_ERR, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(av[0]);
		close(av[1]);
		return -1;
	}
	if (pid == 0) {
		set_signals(SIG_DFL);
		close(sv[0]);
		close(av[0]);
		close(authd_ctl);
		worker_auth = av[1];
		for (j = 0; j < nslots; j++)
			if (workers[j].ctl >= 0)
				close(workers[j].ctl);
		if (master_ep >= 0)
			close(master_ep);
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
		if (control_fd >= 0)
			close(control_fd);
		close_listeners(ls, nls);
		worker_main(c, sv[1], ls, nls, serve);
		_exit(0);
	}
	close(sv[1]);
	close(av[1]);
	if (kp_authd_add_peer(authd_ctl, av[0], (long)pid) != 0)
		kp_log(KP_LOG_ERR, "cannot pass a worker's channel to the auth service");
	close(av[0]);
	workers[i].pid = pid;
	workers[i].ctl = sv[0];
	set_state(i, W_IDLE);
	workers[i].authed = 0;
	if (i >= nslots)
		nslots = i + 1;
	if (ep_add(sv[0], 1 + i) != 0)
		close_ctl(i); /* it exits when it reads EOF; reaped as usual */
	return 0;
}

/* Keep pool_spare idle workers, within max_sessions. */
static void
refill(const struct kp_conf *c, struct kp_listener *ls, int nls, kp_serve_fn serve)
{
	int i, idle = count(W_IDLE), busy = count(W_BUSY);

	for (i = 0; i < nworkers && idle < c->pool_spare && idle + busy < c->max_sessions; i++)
		if (workers[i].st == W_FREE && workers[i].pid == 0) {
			if (spawn(c, i, ls, nls, serve) != 0)
				return;
			idle++;
		}
}

static int
send_conn(int ctl, int fd, uint32_t listener, long long start_ms, uint32_t sid,
	  uint32_t flags)
{
	struct kp_buf b;
	int rc;

	kp_buf_init(&b, 64, 0);
	kp_ipc_put_hdr(&b, KP_IPC_CONN, sid);
	kp_ipc_put_u32(&b, listener);
	kp_ipc_put_u64(&b, (uint64_t)start_ms);
	kp_ipc_put_u32(&b, flags);
	rc = kp_ipc_send_fd(ctl, &b, fd);
	kp_buf_free(&b);
	return rc;
}

/* A plain POP3 listener's client is greeted here, before the worker has the
 * connection: the greeting is the same for every client and nothing has been read,
 * and the client can start on its first command while the worker takes over
 * (worker_main: KP_IPC_CONN_GREETED).  Not on pop3s (TLS comes first), kpop or
 * auto (the client speaks first) or behind a proxy (its header comes first).
 * 1: greeted, 0: not, the worker greets; -1: the client has gone. */
static int
greet(const struct kp_conf *c, enum kp_listen_mode mode, int proxied, int fd)
{
	char line[256];
	int n;

	if (mode != KP_MODE_POP3 || proxied)
		return 0;
	n = snprintf(line, sizeof(line), "+OK %s\r\n", c->greeting);
	if (n < 0 || (size_t)n >= sizeof(line))
		return 0; /* (conf.c keeps it shorter) */
	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 1 : -1;
}

static void
refuse(int fd, const char *text)
{
	(void)!write(fd, text, strlen(text));
	close(fd);
}

/* The per-address limits for a new connection from sa: NULL if it is within them,
 * else the text to refuse it with after "-ERR [SYS/TEMP] " (the reason is logged,
 * at most once a second). */
static const char *
over_limits(const struct kp_conf *c, const struct sockaddr *sa, socklen_t len)
{
	char peer_log[NI_MAXHOST + 16], why[128];
	unsigned char key[16];
	int i, same = 0, preauth = 0;

	kp_addr_key(sa, key);
	for (i = 0; i < nslots; i++) {
		if (workers[i].st != W_BUSY || workers[i].await_peer ||
		    memcmp(workers[i].addr, key, sizeof(key)) != 0)
			continue;
		same++;
		preauth += !workers[i].authed;
	}
	if (same < c->max_conn_per_ip && preauth < c->max_preauth_per_ip)
		return NULL;
	kp_addr_names(sa, len, NULL, 0, peer_log, sizeof(peer_log));
	if (same >= c->max_conn_per_ip)
		snprintf(why, sizeof(why), "%d connections from this address "
			 "(max_conn_per_ip)", same);
	else
		snprintf(why, sizeof(why), "%d connections from this address not logged "
			 "in yet (max_preauth_per_ip)", preauth);
	log_refusal(peer_log, why);
	return "Too many connections from your address, try later";
}

static void
accept_one(const struct kp_conf *c, struct kp_listener *ls, int nls, int li,
	   kp_serve_fn serve)
{
	struct sockaddr_storage peer_ss;
	socklen_t pl = sizeof(peer_ss);
	const char *text;
	long long start_ms;
	int fd, i, w = -1, proxied, greeted = 0;
#ifndef __linux__
	int one = 1;
#endif

	fd = accept4(ls[li].fd, (struct sockaddr *)&peer_ss, &pl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			kp_log(KP_LOG_WARN, "accept on %s: %s", ls[li].name, strerror(errno));
		return;
	}
	start_ms = kp_io_now_ms();
#ifndef __linux__
	/* (kpopd.c: listeners_nodelay; Linux's accepted sockets inherit it) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#endif
	if (count(W_BUSY) >= c->max_sessions) {
		kp_log(KP_LOG_WARN, "max_sessions (%d) reached: refusing a connection",
		       c->max_sessions);
		refuse(fd, "-ERR [SYS/TEMP] Too many connections, try later\r\n");
		return;
	}
	/* behind a proxy listener the peer is the load balancer: the limits wait for
	 * the client its PROXY header names (admit_peer) */
	proxied = ls[li].conf_index >= 0 && c->listen[ls[li].conf_index].proxy;
	if (!proxied && (text = over_limits(c, (struct sockaddr *)&peer_ss, pl)) != NULL) {
		char line[128];

		snprintf(line, sizeof(line), "-ERR [SYS/TEMP] %s\r\n", text);
		refuse(fd, line);
		return;
	}
	for (i = 0; i < nslots && n_idle > 0 && w < 0; i++)
		if (workers[i].st == W_IDLE)
			w = i;
	for (i = 0; i < nworkers && w < 0; i++)
		if (workers[i].st == W_FREE && workers[i].pid == 0 &&
		    spawn(c, i, ls, nls, serve) == 0)
			w = i;
	if (++next_sid == 0)
		next_sid = 1;
	if (w >= 0 && (greeted = greet(c, ls[li].mode, proxied, fd)) < 0) {
		close(fd); /* the client has gone already */
		return;
	}
	if (w < 0 || send_conn(workers[w].ctl, fd, (uint32_t)li, start_ms, next_sid,
			       greeted ? KP_IPC_CONN_GREETED : 0) != 0) {
		kp_log(KP_LOG_ERR, "no worker could take a connection");
		refuse(fd, "-ERR [SYS/TEMP] Server busy, try later\r\n");
		return;
	}
	close(fd);
	set_state(w, W_BUSY);
	workers[w].authed = 0;
	workers[w].await_peer = proxied;
	kp_addr_key((struct sockaddr *)&peer_ss, workers[w].addr);
	workers[w].since_ms = start_ms;
	workers[w].user[0] = workers[w].mech[0] = '\0';
	workers[w].peer[0] = '\0';
	if (!proxied) /* a proxied client is named by its BUSY */
		kp_addr_names((struct sockaddr *)&peer_ss, pl, NULL, 0, workers[w].peer,
			      sizeof(workers[w].peer));
}

/* A worker on a proxy listener names its client (BUSY, once a connection): the
 * per-address limits apply to that client.  Answers ADMIT or REFUSE; -1 if the
 * address is not one. */
static int
admit_peer(const struct kp_conf *c, int i, uint32_t sid, const char *peer)
{
	struct addrinfo hints, *ai = NULL;
	struct kp_ipc_refuse rf;
	struct kp_buf b;
	const char *text;
	char host[KP_IPC_ADDR_MAX], *semi;
	int rc;

	snprintf(host, sizeof(host), "%s", peer);
	if ((semi = strrchr(host, ';')) == NULL)
		return -1;
	*semi = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, semi + 1, &hints, &ai) != 0)
		return -1;
	text = over_limits(c, ai->ai_addr, ai->ai_addrlen);
	workers[i].await_peer = 0;
	kp_addr_names(ai->ai_addr, ai->ai_addrlen, NULL, 0, workers[i].peer,
		      sizeof(workers[i].peer));
	if (text == NULL) {
		kp_addr_key(ai->ai_addr, workers[i].addr);
		rc = kp_ipc_enc_admit(&b, sid);
	} else {
		memset(&rf, 0, sizeof(rf));
		snprintf(rf.reason, sizeof(rf.reason), "%s", text);
		rc = kp_ipc_enc_refuse(&b, sid, &rf);
	}
	freeaddrinfo(ai);
	if (rc == 0) {
		(void)kp_ipc_send(workers[i].ctl, &b);
		kp_buf_free(&b);
	}
	return 0;
}

/* A worker said something: LOGIN, or its end closed (it is exiting). */
static void
worker_said(const struct kp_conf *c, int i)
{
	unsigned char buf[KP_IPC_HDR_LEN + 2 * (4 + KP_NAME_MAX) + 1];
	struct kp_ipc_busy busy;
	struct kp_ipc_login login;
	struct kp_ipc_rd r;
	uint32_t type = 0, sid;
	size_t len;
	int rc = kp_ipc_recv(workers[i].ctl, buf, sizeof(buf) - 1, &len);

	if (rc == KP_E_TIMEOUT)
		return;
	if (rc == 0) {
		kp_ipc_rd_init(&r, buf, len);
		kp_ipc_get_hdr(&r, &type, &sid);
		if (type == KP_IPC_LOGIN && workers[i].st == W_BUSY &&
		    kp_ipc_dec_login(buf, len, &sid, &login) == 0) {
			workers[i].authed = 1;
			memcpy(workers[i].user, login.user, sizeof(workers[i].user));
			memcpy(workers[i].mech, login.mech, sizeof(workers[i].mech));
			return;
		}
		if (type == KP_IPC_BUSY && workers[i].st == W_BUSY && workers[i].await_peer &&
		    kp_ipc_dec_busy(buf, len, &sid, &busy) == 0 &&
		    admit_peer(c, i, sid, busy.peer) == 0)
			return;
		if (type == KP_IPC_DONE && workers[i].st == W_BUSY &&
		    kp_ipc_dec_done(buf, len, &sid, &(struct kp_ipc_done){ 0 }) == 0) {
			/* a reusable worker is free again */
			set_state(i, W_IDLE);
			workers[i].authed = 0;
			workers[i].await_peer = 0;
			memset(workers[i].addr, 0, sizeof(workers[i].addr));
			return;
		}
	}
	/* EOF or garbage: this worker is done with us */
	close_ctl(i);
	set_state(i, W_FREE);
}

/* kpopd -s connected: the busy workers' sessions. */
static void
control_status(void)
{
	struct kp_control_row *rows = calloc((size_t)nworkers, sizeof(*rows));
	int i, n = 0;

	if (rows == NULL) {
		close(accept4(control_fd, NULL, NULL, SOCK_CLOEXEC));
		return;
	}
	for (i = 0; i < nslots; i++) {
		if (workers[i].st != W_BUSY)
			continue;
		rows[n].pid = (long)workers[i].pid;
		rows[n].peer = workers[i].peer;
		rows[n].user = workers[i].user;
		rows[n].mech = workers[i].mech;
		rows[n].logged_in = workers[i].authed;
		rows[n++].since_ms = workers[i].since_ms;
	}
	kp_control_answer(control_fd, rows, n, count(W_IDLE), kp_io_now_ms(),
			  kp_io_now_ms() - started_ms);
	free(rows);
}

/* Reap finished workers; their slots become free.  Returns how many. */
static int
reap(int block)
{
	pid_t pid;
	int i, n = 0;

	while ((pid = waitpid(-1, NULL, block ? 0 : WNOHANG)) > 0) {
		if (pid == authd_pid) {
			authd_pid = 0;
			if (authd_ctl >= 0)
				close(authd_ctl);
			authd_ctl = -1;
		}
		for (i = 0; i < (int)(sizeof(old_authd) / sizeof(old_authd[0])); i++)
			if (old_authd[i] == pid)
				old_authd[i] = 0;
		for (i = 0; i < nslots; i++)
			if (workers[i].pid == pid) {
				close_ctl(i);
				set_state(i, W_FREE);
				memset(&workers[i], 0, sizeof(workers[i]));
				workers[i].ctl = -1;
			}
		n++;
		if (block)
			break;
	}
	return n;
}

static void
signal_workers(int sig, int idle_only)
{
	int i;

	for (i = 0; i < nslots; i++)
		if (workers[i].pid > 0 && (!idle_only || workers[i].st == W_IDLE))
			kill(workers[i].pid, sig);
}

/* SIGHUP: a new configuration for new workers; running sessions keep theirs. */
static int
do_reload(struct kp_conf *c, kp_reload_fn reload)
{
	struct kp_conf fresh;
	int i, same_listen;

	if (reload == NULL || reload(&fresh) != 0) {
		kp_log(KP_LOG_ERR, "SIGHUP: the new configuration has errors; keeping the old one");
		return -1;
	}
	same_listen = fresh.nlisten == c->nlisten;
	for (i = 0; same_listen && i < c->nlisten; i++)
		same_listen = memcmp(&fresh.listen[i], &c->listen[i], sizeof(c->listen[i])) == 0;
	if (!same_listen)
		kp_log(KP_LOG_WARN, "SIGHUP: listen settings changed: they take effect at restart");
	memcpy(fresh.listen, c->listen, sizeof(c->listen));
	fresh.nlisten = c->nlisten;
	fresh.max_sessions = c->max_sessions; /* the slot table keeps its size */
	kp_conf_free(c);
	*c = fresh;
	kp_log_open("kpopd", kp_conf_log_flags(c), c->log_level);
	/* idle workers hold the old configuration: replace them */
	signal_workers(SIGTERM, 1);
	kp_log(KP_LOG_INFO, "SIGHUP: configuration reloaded; %d sessions keep the old one",
	       count(W_BUSY));
	return 0;
}

/* Start the auth service (it holds the keytab; server/authd/authd.c).  0 or -1. */
static int
start_authd(struct kp_conf *c, struct kp_listener *ls, int nls)
{
	int sv[2], j;
	pid_t pid;

	if (kp_ipc_pair(sv) != 0) {
		kp_log(KP_LOG_ERR, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		kp_log(KP_LOG_ERR, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		set_signals(SIG_DFL);
		close(sv[0]);
		for (j = 0; j < nslots; j++)
			if (workers[j].ctl >= 0)
				close(workers[j].ctl);
		if (master_ep >= 0)
			close(master_ep);
		if (authd_ctl >= 0)
			close(authd_ctl);
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
		if (control_fd >= 0)
			close(control_fd);
		close_listeners(ls, nls);
		kp_authd_main(c, sv[1], -1);
	}
	close(sv[1]);
	authd_pid = pid;
	authd_ctl = sv[0];
	return 0;
}

/* The auth service died: its peers' channels are dead.  Start another, and replace
 * the idle workers (their channels went with it); busy sessions fail their next
 * auth request and end. */
static void
check_authd(struct kp_conf *c, struct kp_listener *ls, int nls)
{
	static long long last;
	long long now;

	if (authd_pid > 0)
		return;
	now = kp_io_now_ms();
	if (last != 0 && now - last < 1000)
		return; /* at most one restart a second */
	last = now;
	kp_log(KP_LOG_ERR, "the auth service exited: starting a new one");
	if (start_authd(c, ls, nls) == 0)
		signal_workers(SIGTERM, 1);
}

/* SIGHUP: a new auth service with the new configuration (and keytab); the old one
 * serves the sessions it has and exits when they are gone. */
static void
replace_authd(struct kp_conf *c, struct kp_listener *ls, int nls)
{
	size_t i;

	for (i = 0; i < sizeof(old_authd) / sizeof(old_authd[0]); i++)
		if (old_authd[i] == 0)
			break;
	if (i == sizeof(old_authd) / sizeof(old_authd[0])) {
		kp_log(KP_LOG_WARN, "SIGHUP: too many auth services still draining; the "
		       "keytab and auth settings take effect at the next reload");
		return;
	}
	old_authd[i] = authd_pid;
	if (authd_ctl >= 0)
		close(authd_ctl); /* the old one drains and exits */
	authd_ctl = -1;
	authd_pid = 0;
	(void)start_authd(c, ls, nls);
}

int
kp_master_run(struct kp_conf *c, struct kp_listener *ls, int nls, int foreground,
	      kp_serve_fn serve, kp_reload_fn reload)
{
	struct epoll_event evs[64];
	int i, ev_who[64], ev_fd[64];

	nworkers = c->max_sessions;
	workers = calloc((size_t)nworkers, sizeof(*workers));
	if (workers == NULL)
		kp_fatal("out of memory");
	for (i = 0; i < nworkers; i++)
		workers[i].ctl = -1;
	if (!foreground) {
		pid_t pid = fork();

		if (pid < 0)
			kp_fatal("fork: %s", strerror(errno));
		if (pid > 0)
			_exit(0);
		setsid();
		if (chdir("/") != 0)
			kp_fatal("chdir /: %s", strerror(errno));
		i = open("/dev/null", O_RDWR);
		if (i >= 0) {
			dup2(i, 0);
			dup2(i, 1);
			if (kp_log_to_syslog())
				dup2(i, 2);
			if (i > 2)
				close(i);
		}
	}
	if (c->pidfile != NULL) {
		FILE *f = fopen(c->pidfile, "w");

		if (f == NULL)
			kp_fatal("pidfile %s: %s", c->pidfile, strerror(errno));
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
		kp_fatal("pipe: %s", strerror(errno));
	set_signals(on_signal);
	kp_proctitle("master");
	started_ms = kp_io_now_ms();
	if (c->control_socket != NULL)
		control_fd = kp_control_open(c->control_socket);
	kp_log(KP_LOG_INFO, "kpopd %s started, pid %ld", PACKAGE_VERSION, (long)getpid());
	/* One epoll set instead of a poll() over every worker's channel per event:
	 * the master wakes three times a session, and a pool of hundreds of workers
	 * made each wake-up walk them all. */
	master_ep = epoll_create1(EPOLL_CLOEXEC);
	if (master_ep < 0)
		kp_fatal("epoll_create1: %s", strerror(errno));
	for (i = 0; i < nls; i++)
		if (ep_add(ls[i].fd, -1 - i) != 0)
			kp_fatal("cannot watch the listeners");
	if (ep_add(sigpipe_fds[0], 0) != 0 ||
	    (control_fd >= 0 && ep_add(control_fd, -1 - nls) != 0)) /* after the listeners */
		kp_fatal("cannot watch the signal pipe");
	if (start_authd(c, ls, nls) != 0)
		kp_fatal("cannot start the auth service");
	if (kp_split_wanted(c) && kp_split_prepare(c) != 0)
		kp_fatal("system-user mode needs worker_user");
	refill(c, ls, nls, serve);

	while (!got_term) {
		int n, k;

		n = epoll_wait(master_ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);
		if (n < 0 && errno != EINTR)
			kp_fatal("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++) {
			ev_who[k] = (int)(uint32_t)(evs[k].data.u64 >> 32);
			ev_fd[k] = (int)(uint32_t)evs[k].data.u64;
		}
		for (k = 0; k < n; k++) {
			if (ev_who[k] == 0) {
				char buf[64];

				while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
					;
			} else if (ev_who[k] > 0 && ev_who[k] <= nslots) {
				if (workers[ev_who[k] - 1].ctl == ev_fd[k])
					worker_said(c, ev_who[k] - 1);
			}
		}
		if (got_chld) {
			got_chld = 0;
			reap(0);
		}
		if (got_hup) {
			got_hup = 0;
			if (do_reload(c, reload) == 0) {
				replace_authd(c, ls, nls);
				if (kp_split_wanted(c))
					(void)kp_split_prepare(c);
			}
		}
		check_authd(c, ls, nls);
		if (got_term)
			break;
		for (k = 0; k < n; k++)
			if (ev_who[k] == -1 - nls && (evs[k].events & EPOLLIN))
				control_status();
			else if (ev_who[k] < 0 && (evs[k].events & EPOLLIN))
				accept_one(c, ls, nls, -1 - ev_who[k], serve);
		refill(c, ls, nls, serve);
	}
	kp_log(KP_LOG_INFO, "SIGTERM: shutting down (%d sessions)", count(W_BUSY));
	close(master_ep); /* from here on the master only waits for its children */
	master_ep = -1;
	close_listeners(ls, nls);
	kp_control_close(control_fd, c->control_socket);
	control_fd = -1;
	if (authd_ctl >= 0)
		close(authd_ctl); /* it exits when the last session is gone */
	authd_ctl = -1;
	/* Sessions die without UPDATE: nothing a client marked is removed.  After
	 * the grace period whatever is left is killed. */
	signal_workers(SIGTERM, 0);
	{
		long long until = kp_io_now_ms() + KP_SHUTDOWN_GRACE_SEC * 1000LL;

		while (live() > 0) {
			if (kp_io_now_ms() >= until) {
				kp_log(KP_LOG_WARN, "%d sessions still running after %d s: killed",
				       live(), KP_SHUTDOWN_GRACE_SEC);
				signal_workers(SIGKILL, 0);
				while (live() > 0 && reap(1) > 0)
					;
				break;
			}
			poll(NULL, 0, 20);
			reap(0);
		}
	}
	/* the auth services go last, and the master waits for them */
	if (authd_pid > 0 && kill(authd_pid, SIGTERM) == 0)
		(void)waitpid(authd_pid, NULL, 0);
	for (i = 0; i < (int)(sizeof(old_authd) / sizeof(old_authd[0])); i++)
		if (old_authd[i] > 0 && kill(old_authd[i], SIGTERM) == 0)
			(void)waitpid(old_authd[i], NULL, 0);
	free(workers);
	if (c->pidfile != NULL)
		unlink(c->pidfile);
	return 0;
}
