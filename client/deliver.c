/* deliver.c - storing fetched messages durably: Maildir, mbox or standard output. */
#include "config.h"
#include "client/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kp_io.h"

static int
write_all(int fd, const char *p, size_t n)
{
	return kp_write_all(fd, p, n) == 0 ? 0 : -1;
}

static int
mkdir_p(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* A dotlock (FILE.lock, O_EXCL), taken over if older than 5 minutes. */
static int
dotlock(const char *path)
{
	char lock[4200];
	int i, fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	for (i = 0; i < 30; i++) {
		struct stat st;

		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
		if (stat(lock, &st) == 0 && time(NULL) - st.st_mtime > 300)
			unlink(lock);
		else
			sleep(1);
	}
	errno = EWOULDBLOCK;
	return -1;
}

int
sink_open(struct sink *s, enum sink_kind kind, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->fd = s->dirfd = s->mbox_lockfd = -1;
	if (path != NULL)
		snprintf(s->path, sizeof(s->path), "%s", path);
	if (kind == SINK_MAILDIR) {
		char sub[4200];
		const char *subs[] = { "tmp", "new", "cur" };
		int i;

		if (mkdir_p(path) != 0)
			goto fail;
		for (i = 0; i < 3; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", path, subs[i]);
			if (mkdir_p(sub) != 0)
				goto fail;
		}
		s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			goto fail;
	} else if (kind == SINK_MBOX) {
		struct flock fl;

		s->mbox_lockfd = dotlock(path);
		if (s->mbox_lockfd < 0)
			goto fail;
		s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (s->fd < 0)
			goto fail;
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(s->fd, F_SETLKW, &fl) != 0)
			goto fail;
	} else {
		s->fd = 1;
	}
	return 0;
fail:
	fprintf(stderr, "kpop: cannot open %s: %s\n", path, strerror(errno));
	sink_close(s);
	return -1;
}

int
sink_begin(struct sink *s)
{
	s->err = 0;
	s->bol = 1;
	s->ngt = 0;
	s->npend = 0;
	s->last_nl = 1;
	if (s->kind == SINK_MAILDIR) {
		struct timeval tv;
		char host[128];

		gettimeofday(&tv, NULL);
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		/* "/" and ":" are not allowed in a Maildir host part */
		for (char *p = host; *p; p++)
			if (*p == '/' || *p == ':')
				*p = '_';
		snprintf(s->tmpname, sizeof(s->tmpname), "%ld.M%ldP%ldQ%lu.%s", (long)tv.tv_sec,
			 (long)tv.tv_usec, (long)getpid(), ++s->counter, host);
		{
			char rel[600];

			snprintf(rel, sizeof(rel), "tmp/%s", s->tmpname);
			s->fd = openat(s->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		}
		if (s->fd < 0) {
			fprintf(stderr, "kpop: cannot create a file in %s/tmp: %s\n", s->path,
				strerror(errno));
			return -1;
		}
	} else if (s->kind == SINK_MBOX) {
		char from[128];
		time_t now = time(NULL);
		struct tm tm;

		s->mbox_start = lseek(s->fd, 0, SEEK_END);
		gmtime_r(&now, &tm);
		strftime(from, sizeof(from), "From kpop@localhost %a %b %e %H:%M:%S %Y\n", &tm);
		if (write_all(s->fd, from, strlen(from)) != 0) {
			s->err = errno;
			return -1;
		}
	}
	return 0;
}

/* Write what was held at the start of a line: one more '>' if quote, the run of
 * '>' that was counted, then the held bytes. */
static int
flush_pend(struct sink *s, int quote)
{
	static const char gts[64] = {
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
	};
	unsigned long long left = s->ngt + (quote ? 1 : 0);
	int rc = 0;

	while (rc == 0 && left > 0) {
		size_t k = left < sizeof(gts) ? (size_t)left : sizeof(gts);

		rc = write_all(s->fd, gts, k);
		left -= k;
	}
	if (rc == 0 && s->npend > 0)
		rc = write_all(s->fd, s->pend, s->npend);
	s->ngt = 0;
	s->npend = 0;
	return rc;
}

/* mboxrd: a line matching ">*From " gets one more '>'.  The start of each line is
 * held back until it decides, so a match split across chunks is still caught: the
 * leading '>' are only counted (a run of any length costs no buffer), then up to
 * five bytes are kept while they are a prefix of "From ". */
static int
mbox_write(struct sink *s, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s->bol) {
			char ch = p[i++];

			if (ch == '>' && s->npend == 0) {
				s->ngt++;
				continue;
			}
			s->pend[s->npend++] = ch;
			if (memcmp(s->pend, "From ", s->npend) == 0) {
				if (s->npend < sizeof(s->pend))
					continue; /* a prefix of "From ": undecided */
				if (flush_pend(s, 1) != 0)
					return -1;
				s->bol = 0;
			} else {
				if (flush_pend(s, 0) != 0)
					return -1;
				/* an empty or all-'>' line: the next byte starts a line too */
				s->bol = ch == '\n';
			}
		} else {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t len = nl != NULL ? (size_t)(nl - (p + i)) + 1 : n - i;

			if (write_all(s->fd, p + i, len) != 0)
				return -1;
			i += len;
			s->bol = nl != NULL;
		}
	}
	return 0;
}

