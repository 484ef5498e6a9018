/* faultinject.c - LD_PRELOAD shim for tests/e2e/faults.sh: makes one call of the
 * process fail the way a full or broken disk does, so that a test can fail every
 * step of kpop's delivery and of kpopd's UPDATE in turn.
 *
 *   KP_FAULT=FUNC:N:ERRNO[:sticky]  the Nth matching call of FUNC fails with ERRNO
 *                                    (ENOSPC, EIO, ENOMEM, EDQUOT or a number);
 *                                    sticky: that call and every later one
 *   KP_FAULT_MATCH=TEXT              only calls on a path containing TEXT count
 *                                    (the descriptor's path for write, read,
 *                                    fsync, ftruncate; the directory's path and
 *                                    the name for the *at calls and rename)
 *   KP_FAULT_COUNT=FILE              count instead: append FUNC to FILE for every
 *                                    matching call (how many steps there are)
 *   KP_FAULT_LOG=FILE                append "FUNC N ERRNO PID" when a fault fires
 *
 * FUNC: write read fsync fdatasync ftruncate open openat linkat unlinkat rename
 * renameat malloc (malloc ignores KP_FAULT_MATCH).  Counts are per process, from
 * its start or its fork. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);

static int in_shim; /* our own calls (logging, readlink) never count */
static unsigned long count_write, count_read, count_fsync, count_fdatasync, count_ftruncate,
	count_open, count_openat, count_linkat, count_unlinkat, count_rename, count_renameat,
	count_malloc;

static int
errno_named(const char *s)
{
	if (strcmp(s, "ENOSPC") == 0)
		return ENOSPC;
	if (strcmp(s, "EIO") == 0)
		return EIO;
	if (strcmp(s, "ENOMEM") == 0)
		return ENOMEM;
	if (strcmp(s, "EDQUOT") == 0)
		return EDQUOT;
	return (int)strtol(s, NULL, 10);
}

static void
append(const char *file, const char *line)
{
	int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
	ssize_t (*real_write)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
	int fd;

	if (file == NULL || real_open == NULL || real_write == NULL)
		return;
	fd = real_open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) {
		(void)!real_write(fd, line, strlen(line));
		close(fd);
	}
}

/* Does a call on this path count? */
static int
matches(const char *path)
{
	const char *m = getenv("KP_FAULT_MATCH");

	return m == NULL || (path != NULL && strstr(path, m) != NULL);
}

static int
fd_matches(int fd, const char *name)
{
	char link[64], path[PATH_MAX + 256];
	ssize_t n;

	if (getenv("KP_FAULT_MATCH") == NULL)
		return 1;
	if (fd == AT_FDCWD) {
		if (getcwd(path, PATH_MAX) == NULL)
			return 0;
		n = (ssize_t)strlen(path);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, PATH_MAX);
		if (n < 0)
			return 0;
	}
	path[n] = '\0';
	if (name != NULL) {
		size_t len = (size_t)n;

		snprintf(path + len, sizeof(path) - len, "/%s", name);
	}
	return matches(path);
}

/* Should this call (the *counter-th of func that matched) fail?  Sets errno. */
static int
fault(const char *func, unsigned long *counter, int match)
{
	const char *spec = getenv("KP_FAULT"), *p;
	char line[128], name[32];
	unsigned long n;
	size_t len;
	int err;

	if (in_shim || !match)
		return 0;
	in_shim = 1;
	++*counter;
	if (getenv("KP_FAULT_COUNT") != NULL) {
		snprintf(line, sizeof(line), "%s\n", func);
		append(getenv("KP_FAULT_COUNT"), line);
	}
	if (spec == NULL || (p = strchr(spec, ':')) == NULL) {
		in_shim = 0;
		return 0;
	}
	len = (size_t)(p - spec);
	if (len >= sizeof(name) || strncmp(spec, func, len) != 0 || func[len] != '\0') {
		in_shim = 0;
		return 0;
	}
	n = strtoul(p + 1, (char **)&p, 10);
	if (*p != ':' || (*counter != n && !(*counter > n && strstr(p, ":sticky") != NULL))) {
		in_shim = 0;
		return 0;
	}
	snprintf(name, sizeof(name), "%s", p + 1);
	name[strcspn(name, ":")] = '\0';
	err = errno_named(name);
	snprintf(line, sizeof(line), "%s %lu %s %ld\n", func, *counter, name, (long)getpid());
	append(getenv("KP_FAULT_LOG"), line);
	in_shim = 0;
	errno = err;
	return 1;
}

#define REAL(type, name, args) \
	static type(*real_##name) args; \
	if (real_##name == NULL) \
		real_##name = (type(*) args)dlsym(RTLD_NEXT, #name)

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, write, (int, const void *, size_t));
	if (fault("write", &count_write, !in_shim && fd > 2 && fd_matches(fd, NULL)))
		return -1;
	return real_write(fd, buf, n);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	REAL(ssize_t, read, (int, void *, size_t));
	if (fault("read", &count_read, !in_shim && fd_matches(fd, NULL)))
		return -1;
	return real_read(fd, buf, n);
}

int
fsync(int fd)
{
	REAL(int, fsync, (int));
	if (fault("fsync", &count_fsync, !in_shim && fd_matches(fd, NULL)))
		return -1;
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	REAL(int, fdatasync, (int));
	if (fault("fdatasync", &count_fdatasync, !in_shim && fd_matches(fd, NULL)))
		return -1;
	return real_fdatasync(fd);
}

int
ftruncate(int fd, off_t len)
{
	REAL(int, ftruncate, (int, off_t));
	if (fault("ftruncate", &count_ftruncate, !in_shim && fd_matches(fd, NULL)))
		return -1;
	return real_ftruncate(fd, len);
}

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	REAL(int, open, (const char *, int, ...));
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (fault("open", &count_open, !in_shim && matches(path)))
		return -1;
	return real_open(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	REAL(int, openat, (int, const char *, int, ...));
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (fault("openat", &count_openat, !in_shim && (path[0] == '/' ? matches(path) :
	    fd_matches(dirfd, path))))
		return -1;
	return real_openat(dirfd, path, flags, mode);
}

int
linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	REAL(int, linkat, (int, const char *, int, const char *, int));
	if (fault("linkat", &count_linkat, !in_shim && fd_matches(newdirfd, newpath)))
		return -1;
	return real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	REAL(int, unlinkat, (int, const char *, int));
	if (fault("unlinkat", &count_unlinkat, !in_shim && fd_matches(dirfd, path)))
		return -1;
	return real_unlinkat(dirfd, path, flags);
}

int
rename(const char *from, const char *to)
{
	REAL(int, rename, (const char *, const char *));
	if (fault("rename", &count_rename, !in_shim && matches(to)))
		return -1;
	return real_rename(from, to);
}

int
renameat(int olddirfd, const char *from, int newdirfd, const char *to)
{
	REAL(int, renameat, (int, const char *, int, const char *));
	if (fault("renameat", &count_renameat, !in_shim && fd_matches(newdirfd, to)))
		return -1;
	return real_renameat(olddirfd, from, newdirfd, to);
}

void *
malloc(size_t n)
{
	static int armed = -1;

	if (armed < 0 && !in_shim) {
		const char *s = getenv("KP_FAULT");

		armed = s != NULL && strncmp(s, "malloc:", 7) == 0;
	}
	if (armed == 1 && fault("malloc", &count_malloc, 1))
		return NULL;
	return __libc_malloc(n);
}
