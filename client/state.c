/* state.c - the UIDL state file: which messages of an account are already stored. */
#include "config.h"
#include "client/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"

#define STATE_MAGIC "kpop-state 1 "

int
state_uidl_ok(const char *uidl)
{
	size_t n = 0;

	for (; uidl[n] != '\0'; n++)
		if ((unsigned char)uidl[n] < 0x21 || (unsigned char)uidl[n] > 0x7e)
			return 0;
	return n >= 1 && n <= KP_UIDL_MAX;
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
find_slot(char **slot, size_t cap, const char *u)
{
	size_t i = (size_t)(hash(u) & (cap - 1));

	while (slot[i] != NULL && strcmp(slot[i], u) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static int
set_insert(struct state *st, const char *u)
{
	size_t i;

	if ((st->n + 1) * 2 > st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 256, k;
		char **ns = calloc(ncap, sizeof(*ns));

		if (ns == NULL)
			return KP_E_NOMEM;
		for (k = 0; k < st->cap; k++)
			if (st->slot[k] != NULL)
				ns[find_slot(ns, ncap, st->slot[k])] = st->slot[k];
		free(st->slot);
		st->slot = ns;
		st->cap = ncap;
	}
	i = find_slot(st->slot, st->cap, u);
	if (st->slot[i] != NULL)
		return 0;
	if ((st->slot[i] = strdup(u)) == NULL)
		return KP_E_NOMEM;
	st->n++;
	return 0;
}

int
state_has(const struct state *st, const char *uidl)
{
	return st->cap > 0 && st->slot[find_slot(st->slot, st->cap, uidl)] != NULL;
}

int
state_default_path(const char *key, char *out, size_t cap)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4096], safe[256];
	size_t i, n = 0;
	int len;

	for (i = 0; key[i] != '\0' && n + 1 < sizeof(safe); i++) {
		char ch = key[i];

		safe[n++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '@' ||
			    ch == '+' || ch == '=' ? ch : '_';
	}
	safe[n] = '\0';
	if (n > 0 && safe[0] == '.')
		safe[0] = '_';
	if (xdg != NULL && xdg[0] == '/')
		len = snprintf(dir, sizeof(dir), "%s/kpop", xdg);
	else if (home != NULL && home[0] == '/')
		len = snprintf(dir, sizeof(dir), "%s/.local/state/kpop", home);
	else {
		fprintf(stderr, "kpop: neither XDG_STATE_HOME nor HOME is set: cannot keep the "
			"state of what was fetched (give --state FILE)\n");
		return KP_E_CONFIG;
	}
	if (len < 0 || (size_t)len >= sizeof(dir))
		return KP_E_TOOBIG;
	/* mkdir -p, 0700 for what we create */
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				fprintf(stderr, "kpop: cannot create %s: %s\n", dir, strerror(errno));
				return KP_E_IO;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	len = snprintf(out, cap, "%s/%s", dir, safe);
	return len < 0 || (size_t)len >= cap ? KP_E_TOOBIG : 0;
}

/* Read the file into the set.  *rewrite_out: the file needs rewriting before
 * anything is appended (torn last line, bad lines, another ident, no header). */
static int
load(struct state *st, int fd, int *rewrite_out)
{
	char buf[8192], line[KP_UIDL_MAX + 2];
	size_t ln = 0;
	int first = 1, toolong = 0, mine = 1, rc;
	ssize_t r;
	char hdr[sizeof(STATE_MAGIC) + sizeof(st->ident) + 1];
	size_t hn = 0;

	*rewrite_out = 0;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return KP_E_IO;
		}
		for (ssize_t i = 0; i < r; i++) {
			char ch = buf[i];

			if (first) {
				if (ch != '\n') {
					if (hn + 1 < sizeof(hdr))
						hdr[hn++] = ch;
					continue;
				}
				hdr[hn] = '\0';
				first = 0;
				/* a NUL or an over-long header would compare as a shorter one */
				if (memchr(hdr, '\0', hn) != NULL || hn + 1 >= sizeof(hdr) ||
				    strncmp(hdr, STATE_MAGIC, strlen(STATE_MAGIC)) != 0 ||
				    strcmp(hdr + strlen(STATE_MAGIC), st->ident) != 0)
					mine = 0;
				continue;
			}
			if (ch != '\n') {
				if (ln < KP_UIDL_MAX + 1)
					line[ln++] = ch;
				else
					toolong = 1;
				continue;
			}
			line[ln] = '\0';
			if (!toolong && state_uidl_ok(line)) {
				if (mine && (rc = set_insert(st, line)) != 0)
					return rc;
			} else {
				*rewrite_out = 1;
			}
			ln = 0;
			toolong = 0;
		}
	}
	if (first && hn == 0)
		*rewrite_out = 1; /* empty or new file: write the header */
	else if (first || ln > 0 || toolong)
		*rewrite_out = 1; /* torn: a later append must not extend that line */
	if (!mine && !first) {
		fprintf(stderr, "kpop: %s belongs to another account or server: starting "
			"with an empty state (messages already fetched may come again)\n",
			st->path);
		*rewrite_out = 1;
	}
	return 0;
}

