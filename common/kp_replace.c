/* kp_replace.c - write a temporary, fsync, rename over (kp_replace.h). */
#include "config.h"
#include "kp_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

FILE *
kp_replace_begin(struct kp_replace *r, int dirfd, const char *name)
{
	char host[64];
	int fd;

	memset(r, 0, sizeof(*r));
	r->dirfd = dirfd;
	r->name = name;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, "/.")] = '\0';
	if (snprintf(r->tmp, sizeof(r->tmp), ".%s.%s.%ld.tmp", name, host, (long)getpid()) >=
	    (int)sizeof(r->tmp)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = openat(dirfd, r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return NULL;
	r->f = fdopen(fd, "w");
	if (r->f == NULL) {
		int e = errno;

		close(fd);
		unlinkat(dirfd, r->tmp, 0);
		errno = e;
	}
	return r->f;
}

int
kp_replace_commit(struct kp_replace *r, int sync_dir)
{
	int ok, e;

	ok = fflush(r->f) == 0 && fsync(fileno(r->f)) == 0;
	e = errno;
	if (fclose(r->f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	r->f = NULL;
	if (ok && renameat(r->dirfd, r->tmp, r->dirfd, r->name) == 0)
		return sync_dir && fsync(r->dirfd) != 0 ? -1 : 0;
	if (ok)
		e = errno;
	unlinkat(r->dirfd, r->tmp, 0);
	errno = e;
	return -1;
}

void
kp_replace_abort(struct kp_replace *r)
{
	if (r->f != NULL)
		fclose(r->f);
	r->f = NULL;
	unlinkat(r->dirfd, r->tmp, 0);
}
