/* kpopd.c - the daemon: options, listeners, one process per connection, inetd mode. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <krb5.h>
#include <pwd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_log.h"
#include "kp_pop3.h"
#include "kp_tls.h"
#include "server/auth.h"
#include "server/conf.h"
#include "server/kpop_server.h"
#include "server/session.h"

#define MAX_SOCKS 32

struct listener {
	int fd;
	enum kp_listen_mode mode;
	char name[80];
};

static volatile sig_atomic_t got_term, got_chld, got_hup;
static SSL_CTX *tls_ctx;    /* NULL when TLS is not configured */

/* Live session processes: pid and client address per slot, in the daemon's own
 * memory (it signals these pids at shutdown).  Whether each has logged in is the
 * only thing a session reports back: one byte per slot in a shared page, so that
 * the per-address limits can count connections that have not logged in yet.  A
 * session can at worst misreport flags, never steer which pids are signalled. */
struct child {
	pid_t pid;
	unsigned char addr[16];   /* IPv6, or IPv4 as ::ffff:a.b.c.d */
};
static struct child *child_tab;
static volatile unsigned char *child_authed;
static int nchild_slots;

static void
child_mark_logged_in(void *arg)
{
	int slot = (int)(long)arg;

	child_authed[slot] = 1;
}

/* The address a per-address limit counts by. */
static void
addr_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

/* Reap finished sessions; returns how many. */
static int
child_reap(int block)
{
	pid_t pid;
	int i, n = 0;

	while ((pid = waitpid(-1, NULL, block ? 0 : WNOHANG)) > 0) {
		for (i = 0; i < nchild_slots; i++)
			if (child_tab[i].pid == pid) {
				child_tab[i].pid = 0;
				child_authed[i] = 0;
			}
		n++;
		if (block)
			break;
	}
	return n;
}

/* Refusals are logged at most once a second, with how many were not. */
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

static int sigpipe_fds[2] = { -1, -1 };

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
usage(FILE *f)
{
	fprintf(f,
		"usage: kpopd [-FdivVth] [-f FILE] [-o KEY=VALUE]... [-L ADDR:PORT[ MODE]]...\n"
		"  -f FILE        configuration file (default %s/kpopd.conf)\n"
		"  -o KEY=VALUE   set any configuration key (overrides the file)\n"
		"  -L SPEC        listen on ADDR:PORT with MODE auto|kpop|pop3 (repeatable)\n"
		"  -i             inetd mode: one session on stdin/stdout\n"
		"  -F             stay in the foreground\n"
		"  -d             debug: foreground, log to stderr at debug level\n"
		"  -t             check the configuration and exit (-t -v prints it)\n"
		"  -v             verbose (with -t)\n"
		"  -V             print the version\n",
		SYSCONFDIR);
}

/* "ip;port" (SASL's format) and "ip:port" (logs) for a socket address. */
static void
addr_names(const struct sockaddr *sa, socklen_t len, char *sasl, size_t sasl_cap, char *log,
	   size_t log_cap)
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

/* systemd socket activation: LISTEN_PID is us and LISTEN_FDS sockets start at fd 3.
 * The i-th socket takes the mode of the i-th listen setting (auto beyond them).
 * Returns the number taken (0: not socket-activated), or KP_E_CONFIG. */
static int
activated_listeners(const struct kp_conf *c, struct listener *ls)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	unsigned long pid, nfds, i;

	if (pid_s == NULL || fds_s == NULL)
		return 0;
	if (kp_parse_ulong(pid_s, 1, ~0UL, &pid) != 0 || (pid_t)pid != getpid())
		return 0;
	if (kp_parse_ulong(fds_s, 1, MAX_SOCKS, &nfds) != 0) {
		kp_log(KP_LOG_ERR, "LISTEN_FDS=%s: expected 1-%d sockets", fds_s, MAX_SOCKS);
		return KP_E_CONFIG;
	}
	for (i = 0; i < nfds; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = 3 + (int)i, on = 0, type = 0;
		socklen_t ol = sizeof(on), tl = sizeof(type);

		/* a stream socket that listens (SO_ACCEPTCONN is not known everywhere) */
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
		    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && !on)) {
			kp_log(KP_LOG_ERR, "socket activation: fd %d is not a listening socket", fd);
			return KP_E_CONFIG;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		ls[i].fd = fd;
		ls[i].mode = (int)i < c->nlisten ? c->listen[i].mode : KP_MODE_AUTO;
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		addr_names((struct sockaddr *)&ss, sl, NULL, 0, ls[i].name, sizeof(ls[i].name));
		kp_log(KP_LOG_INFO, "listening on %s (%s, socket activation)", ls[i].name,
		       kp_listen_mode_name(ls[i].mode));
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)nfds;
}

