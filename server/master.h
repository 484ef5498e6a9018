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
};

/* Serve one connection in a worker.  auth_fd: the worker's channel to the auth
 * service; sid: the session number for the logs.  logged_in(arg) must be called
 * when the session logs in (the master counts connections that have not, per
 * address). */
typedef int (*kp_serve_fn)(const struct kp_conf *c, int fd, enum kp_listen_mode mode,
			   const char *peer, const char *local, long long start_ms,
			   int auth_fd, uint32_t sid,
			   void (*logged_in)(void *arg, const char *user), void *arg);

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
