/* control.c - the master's control socket: the live-session list for kpopd -s. */
#include "config.h"
#include "server/control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "kp_log.h"

static int
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int
kp_control_open(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, probe, rc;

	if (unix_addr(path, &sun) != 0) {
		kp_log(KP_LOG_ERR, "control_socket %s: path too long", path);
		return -1;
	}
	/* a socket left by a kpopd that died is replaced; one a live kpopd answers on,
	 * or anything that is not a socket, is left alone */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			kp_log(KP_LOG_ERR, "control_socket %s exists and is not a socket: no live "
			       "session list (kpopd -s)", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		rc = probe >= 0 ? connect(probe, (struct sockaddr *)&sun, sizeof(sun)) : -1;
		if (probe >= 0)
			close(probe);
		if (rc == 0) {
			kp_log(KP_LOG_ERR, "control_socket %s: another kpopd answers on it: no "
			       "live session list (kpopd -s) for this one", path);
			return -1;
		}
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		kp_log(KP_LOG_ERR, "control_socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177); /* 0600, root only: the list names users and their addresses */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, 8) != 0) {
		kp_log(KP_LOG_ERR, "control_socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
kp_control_close(int fd, const char *path)
{
	struct stat st;

	if (fd < 0)
		return;
	close(fd);
	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
}

/* "1:02:03" */
static void
duration(long long ms, char *out, size_t cap)
{
	long long s = ms < 0 ? 0 : ms / 1000;

	snprintf(out, cap, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

void
kp_control_answer(int lfd, const struct kp_control_row *rows, int n, int idle,
		  long long now_ms, long long up_ms)
{
	struct timeval tv = { 1, 0 };
	char up[32], t[32];
	FILE *f;
	int fd, i, in = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* nothing is read from the socket; a reader that stalls costs the master at
	 * most a second */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	for (i = 0; i < n; i++)
		in += rows[i].logged_in;
	duration(up_ms, up, sizeof(up));
	fprintf(f, "kpopd %s, master pid %ld, up %s: %d session%s (%d logged in), %d idle "
		"worker%s\n", PACKAGE_VERSION, (long)getpid(), up, n, n == 1 ? "" : "s", in, idle,
		idle == 1 ? "" : "s");
	fprintf(f, "%-7s %-24s %-16s %-6s %-13s %s\n", "PID", "PEER", "USER", "MECH", "STATE",
		"TIME");
	for (i = 0; i < n; i++) {
		const struct kp_control_row *r = &rows[i];

		duration(now_ms - r->since_ms, t, sizeof(t));
		fprintf(f, "%-7ld %-24s %-16s %-6s %-13s %s\n", r->pid,
			r->peer[0] != '\0' ? r->peer : "-",
			r->logged_in && r->user[0] != '\0' ? r->user : "-",
			r->logged_in && r->mech[0] != '\0' ? r->mech : "-",
			r->logged_in ? "transaction" : "authorization", t);
	}
	fclose(f);
}

int
kp_control_query(const char *path)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	if (unix_addr(path, &sun) != 0) {
		fprintf(stderr, "kpopd: control_socket %s: path too long\n", path);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "kpopd: control_socket %s: %s (is kpopd running with this "
			"configuration?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	close(fd);
	return n < 0 ? 1 : 0;
}