int
sink_write(struct sink *s, const char *data, size_t n)
{
	int rc;

	if (s->err != 0 || n == 0)
		return s->err ? -1 : 0;
	if (s->kind == SINK_MBOX)
		rc = mbox_write(s, data, n);
	else
		rc = write_all(s->fd, data, n);
	if (rc != 0) {
		s->err = errno ? errno : EIO;
		return -1;
	}
	s->last_nl = data[n - 1] == '\n';
	return 0;
}

int
sink_commit(struct sink *s)
{
	if (s->err != 0)
		goto fail;
	if (s->kind == SINK_MAILDIR) {
		char from[600], to[600];
		int d;

		if (fsync(s->fd) != 0 || close(s->fd) != 0) {
			s->fd = -1;
			s->err = errno;
			goto fail;
		}
		s->fd = -1;
		snprintf(from, sizeof(from), "tmp/%s", s->tmpname);
		snprintf(to, sizeof(to), "new/%s", s->tmpname);
		if (linkat(s->dirfd, from, s->dirfd, to, 0) != 0) {
			s->err = errno;
			goto fail;
		}
		unlinkat(s->dirfd, from, 0);
		/* the new name must survive a crash too */
		d = openat(s->dirfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d < 0 || fsync(d) != 0) {
			s->err = errno;
			if (d >= 0)
				close(d);
			unlinkat(s->dirfd, to, 0);
			goto fail;
		}
		close(d);
		return 0;
	}
	if (s->kind == SINK_MBOX) {
		if (flush_pend(s, 0) != 0) {
			s->err = errno;
			goto fail;
		}
		/* a blank line separates messages */
		if ((!s->last_nl && write_all(s->fd, "\n", 1) != 0) ||
		    write_all(s->fd, "\n", 1) != 0 || fsync(s->fd) != 0) {
			s->err = errno;
			goto fail;
		}
		return 0;
	}
	/* standard output: durable as far as we can tell */
	if (fsync(s->fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
		s->err = errno;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "kpop: storing a message in %s failed: %s\n",
		s->kind == SINK_STDOUT ? "standard output" : s->path, strerror(s->err));
	sink_abort(s);
	return -1;
}

void
sink_abort(struct sink *s)
{
	if (s->kind == SINK_MAILDIR) {
		char rel[600];

		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		snprintf(rel, sizeof(rel), "tmp/%s", s->tmpname);
		unlinkat(s->dirfd, rel, 0);
	} else if (s->kind == SINK_MBOX && s->fd >= 0) {
		if (ftruncate(s->fd, s->mbox_start) != 0)
			fprintf(stderr, "kpop: could not roll back %s: %s\n", s->path,
				strerror(errno));
	}
}

void
sink_close(struct sink *s)
{
	if (s->kind != SINK_STDOUT && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	if (s->mbox_lockfd >= 0) {
		char lock[4200];

		close(s->mbox_lockfd);
		snprintf(lock, sizeof(lock), "%s.lock", s->path);
		unlink(lock);
	}
	s->mbox_lockfd = -1;
}
