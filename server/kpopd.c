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
#include "kp_ipc.h"
#include "kp_log.h"
#include "kp_pop3.h"
#include "kp_tls.h"
#include "server/authd/auth.h"
#include "server/authc.h"
#include "server/authd/authd.h"
#include "server/ident.h"
#include "server/authd/keytab_check.h"
#include "server/conf.h"
#include "server/control.h"
#include "server/kpop_server.h"
#include "server/master.h"
#include "server/proxyadmit.h"
#include "server/proctitle.h"
#include "server/session.h"
#include "server/split.h"

#define MAX_SOCKS 32

static SSL_CTX *tls_ctx;    /* NULL when TLS is not configured */
static struct {             /* how the configuration was given, for SIGHUP */
	char *path;
	int explicit_path, debug, nover;
	char *over[64];
} given;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: kpopd [-FdivVthks] [-f FILE] [-o KEY=VALUE]... [-L ADDR:PORT[ MODE]]...\n"
		"  -f FILE        configuration file (default %s/kpopd.conf)\n"
		"  -o KEY=VALUE   set any configuration key (overrides the file)\n"
		"  -L SPEC        listen on ADDR:PORT [MODE] [proxy[=NETS]]; MODE auto|kpop|pop3|pop3s\n"
		"                 (repeatable)\n"
		"  -i             inetd mode: one session on stdin/stdout\n"
		"  -F             stay in the foreground\n"
		"  -d             debug: foreground, log to stderr at debug level\n"
		"  -t             check the configuration and exit (-t -v prints it)\n"
		"  -k             with -t: a live round trip with the KDC from the keytab\n"
		"  -s             list the running daemon's sessions (control_socket)\n"
		"  -v             verbose (with -t)\n"
		"  -V             print the version\n",
		SYSCONFDIR);
}

/* The mode a socket-activated listener's name asks for: "pop3s" or "pop3s-v6"
 * (FileDescriptorName= in the socket unit) is pop3s, and so on; -1 for any other
 * name (systemd's default is the unit's name). */
static int
mode_of_fdname(const char *name, size_t len)
{
	int m;

	for (m = KP_MODE_AUTO; m <= KP_MODE_POP3S; m++) {
		const char *mn = kp_listen_mode_name((enum kp_listen_mode)m);
		size_t ml = strlen(mn);

		if (len >= ml && memcmp(name, mn, ml) == 0 && (len == ml || name[ml] == '-'))
			return m;
	}
	return -1;
}

/* systemd socket activation: LISTEN_PID is us and LISTEN_FDS sockets start at fd 3.
 * A socket named by LISTEN_FDNAMES after a mode (mode_of_fdname) takes that mode;
 * an unnamed one the mode of the listen setting in its place (auto beyond them).
 * Returns the number taken (0: not socket-activated), or KP_E_CONFIG. */
static int
activated_listeners(const struct kp_conf *c, struct kp_listener *ls)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
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
		int fd = 3 + (int)i, on = 0, type = 0, mode = -1;
		socklen_t ol = sizeof(on), tl = sizeof(type);
		size_t nl = 0;

		/* a stream socket that listens (SO_ACCEPTCONN is not known everywhere) */
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
		    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && !on)) {
			kp_log(KP_LOG_ERR, "socket activation: fd %d is not a listening socket", fd);
			return KP_E_CONFIG;
		}
		if (names != NULL) {
			nl = strcspn(names, ":");
			mode = mode_of_fdname(names, nl);
		}
		if (mode < 0)
			mode = (int)i < c->nlisten ? (int)c->listen[i].mode : KP_MODE_AUTO;
		if (mode == KP_MODE_POP3S && c->tls_cert == NULL) {
			kp_log(KP_LOG_ERR, "socket activation: fd %d is a pop3s listener, and "
			       "pop3s needs tls_cert and tls_key", fd);
			return KP_E_CONFIG;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		ls[i].fd = fd;
		ls[i].mode = (enum kp_listen_mode)mode;
		ls[i].conf_index = (int)i < c->nlisten ? (int)i : -1;
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		kp_addr_names((struct sockaddr *)&ss, sl, NULL, 0, ls[i].name, sizeof(ls[i].name));
		kp_log(KP_LOG_INFO, "listening on %s (%s, socket activation%s%.*s%s)", ls[i].name,
		       kp_listen_mode_name(ls[i].mode), names != NULL ? ", name " : "",
		       (int)nl, names != NULL ? names : "",
		       ls[i].conf_index >= 0 && c->listen[i].proxy ? ", PROXY headers" : "");
		if (names != NULL)
			names = names[nl] == ':' ? names + nl + 1 : names + nl;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)nfds;
}

