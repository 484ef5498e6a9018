/* mdstate.c - LOGIN-DELAY and EXPIRE state of one maildrop, kept durably in it. */
#include "config.h"
#include "server/mdstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "kp_replace.h"
#include "kp_pop3.h"

/* The file: this header line, then "login SECONDS" (at most one) and one
 * "retr SECONDS UIDL" per message retrieved (SECONDS: its first retrieval). */
#define MAGIC "kpopd-state-1"

struct rec {
	const char *uidl;        /* points into text */
	long long when;
};

struct kp_mdstate {
	struct kp_maildrop *md;
	unsigned long n;         /* messages served (numbers 1..n) */
	long long last_login;    /* 0: none recorded */
	long long *first;        /* [n] first retrieval in an earlier session; 0 never */
	unsigned char *now;      /* [n] retrieved with RETR in this session */
	char *text;              /* the file as read (rec.uidl points into it) */
	struct rec *other;       /* records of messages not served now (past max_messages) */
	size_t nother;
};

/* Message numbers sorted by UIDL, to find a record's message. */
struct byuidl {
	const char *uidl;
	unsigned long n;
};

static int
byuidl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct byuidl *)a)->uidl, ((const struct byuidl *)b)->uidl);
}

static int
valid_uidl(const char *u)
{
	size_t n = strlen(u), i;

	if (n == 0 || n > KP_UIDL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || (unsigned char)u[i] > 0x7e)
			return 0;
	return 1;
}

/* "SECONDS" strictly, 1 .. 2^40 (far beyond any clock, far from overflow). */
static int
parse_time(const char *s, long long *out)
{
	unsigned long v;

	if (kp_parse_ulong(s, 1, 1UL << 40, &v) != 0)
		return -1;
	*out = (long long)v;
	return 0;
}

