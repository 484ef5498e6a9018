/* kp_dotlock.c - the NFS-safe link(2) dotlock (see kp_dotlock.h). */
#include "config.h"
#include "kp_dotlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"

/* A lock somebody left: stale by age, or by what dead_holder reads in it. */
static int
stale(const char *lock, int (*dead_holder)(const char *body))
{
	struct stat st;
	char body[64];
	ssize_t r = -1;
	int fd;

	if (lstat(lock, &st) != 0)
		return 1; /* gone meanwhile: try again at once */
	if (time(NULL) - st.st_mtime > KP_DOTLOCK_STALE_SEC)
		return 1;
	if (dead_holder == NULL)
		return 0;
	fd = open(lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, body, sizeof(body) - 1);
		close(fd);
	}
	if (r <= 0)
		return 0;
	body[r] = '\0';
	return dead_holder(body);
}

int
kp_dotlock_take(struct kp_dotlock *l, const char *file, const char *tag, int tries,
		int (*dead_holder)(const char *body))
{
	char uniq[PATH_MAX], host[64], body[128];
	int fd, i, blen, err;

	l->held = 0;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s.lock", file) >= sizeof(l->path) ||
	    (size_t)snprintf(uniq, sizeof(uniq), "%s.lock.%ld.%s", file, (long)getpid(),
			     host) >= sizeof(uniq))
		return KP_E_TOOLONG;
	unlink(uniq);
	fd = open(uniq, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return KP_E_IO;
	blen = snprintf(body, sizeof(body), "%ld %s\n", (long)getpid(), tag);
	if (write(fd, body, (size_t)blen) != blen || close(fd) != 0) {
		err = errno;
		unlink(uniq);
		errno = err;
		return KP_E_IO;
	}
	for (i = 0; i < tries; i++) {
		struct stat st;
		int lr = link(uniq, l->path);

		err = errno;
		if (lr == 0 || (stat(uniq, &st) == 0 && st.st_nlink == 2)) {
			unlink(uniq);
			l->held = 1;
			return 0;
		}
		if (err != EEXIST) {
			unlink(uniq);
			errno = err;
			return KP_E_IO;
		}
		if (stale(l->path, dead_holder)) {
			kp_log(KP_LOG_WARN, "%s: removing a stale dotlock", file);
			unlink(l->path);
			continue;
		}
		if (i + 1 < tries)
			sleep(1);
	}
	unlink(uniq);
	return KP_E_INUSE;
}

void
kp_dotlock_release(struct kp_dotlock *l)
{
	if (l->held)
		unlink(l->path);
	l->held = 0;
}
