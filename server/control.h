/* control.h - the master's control socket (control_socket): kpopd -s connects and
 * gets the live-session list; the master never reads a byte from it. */
#ifndef KP_SERVER_CONTROL_H
#define KP_SERVER_CONTROL_H

/* One session for the list (the strings belong to the caller). */
struct kp_control_row {
	long pid;             /* the worker serving it */
	const char *peer;     /* "ADDR:PORT" ("" unknown yet) */
	const char *user;     /* after login */
	const char *mech;     /* after login: GSSAPI, PLAIN, USER or KPOP */
	int logged_in;
	long long since_ms;   /* kp_io_now_ms at accept */
};

/* Listen on the UNIX socket path, mode 0600 (a stale socket is replaced; one a
 * live kpopd answers on is not).  The non-blocking listening descriptor, or -1
 * (logged). */
int kp_control_open(const char *path);

/* Close fd and remove the socket path (if it is still a socket). */
void kp_control_close(int fd, const char *path);

/* Accept one connection on lfd and write the list to it: a summary line, a header
 * and one line per row; up_ms: how long the master has run. */
void kp_control_answer(int lfd, const struct kp_control_row *rows, int n, int idle,
		       long long now_ms, long long up_ms);

/* kpopd -s: print what the master at path says.  Exit status: 0, 1 (no kpopd
 * answers), 2 (bad path). */
int kp_control_query(const char *path);

#endif