/* Read the whole file into st->text; 0 (also for a missing file: text NULL) or -1. */
static int
read_file(struct kp_mdstate *st, int dirfd, const char *name, size_t cap)
{
	struct stat sb;
	ssize_t r;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (unsigned long long)sb.st_size > cap ||
	    (st->text = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	r = read(fd, st->text, (size_t)sb.st_size);
	close(fd);
	if (r != sb.st_size)
		return -1;
	st->text[r] = '\0';
	return 0;
}

/* Parse st->text into the records.  0, or -1 for anything but the format. */
static int
parse(struct kp_mdstate *st)
{
	struct byuidl *idx = NULL;
	char *p = st->text, *nl;
	unsigned long i, found = kp_maildrop_found(st->md), lines = 1, other_max;
	int rc = -1, lineno = 0;

	for (nl = p; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	other_max = found > st->n ? found - st->n : 0;
	if (other_max > lines)
		other_max = lines;
	idx = malloc((st->n > 0 ? st->n : 1) * sizeof(*idx));
	st->other = malloc((other_max > 0 ? other_max : 1) * sizeof(*st->other));
	if (idx == NULL || st->other == NULL)
		goto done;
	for (i = 0; i < st->n; i++) {
		idx[i].uidl = kp_maildrop_uidl(st->md, i + 1);
		idx[i].n = i + 1;
	}
	qsort(idx, st->n, sizeof(*idx), byuidl_cmp);
	for (; *p != '\0'; p = nl + 1) {
		char *sp;
		long long when;

		nl = strchr(p, '\n');
		if (nl == NULL || nl - p > KP_MDSTATE_LINE_MAX)
			goto done;
		*nl = '\0';
		if (lineno++ == 0) {
			if (strcmp(p, MAGIC) != 0)
				goto done;
			continue;
		}
		if (strncmp(p, "login ", 6) == 0) {
			if (st->last_login != 0 || parse_time(p + 6, &st->last_login) != 0)
				goto done;
			continue;
		}
		if (strncmp(p, "retr ", 5) != 0 || (sp = strchr(p + 5, ' ')) == NULL)
			goto done;
		*sp = '\0';
		if (parse_time(p + 5, &when) != 0 || !valid_uidl(sp + 1))
			goto done;
		{
			struct byuidl key, *hit;

			key.uidl = sp + 1;
			hit = bsearch(&key, idx, st->n, sizeof(*idx), byuidl_cmp);
			if (hit != NULL) {
				long long *f = &st->first[hit->n - 1];

				if (*f == 0 || when < *f)
					*f = when;
			} else if (st->nother < other_max) {
				/* a message past max_messages (served once older mail is
				 * gone) keeps its record; one that is gone loses it */
				st->other[st->nother].uidl = sp + 1;
				st->other[st->nother++].when = when;
			}
		}
	}
	rc = lineno > 0 ? 0 : -1;
done:
	free(idx);
	return rc;
}

int
kp_mdstate_open(struct kp_maildrop *md, struct kp_mdstate **out)
{
	struct kp_mdstate *st;
	const char *name;
	int dirfd;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return KP_E_NOMEM;
	st->md = md;
	st->n = kp_maildrop_count(md);
	st->first = calloc(st->n > 0 ? st->n : 1, sizeof(*st->first));
	st->now = calloc(st->n > 0 ? st->n : 1, 1);
	if (st->first == NULL || st->now == NULL) {
		kp_mdstate_free(st);
		return KP_E_NOMEM;
	}
	dirfd = kp_maildrop_state_at(md, &name);
	if (dirfd >= 0) {
		/* one line per message found at most, and the login line */
		size_t cap = (kp_maildrop_found(md) + 2) * (size_t)(KP_MDSTATE_LINE_MAX + 1);

		if (read_file(st, dirfd, name, cap) != 0 || (st->text != NULL && parse(st) != 0)) {
			kp_log(KP_LOG_WARN, "maildrop state %s: unreadable or malformed: ignored "
			       "(no earlier login or retrieval counts)", name);
			st->last_login = 0;
			memset(st->first, 0, (st->n > 0 ? st->n : 1) * sizeof(*st->first));
			st->nother = 0;
		}
	}
	*out = st;
	return 0;
}

long
kp_mdstate_login_wait(const struct kp_mdstate *st, uint32_t delay, time_t now)
{
	long long since = (long long)now - st->last_login;

	if (st->last_login == 0 || delay == 0 || since >= (long long)delay)
		return 0;
	/* a last login in the future (the clock went back): wait at most delay */
	return since < 0 ? (long)delay : (long)((long long)delay - since);
}

/* Write the state: a temporary file, fsync, rename over the old one, fsync the
 * directory.  0 or KP_E_IO (logged; the old file stays). */
static int
write_state(struct kp_mdstate *st, time_t now)
{
	struct kp_replace r;
	const char *name;
	unsigned long i;
	size_t k;
	FILE *f;
	int dirfd;

	dirfd = kp_maildrop_state_at(st->md, &name);
	if (dirfd < 0) {
		kp_log(KP_LOG_WARN, "maildrop state: this maildrop has no place for it (no "
		       "Maildir or spool yet, or its directory cannot be opened)");
		return KP_E_IO;
	}
	f = kp_replace_begin(&r, dirfd, name);
	if (f == NULL) {
		kp_log(KP_LOG_WARN, "maildrop state %s: cannot write a temporary beside it: %s",
		       name, strerror(errno));
		return KP_E_IO;
	}
	fprintf(f, MAGIC "\n");
	if (st->last_login != 0)
		fprintf(f, "login %lld\n", st->last_login);
	for (i = 0; i < st->n; i++) {
		if (kp_maildrop_deleted(st->md, i + 1) || (st->first[i] == 0 && !st->now[i]))
			continue;
		fprintf(f, "retr %lld %s\n", st->first[i] != 0 ? st->first[i] : (long long)now,
			kp_maildrop_uidl(st->md, i + 1));
	}
	for (k = 0; k < st->nother; k++)
		fprintf(f, "retr %lld %s\n", st->other[k].when, st->other[k].uidl);
	if (kp_replace_commit(&r, 1) != 0) {
		kp_log(KP_LOG_WARN, "maildrop state %s: write failed: %s", name, strerror(errno));
		return KP_E_IO;
	}
	return 0;
}

int
kp_mdstate_login(struct kp_mdstate *st, time_t now)
{
	long long was = st->last_login;

	st->last_login = (long long)now;
	if (write_state(st, now) != 0) {
		st->last_login = was;
		return KP_E_IO;
	}
	return 0;
}

void
kp_mdstate_retrieved(struct kp_mdstate *st, unsigned long n)
{
	if (n >= 1 && n <= st->n)
		st->now[n - 1] = 1;
}

unsigned long
kp_mdstate_expire(struct kp_mdstate *st, uint32_t days, time_t now)
{
	unsigned long i, marked = 0;

	for (i = 0; i < st->n; i++) {
		long long since, age;
		time_t mtime;

		if (kp_maildrop_deleted(st->md, i + 1) || (st->first[i] == 0 && !st->now[i]))
			continue;
		if (days > 0 && st->first[i] == 0)
			continue; /* retrieved in this session only: it stays until the next */
		mtime = kp_maildrop_mtime(st->md, i + 1);
		since = mtime > 0 ? (long long)mtime : st->first[i] != 0 ? st->first[i] :
			(long long)now;
		age = (long long)now - since;
		if (days > 0 && age < (long long)days * 86400)
			continue;
		kp_maildrop_mark(st->md, i + 1);
		marked++;
		kp_log(KP_LOG_INFO, "EXPIRE %lu: removing message %lu uidl=%s (retrieved %s, "
		       "%lld days old)", (unsigned long)days, i + 1,
		       kp_maildrop_uidl(st->md, i + 1),
		       st->first[i] != 0 ? "in an earlier session" : "in this session",
		       age > 0 ? age / 86400 : 0);
	}
	return marked;
}

int
kp_mdstate_save(struct kp_mdstate *st, time_t now)
{
	return write_state(st, now);
}

void
kp_mdstate_free(struct kp_mdstate *st)
{
	if (st == NULL)
		return;
	free(st->first);
	free(st->now);
	free(st->text);
	free(st->other);
	free(st);
}