static int
open_listeners(const struct kp_conf *c, struct listener *ls, int *n_out)
{
	int i, n = 0;

	n = activated_listeners(c, ls);
	if (n != 0) {
		*n_out = n;
		return n < 0 ? n : 0;
	}

	for (i = 0; i < c->nlisten; i++) {
		const struct kp_listen *l = &c->listen[i];
		struct addrinfo hints, *res = NULL, *ai;
		int rc, bound = 0;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
		rc = getaddrinfo(strcmp(l->addr, "*") == 0 ? NULL : l->addr, l->port, &hints, &res);
		if (rc != 0) {
			kp_log(KP_LOG_ERR, "listen %s:%s: %s", l->addr, l->port, gai_strerror(rc));
			return KP_E_CONFIG;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			int fd, one = 1;

			if (n >= MAX_SOCKS)
				break;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
				kp_log(KP_LOG_ERR, "listen %s:%s: %s", l->addr, l->port, strerror(errno));
				close(fd);
				continue;
			}
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			getsockname(fd, (struct sockaddr *)&ss, &sl);
			ls[n].fd = fd;
			ls[n].mode = l->mode;
			addr_names((struct sockaddr *)&ss, sl, NULL, 0, ls[n].name, sizeof(ls[n].name));
			kp_log(KP_LOG_INFO, "listening on %s (%s)", ls[n].name,
			       kp_listen_mode_name(l->mode));
			n++;
			bound++;
		}
		freeaddrinfo(res);
		if (bound == 0) {
			kp_log(KP_LOG_ERR, "could not listen on %s:%s", l->addr, l->port);
			return KP_E_IO;
		}
	}
	*n_out = n;
	return 0;
}

/* One connection, in the process that will serve it. */
static int
serve(const struct kp_conf *c, int rfd, int wfd, enum kp_listen_mode mode, const char *peer,
      const char *local, long long start_ms, int slot)
{
	struct kp_session_params p;
	char principal[256];
	int rc;

	memset(&p, 0, sizeof(p));
	p.conf = c;
	p.rfd = rfd;
	p.wfd = wfd;
	p.peer = peer;
	p.local = local;
	p.tls_ctx = tls_ctx;
	p.implicit_tls = mode == KP_MODE_POP3S;
	p.start_ms = start_ms;
	if (slot >= 0) {
		p.logged_in = child_mark_logged_in;
		p.logged_in_arg = (void *)(long)slot;
	}
	if (mode == KP_MODE_AUTO || mode == KP_MODE_KPOP) {
		rc = kp_kpop_accept(c, rfd, wfd, mode == KP_MODE_KPOP, principal, sizeof(principal));
		if (rc < 0)
			return rc; /* logged; the connection is closed */
		if (rc == KP_KPOP_DONE)
			p.kpop_principal = principal;
	}
	return kp_session_run(&p);
}