/* Every reply, KPOP frame and TLS record batch is one write: Nagle could only hold
 * the last segment back for the client's delayed ACK.  Set on the listeners, as
 * Linux's accepted sockets inherit it (elsewhere the master sets it on each). */
static void
listeners_nodelay(const struct kp_listener *ls, int n)
{
	int i, one = 1;

	for (i = 0; i < n; i++)
		(void)setsockopt(ls[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
open_listeners(const struct kp_conf *c, struct kp_listener *ls, int *n_out)
{
	int i, n = 0;

	n = activated_listeners(c, ls);
	if (n != 0) {
		*n_out = n;
		if (n > 0)
			listeners_nodelay(ls, n);
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
			ls[n].conf_index = i;
			kp_addr_names((struct sockaddr *)&ss, sl, NULL, 0, ls[n].name, sizeof(ls[n].name));
			kp_log(KP_LOG_INFO, "listening on %s (%s%s)", ls[n].name,
			       kp_listen_mode_name(l->mode), l->proxy ? ", PROXY headers" : "");
			n++;
			bound++;
		}
		freeaddrinfo(res);
		if (bound == 0) {
			kp_log(KP_LOG_ERR, "could not listen on %s:%s", l->addr, l->port);
			return KP_E_IO;
		}
	}
	listeners_nodelay(ls, n);
	*n_out = n;
	return 0;
}

/* One connection, in the process that will serve it. */
static int
serve(const struct kp_conf *c, const struct kp_serve_args *a)
{
	struct kp_session_params p;
	struct kp_authc authc;
	int rc;

	memset(&p, 0, sizeof(p));
	p.conf = c;
	p.rfd = a->fd;
	p.wfd = a->fd == 0 ? 1 : a->fd; /* inetd: stdin and stdout */
	p.peer = a->peer;
	p.local = a->local;
	p.start_ms = a->start_ms;
	p.greeted = a->greeted;
	p.logged_in = a->logged_in;
	p.logged_in_arg = a->arg;
	p.handover_fd = a->handover_fd;
	p.verdict = a->verdict;
	p.kpop = a->kpop;
	p.mech = a->mech;
	if (a->verdict == NULL) { /* the back half has no TLS of its own */
		p.tls_ctx = tls_ctx;
		p.implicit_tls = a->mode == KP_MODE_POP3S;
	}
	if (kp_authc_init(&authc, a->auth_fd, a->sid, (uint32_t)a->mode, a->peer,
			  a->local) != 0)
		return KP_E_NOMEM;
	p.authc = &authc;
	rc = 0;
	if (a->verdict == NULL && (a->mode == KP_MODE_AUTO || a->mode == KP_MODE_KPOP)) {
		rc = kp_kpop_accept(c, &authc, p.rfd, p.wfd, a->mode == KP_MODE_KPOP);
		if (rc == KP_KPOP_DONE)
			p.kpop = 1;
	}
	if (rc >= 0)
		rc = kp_session_run(&p);
	/* rc < 0 before the session: logged; the connection is closed */
	kp_authc_free(&authc);
	return rc;
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

/* Defaults, the file, the -o overrides, -d; printed errors.  paths: also check the
 * files a running daemon needs (kpopd -t checks them in depth itself).  0 or
 * KP_E_CONFIG. */
static int
load_conf(struct kp_conf *c, int paths)
{
	int rc, i;

	kp_conf_defaults(c);
	rc = kp_conf_load(c, given.path);
	if (rc == KP_E_NOTFOUND && given.explicit_path) {
		fprintf(stderr, "kpopd: %s: no such file\n", given.path);
		goto fail;
	}
	if (rc != 0 && rc != KP_E_NOTFOUND)
		goto fail;
	for (i = 0; i < given.nover; i++) {
		const char *o = given.over[i], *eq = strchr(o, '=');
		char key[64];

		if (eq == NULL || (size_t)(eq - o) >= sizeof(key)) {
			fprintf(stderr, "kpopd: -o %s: expected KEY=VALUE\n", o);
			goto fail;
		}
		memcpy(key, o, (size_t)(eq - o));
		key[eq - o] = '\0';
		if (kp_conf_set(c, key, eq + 1, "command line") != 0)
			goto fail;
	}
	if (given.debug) {
		c->log_syslog = 0;
		c->log_level = 3;
	}
	if (kp_conf_check(c) != 0 || (paths && kp_conf_check_paths(c) != 0))
		goto fail;
	return 0;
fail:
	kp_conf_free(c);
	return KP_E_CONFIG;
}

static SSL_CTX *
make_tls(const struct kp_conf *c)
{
	char err[512];
	SSL_CTX *ctx;

	if (c->tls_cert == NULL)
		return NULL;
	ctx = kp_tls_server_ctx(c->tls_cert, c->tls_key, c->tls_chain, c->tls_min_protocol,
				err, sizeof(err));
	if (ctx == NULL)
		kp_log(KP_LOG_ERR, "TLS: %s", err);
	return ctx;
}

/* SIGHUP: the new configuration, and its TLS context, or the old ones stay. */
static int
reload(struct kp_conf *out)
{
	SSL_CTX *ctx = NULL;

	if (load_conf(out, 1) != 0)
		return KP_E_CONFIG;
	if (out->tls_cert != NULL && (ctx = make_tls(out)) == NULL) {
		kp_conf_free(out);
		return KP_E_CONFIG;
	}
	if (tls_ctx != NULL)
		SSL_CTX_free(tls_ctx);
	tls_ctx = ctx;
	return 0;
}

static int
run_daemon(struct kp_conf *c, int foreground)
{
	struct kp_listener ls[MAX_SOCKS];
	int nls = 0;

	if (c->mail_uid != NULL) {
		/* every worker would die at start over it, and be replaced, forever */
		char why[256];
		uid_t uid;
		gid_t gid;

		if (kp_ident_mail_user(c, &uid, &gid, why, sizeof(why)) != 0) {
			kp_log(KP_LOG_ERR, "%s", why);
			return 1;
		}
	}
	if (open_listeners(c, ls, &nls) != 0)
		return 1;
	warm_up();
	return kp_master_run(c, ls, nls, foreground, serve, reload);
}

static int
run_inetd(struct kp_conf *c)
{
	pid_t authd;
	int sv[2];
	struct sockaddr_storage ss, ls_;
	socklen_t sl = sizeof(ss), ll = sizeof(ls_);
	char peer[NI_MAXHOST + 16] = "", local[NI_MAXHOST + 16] = "";
	char peer_log[NI_MAXHOST + 16] = "inetd";
	struct kp_serve_args a;
	struct kp_proxy_names pnames;
	int rc;

	memset(&ss, 0, sizeof(ss));
	memset(&ls_, 0, sizeof(ls_));
	if (getpeername(0, (struct sockaddr *)&ss, &sl) != 0)
		ss.ss_family = AF_UNSPEC; /* a pipe */
	if (getsockname(0, (struct sockaddr *)&ls_, &ll) != 0)
		ls_.ss_family = AF_UNSPEC;
	/* Only a TCP peer has an address SASL can use; pipes and UNIX sockets do not. */
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		int one = 1;

		kp_addr_names((struct sockaddr *)&ss, sl, peer, sizeof(peer), peer_log,
			   sizeof(peer_log));
		(void)setsockopt(0, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (ls_.ss_family == AF_INET || ls_.ss_family == AF_INET6)
		kp_addr_names((struct sockaddr *)&ls_, ll, local, sizeof(local), NULL, 0);
	/* The same processes as the daemon's: an auth service holds the keytab,
	 * this process serves the session. */
	if (kp_ipc_pair(sv) != 0) {
		kp_log(KP_LOG_ERR, "socketpair: %s", strerror(errno));
		return 1;
	}
	authd = fork();
	if (authd < 0) {
		kp_log(KP_LOG_ERR, "fork: %s", strerror(errno));
		return 1;
	}
	if (authd == 0) {
		close(sv[0]);
		close(0);
		close(1);
		kp_authd_main(c, -1, sv[1]);
	}
	close(sv[1]);
	kp_log_set_prefix(peer_log);
	kp_log(KP_LOG_INFO, "connect (inetd, pid %ld)", (long)getpid());
	/* In inetd mode the listener mode is the first listen setting's. */
	memset(&a, 0, sizeof(a));
	a.fd = 0;
	a.mode = c->listen[0].mode;
	a.peer = peer[0] ? peer : NULL;
	a.local = local[0] ? local : NULL;
	a.start_ms = kp_io_now_ms();
	a.auth_fd = sv[0];
	a.sid = 1;
	a.handover_fd = -1;
	a.listen = &c->listen[0];
	if (kp_split_wanted(c))
		rc = kp_split_prepare(c) != 0 ? KP_E_CONFIG : kp_split_serve(c, &a, serve, -1);
	else if ((rc = kp_proxy_front(c, &a, -1, &pnames)) == 0)
		rc = serve(c, &a);
	close(sv[0]);
	(void)waitpid(authd, NULL, 0);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct kp_conf conf;
	int inetd = 0, foreground = 0, test = 0, live = 0, status = 0, verbose = 0, opt, rc;

	signal(SIGPIPE, SIG_IGN);
	given.path = SYSCONFDIR "/kpopd.conf";
	while ((opt = getopt(argc, argv, "f:o:L:iFdtksvVh")) != -1) {
		switch (opt) {
		case 'f':
			given.path = optarg;
			given.explicit_path = 1;
			break;
		case 'o':
		case 'L':
			if (given.nover >= 63) {
				fprintf(stderr, "kpopd: too many -o/-L options\n");
				return 2;
			}
			if (opt == 'L') {
				size_t n = strlen(optarg) + sizeof("listen=");
				char *s = malloc(n);

				if (s == NULL)
					return 2;
				snprintf(s, n, "listen=%s", optarg);
				given.over[given.nover++] = s;
			} else if ((given.over[given.nover++] = strdup(optarg)) == NULL) {
				return 2;
			}
			break;
		case 'i':
			inetd = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'd':
			given.debug = 1;
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'k':
			live = 1;
			break;
		case 's':
			status = 1;
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
	if (optind != argc || (live && !test)) {
		usage(stderr);
		return 2;
	}
	/* argv is about to hold the process title: keep our own copies */
	if ((given.path = strdup(given.path)) == NULL)
		return 2;
	kp_proctitle_init(argc, argv);
	if (load_conf(&conf, !test && !status) != 0)
		return 2;
	if (status) {
		if (conf.control_socket == NULL) {
			fprintf(stderr, "kpopd: -s needs control_socket in kpopd.conf (the running "
				"daemon's setting)\n");
			kp_conf_free(&conf);
			return 2;
		}
		rc = kp_control_query(conf.control_socket);
		kp_conf_free(&conf);
		return rc;
	}
	if (test) {
		int problems;

		if (verbose)
			kp_conf_dump(&conf);
		problems = kp_selfcheck(&conf, verbose);
		if (live)
			problems += kp_selfcheck_live(&conf, verbose);
		kp_conf_free(&conf);
		if (problems > 0) {
			fprintf(stderr, "kpopd: %d problem%s found\n", problems,
				problems == 1 ? "" : "s");
			return 2;
		}
		fflush(stdout);
		fprintf(stderr, "kpopd: configuration OK\n");
		return 0;
	}
	kp_log_open("kpopd", kp_conf_log_flags(&conf), conf.log_level);
	kp_ident_init();
	if (conf.rcache_dir != NULL)
		setenv("KRB5RCACHEDIR", conf.rcache_dir, 1);
	if (conf.keytab != NULL)
		setenv("KRB5_KTNAME", conf.keytab, 1);
	if (kp_auth_global_init(&conf) != 0 ||
	    (conf.tls_cert != NULL && (tls_ctx = make_tls(&conf)) == NULL)) {
		kp_conf_free(&conf);
		return 1;
	}
	rc = inetd ? run_inetd(&conf) : run_daemon(&conf, foreground);
	kp_conf_free(&conf);
	return rc;
}