int
state_open(struct state *st, const char *path, const char *ident)
{
	char lock[4200];
	int rc, rewrite = 0, len;

	memset(st, 0, sizeof(*st));
	st->fd = st->lockfd = -1;
	snprintf(st->ident, sizeof(st->ident), "%s", ident);
	len = snprintf(st->path, sizeof(st->path), "%s", path);
	if (len < 0 || (size_t)len >= sizeof(st->path) ||
	    (size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock)) {
		fprintf(stderr, "kpop: state file name too long\n");
		return KP_E_TOOBIG;
	}
	st->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lockfd < 0) {
		fprintf(stderr, "kpop: cannot open %s: %s\n", lock, strerror(errno));
		rc = KP_E_IO;
		goto fail;
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? KP_E_INUSE : KP_E_IO;
		fprintf(stderr, "kpop: %s: %s\n", lock, rc == KP_E_INUSE ?
			"another kpop is fetching for this account" : strerror(errno));
		goto fail;
	}
	st->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->fd < 0) {
		fprintf(stderr, "kpop: cannot open %s: %s\n", path, strerror(errno));
		rc = KP_E_IO;
		goto fail;
	}
	if ((rc = load(st, st->fd, &rewrite)) != 0) {
		fprintf(stderr, "kpop: cannot read %s: %s\n", path,
			rc == KP_E_IO ? strerror(errno) : kp_strerror(rc));
		goto fail;
	}
	if (rewrite && (rc = state_save(st, NULL, NULL)) != 0)
		goto fail;
	return 0;
fail:
	state_close(st);
	return rc;
}

int
state_add(struct state *st, const char *uidl)
{
	char line[KP_UIDL_MAX + 2];
	int rc, n;

	if (!state_uidl_ok(uidl))
		return KP_E_SYNTAX;
	if (state_has(st, uidl))
		return 0;
	if ((rc = set_insert(st, uidl)) != 0)
		return rc;
	n = snprintf(line, sizeof(line), "%s\n", uidl);
	/* one write of a whole line: a kill leaves it whole or absent; no fsync, since
	 * a lost line only costs a duplicate (the message itself is already durable) */
	if (kp_write_all(st->fd, line, (size_t)n) != 0) {
		fprintf(stderr, "kpop: cannot append to %s: %s\n", st->path, strerror(errno));
		return KP_E_IO;
	}
	return 0;
}

static int
dir_fsync(const char *path)
{
	char dir[4096];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
state_save(struct state *st, int (*keep)(void *arg, const char *uidl), void *arg)
{
	char tmp[4200];
	FILE *f = NULL;
	int fd = -1, rc = KP_E_IO;
	size_t i;

	if (keep != NULL) {
		/* drop, then rebuild the set without them */
		char **old = st->slot;
		size_t cap = st->cap;

		st->slot = NULL;
		st->cap = st->n = 0;
		for (i = 0; i < cap; i++) {
			if (old[i] == NULL)
				continue;
			if (keep(arg, old[i]) && set_insert(st, old[i]) != 0) {
				/* out of memory: keep the file as it is */
				for (size_t k = i; k < cap; k++)
					free(old[k]);
				free(old);
				return KP_E_NOMEM;
			}
			free(old[i]);
		}
		free(old);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	fprintf(f, "%s%s\n", STATE_MAGIC, st->ident);
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL)
			fprintf(f, "%s\n", st->slot[i]);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, st->path) != 0)
		goto fail;
	if (dir_fsync(st->path) != 0)
		goto fail;
	/* appends now go to the new file */
	if (st->fd >= 0)
		close(st->fd);
	st->fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "kpop: cannot write the state file %s: %s\n", st->path,
		strerror(errno));
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

void
state_close(struct state *st)
{
	size_t i;

	for (i = 0; i < st->cap; i++)
		free(st->slot[i]);
	free(st->slot);
	st->slot = NULL;
	st->cap = st->n = 0;
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->lockfd >= 0)
		close(st->lockfd); /* the lock file stays: removing it would race */
	st->lockfd = -1;
}