static void
child_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
accept_one(const struct kp_conf *c, struct listener *l, struct listener *ls, int nls,
	   int *children)
{
	struct sockaddr_storage peer_ss, local_ss;
	socklen_t pl = sizeof(peer_ss), ll = sizeof(local_ss);
	char peer[NI_MAXHOST + 16], local[NI_MAXHOST + 16], peer_log[NI_MAXHOST + 16], pfx[128];
	unsigned char key[16];
	long long start_ms;
	pid_t pid;
	int fd, i, slot = -1, same = 0, preauth = 0;

	fd = accept4(l->fd, (struct sockaddr *)&peer_ss, &pl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			kp_log(KP_LOG_WARN, "accept on %s: %s", l->name, strerror(errno));
		return;
	}
	start_ms = kp_io_now_ms();
	{
		/* every reply, KPOP frame and TLS record batch is one write: Nagle could
		 * only hold the last segment back for the client's delayed ACK */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (*children >= c->max_sessions) {
		static const char busy[] = "-ERR [SYS/TEMP] Too many connections, try later\r\n";

		kp_log(KP_LOG_WARN, "max_sessions (%d) reached: refusing a connection",
		       c->max_sessions);
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	addr_key(&peer_ss, key);
	for (i = 0; i < nchild_slots; i++) {
		if (child_tab[i].pid == 0) {
			if (slot < 0)
				slot = i;
			continue;
		}
		if (memcmp(child_tab[i].addr, key, sizeof(key)) != 0)
			continue;
		same++;
		if (!child_authed[i])
			preauth++;
	}
	if (slot < 0 || same >= c->max_conn_per_ip || preauth >= c->max_preauth_per_ip) {
		static const char busy[] =
			"-ERR [SYS/TEMP] Too many connections from your address, try later\r\n";
		char why[128];

		addr_names((struct sockaddr *)&peer_ss, pl, NULL, 0, peer_log, sizeof(peer_log));
		if (slot < 0)
			snprintf(why, sizeof(why), "no free session slot");
		else if (same >= c->max_conn_per_ip)
			snprintf(why, sizeof(why), "%d connections from this address "
				 "(max_conn_per_ip)", same);
		else
			snprintf(why, sizeof(why), "%d connections from this address not logged "
				 "in yet (max_preauth_per_ip)", preauth);
		log_refusal(peer_log, why);
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	child_authed[slot] = 0;
	pid = fork();
	if (pid < 0) {
		kp_log(KP_LOG_ERR, "fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid > 0) {
		(*children)++;
		child_tab[slot].pid = pid;
		memcpy(child_tab[slot].addr, key, sizeof(key));
		close(fd);
		return;
	}
	/* child */
	child_signals();
	for (i = 0; i < nls; i++)
		close(ls[i].fd);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	getsockname(fd, (struct sockaddr *)&local_ss, &ll);
	addr_names((struct sockaddr *)&peer_ss, pl, peer, sizeof(peer), peer_log, sizeof(peer_log));
	addr_names((struct sockaddr *)&local_ss, ll, local, sizeof(local), NULL, 0);
	snprintf(pfx, sizeof(pfx), "%s", peer_log);
	kp_log_set_prefix(pfx);
	kp_log(KP_LOG_INFO, "connect on %s", l->name);
	serve(c, fd, fd, l->mode, peer, local, start_ms, slot);
	close(fd);
	_exit(0);
}

/* Work every session would repeat, done once here and inherited through fork: a
 * krb5 context kept open keeps libkrb5's parsed krb5.conf alive (each session's
 * contexts reuse it after a stat instead of parsing the file again, six times a
 * session), and one passwd and group lookup loads the NSS modules and lets glibc
 * note that no nscd runs.  Neither touches the keytab or acquires credentials. */
static void
warm_up(void)
{
	static krb5_context keep;
	gid_t groups[8];
	int ng = 8;

	if (keep == NULL && krb5_init_context(&keep) != 0)
		keep = NULL;
	(void)getpwnam("root");
	(void)getgrnam("root");
	(void)getgrouplist("root", 0, groups, &ng);
	endpwent();
	endgrent();
}

static int
run_daemon(const struct kp_conf *c, int foreground)
{
	struct listener ls[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS + 1];
	struct sigaction sa;
	int nls = 0, i, children = 0;

	if (open_listeners(c, ls, &nls) != 0)
		return 1;
	warm_up();
	nchild_slots = c->max_sessions;
	child_tab = calloc((size_t)nchild_slots, sizeof(*child_tab));
	child_authed = mmap(NULL, (size_t)nchild_slots, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_tab == NULL || child_authed == MAP_FAILED)
		kp_fatal("out of memory");
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
			if (c->log_syslog)
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
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	kp_log(KP_LOG_INFO, "kpopd %s started, pid %ld", PACKAGE_VERSION, (long)getpid());

	while (!got_term) {
		int n;

		for (i = 0; i < nls; i++) {
			pfd[i].fd = ls[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[nls].fd = sigpipe_fds[0];
		pfd[nls].events = POLLIN;
		n = poll(pfd, (nfds_t)nls + 1, -1);
		if (n < 0 && errno != EINTR)
			kp_fatal("poll: %s", strerror(errno));
		if (pfd[nls].revents & POLLIN) {
			char buf[64];

			while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0)
				;
		}
		if (got_chld) {
			got_chld = 0;
			children -= child_reap(0);
		}
		if (got_hup) {
			got_hup = 0;
			kp_log(KP_LOG_INFO, "SIGHUP: restart kpopd to reload its configuration");
		}
		if (got_term || n <= 0)
			continue;
		for (i = 0; i < nls; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(c, &ls[i], ls, nls, &children);
	}
	kp_log(KP_LOG_INFO, "SIGTERM: shutting down (%d sessions)", children);
	for (i = 0; i < nls; i++)
		close(ls[i].fd);
	/* Sessions die without UPDATE: nothing a client marked is removed. */
	for (i = 0; i < nchild_slots; i++)
		if (child_tab[i].pid > 0)
			kill(child_tab[i].pid, SIGTERM);
	while (children > 0 && child_reap(1) > 0)
		children--;
	free(child_tab);
	munmap((void *)child_authed, (size_t)nchild_slots);
	if (c->pidfile != NULL)
		unlink(c->pidfile);
	return 0;
}

static int
run_inetd(const struct kp_conf *c)
{
	struct sockaddr_storage ss, ls_;
	socklen_t sl = sizeof(ss), ll = sizeof(ls_);
	char peer[NI_MAXHOST + 16] = "", local[NI_MAXHOST + 16] = "";
	char peer_log[NI_MAXHOST + 16] = "inetd";
	int rc;

	/* Only a TCP peer has an address SASL can use; pipes and UNIX sockets do not. */
	if (getpeername(0, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		int one = 1;

		addr_names((struct sockaddr *)&ss, sl, peer, sizeof(peer), peer_log,
			   sizeof(peer_log));
		(void)setsockopt(0, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (getsockname(0, (struct sockaddr *)&ls_, &ll) == 0 &&
	    (ls_.ss_family == AF_INET || ls_.ss_family == AF_INET6))
		addr_names((struct sockaddr *)&ls_, ll, local, sizeof(local), NULL, 0);
	kp_log_set_prefix(peer_log);
	kp_log(KP_LOG_INFO, "connect (inetd)");
	/* In inetd mode the listener mode is the first listen setting's. */
	rc = serve(c, 0, 1, c->listen[0].mode, peer[0] ? peer : NULL, local[0] ? local : NULL,
		   kp_io_now_ms(), -1);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct kp_conf conf;
	const char *conf_path = SYSCONFDIR "/kpopd.conf";
	char *overrides[64];
	int nover = 0, explicit_conf = 0, inetd = 0, foreground = 0, debug = 0, test = 0;
	int verbose = 0, opt, i, rc;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "f:o:L:iFdtvVh")) != -1) {
		switch (opt) {
		case 'f':
			conf_path = optarg;
			explicit_conf = 1;
			break;
		case 'o':
		case 'L':
			if (nover >= 63) {
				fprintf(stderr, "kpopd: too many -o/-L options\n");
				return 2;
			}
			if (opt == 'L') {
				size_t n = strlen(optarg) + sizeof("listen=");
				char *s = malloc(n);

				if (s == NULL)
					return 2;
				snprintf(s, n, "listen=%s", optarg);
				overrides[nover++] = s;
			} else {
				overrides[nover++] = optarg;
			}
			break;
		case 'i':
			inetd = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'd':
			debug = 1;
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("kpopd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	kp_conf_defaults(&conf);
	rc = kp_conf_load(&conf, conf_path);
	if (rc == KP_E_NOTFOUND && explicit_conf) {
		fprintf(stderr, "kpopd: %s: no such file\n", conf_path);
		return 2;
	}
	if (rc != 0 && rc != KP_E_NOTFOUND)
		return 2;
	for (i = 0; i < nover; i++) {
		char *eq = strchr(overrides[i], '='), key[64];

		if (eq == NULL || (size_t)(eq - overrides[i]) >= sizeof(key)) {
			fprintf(stderr, "kpopd: -o %s: expected KEY=VALUE\n", overrides[i]);
			return 2;
		}
		memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
		key[eq - overrides[i]] = '\0';
		if (kp_conf_set(&conf, key, eq + 1, "command line") != 0)
			return 2;
	}
	if (debug) {
		conf.log_syslog = 0;
		conf.log_level = 3;
	}
	if (kp_conf_check(&conf) != 0)
		return 2;
	if (test) {
		if (verbose)
			kp_conf_dump(&conf);
		fprintf(stderr, "kpopd: configuration OK\n");
		return 0;
	}
	kp_log_open("kpopd", conf.log_syslog, conf.log_level);
	if (conf.rcache_dir != NULL)
		setenv("KRB5RCACHEDIR", conf.rcache_dir, 1);
	if (conf.keytab != NULL)
		setenv("KRB5_KTNAME", conf.keytab, 1);
	if (kp_auth_global_init(&conf) != 0)
		return 1;
	if (conf.tls_cert != NULL) {
		char err[512];

		tls_ctx = kp_tls_server_ctx(conf.tls_cert, conf.tls_key, conf.tls_chain, err,
					    sizeof(err));
		if (tls_ctx == NULL) {
			kp_log(KP_LOG_ERR, "TLS: %s", err);
			return 1;
		}
	}
	rc = inetd ? run_inetd(&conf) : run_daemon(&conf, foreground);
	kp_conf_free(&conf);
	return rc;
}
