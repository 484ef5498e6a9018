/* master.h - the daemon's master: listeners, limits, a pre-started pool of session
 * workers, signals and reload.  It accepts connections and hands each to a worker
 * over a socketpair; it never reads a byte a client sent. */
#ifndef KP_SERVER_MASTER_H
#define KP_SERVER_MASTER_H

#include <stdint.h>
#include <sys/socket.h>
#include "server/conf.h"

struct kp_listener {
	int fd;
	enum kp_listen_mode mode;
	char name[80];
	int conf_index;   /* its listen setting in the configuration, -1: none */
};

struct kp_ipc_verdict;

/* One connection for the serve function.  The pool worker fills it; in system-user
 * mode (server/split.c) the session's two processes each get their half. */
struct kp_serve_args {
	int fd;                  /* the connection; the back half: the data socket */
	enum kp_listen_mode mode;
	const char *peer, *local; /* "ip;port" */
	long long start_ms;      /* accept time (kp_io_now_ms) */
	int greeted;             /* the master sent the greeting already */
	int auth_fd;             /* the channel to the auth service; -1 none */
	uint32_t sid;            /* the session number for the logs */
	/* System-user mode.  The front (unprivileged): after the verdict, the session
	 * parent serves TRANSACTION on handover_fd and the front relays; else -1.
	 * The back (the session parent): log in with verdict and serve TRANSACTION on
	 * fd; kpop says the session authenticated with KPOP (CAPA lists no SASL). */
	int handover_fd;
	const struct kp_ipc_verdict *verdict;
	int kpop;
	const char *mech;        /* the back: how the front logged in (kpopd -s) */
	/* Called when the session logs in (the master counts connections that have
	 * not, per address; the process title names the user); may be NULL. */
	void (*logged_in)(void *arg, const char *user, const char *mech);
	void *arg;
	/* the listen setting the connection came in on (its proxy options); may be
	 * NULL */
	const struct kp_listen *listen;
};

/* Serve one connection in a worker. */
typedef int (*kp_serve_fn)(const struct kp_conf *c, const struct kp_serve_args *a);

/* Build a new configuration for SIGHUP into *out (defaults, file, -o overrides,
 * checks, and whatever depends on it such as the TLS context).  0, or a KP_E_*
 * after logging why (the running configuration then stays). */
typedef int (*kp_reload_fn)(struct kp_conf *out);

/* Run the daemon until SIGTERM: *c may be replaced by a reload.  Returns the
 * process exit status. */
int kp_master_run(struct kp_conf *c, struct kp_listener *ls, int nls, int foreground,
		  kp_serve_fn serve, kp_reload_fn reload);

/* "ip;port" (SASL's format) and "ip:port" / "[ip6]:port" (logs) for an address;
 * either output may be NULL. */
void kp_addr_names(const struct sockaddr *sa, socklen_t len, char *sasl, size_t sasl_cap,
		   char *log, size_t log_cap);

#endif
