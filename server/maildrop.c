/* maildrop.c - one user's Maildir as a POP3 maildrop, or an mbox spool through mbox.c. */
#include "config.h"
#include "server/maildrop.h"
#include "server/mbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_dot.h"
#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "kp_replace.h"
#include "kp_pop3.h"

#define CHUNK 65536
static const char *subdirs[2] = { "new", "cur" };

struct msg {
	char *name;              /* file name inside new/ or cur/ */
	unsigned char sub;       /* 0 new, 1 cur */
	unsigned char deleted;
	time_t mtime;
	ino_t ino;               /* inode, mtime in ns and size on disk validate the */
	unsigned long long mtime_ns; /* size cache */
	off_t fsize;
	unsigned long long size; /* wire size */
	char uidl[KP_UIDL_MAX + 1];
};

/* The size cache (.kpopd.sizes in the Maildir): the wire size of each message,
 * valid while the file's inode, mtime and size are unchanged, so that a login does
 * not read the whole mailbox.  Its first line records new/ and cur/ (inode and
 * mtime in ns, taken before they were listed): while both are unchanged, nothing
 * was added, removed or renamed, and Maildir messages are never rewritten in
 * place, so the cache is the listing and no file needs a stat (Dovecot's uidlist
 * relies on the same rule).  Any problem with it means "no cache". */
struct cached {
	const char *name;
	unsigned long long ino, mtime, fsize, wsize, sub;
};

/* A directory's stamp: inode and mtime (ns).  A directory changed less than
 * STAMP_SETTLE_SEC ago gets mtime 0, "not to be trusted": a change within the
 * same clock tick as our look would leave the mtime as it was.  A missing one is
 * inode 0, mtime 1. */
#define STAMP_SETTLE_SEC 2
struct stamp {
	unsigned long long ino, mtime;
};

struct kp_maildrop {
	struct kp_mbox *mbox;    /* an mbox spool: every call goes there */
	int rootfd;              /* the Maildir; -1 if missing */
	int dirfd[2];            /* new/, cur/; -1 if missing */
	char *cache_text;        /* the cache file's contents (names point into it) */
	struct cached *cache;
	size_t ncache, cache_hits;
	struct stamp stamp[2];   /* new/, cur/ when we listed them */
	int cache_current;       /* the cache's stamps are stamp[] */
	int lockfd;
	struct msg *msgs;
	unsigned long n, cap;
	unsigned long max;       /* messages served at most (the oldest) */
	unsigned long found;     /* messages found, those beyond max included */
	int heap;                /* msgs[] is a max-heap (the newest on top) */
	char *chunk;             /* CHUNK bytes of file data */
	char *wire;              /* 2 * CHUNK + 2 bytes of stuffed output */
};

/* The unique-id is the file's base name (before ":2,flags"), which the delivering
 * agent made unique and which survives new/ -> cur/ moves.  A base name outside
 * RFC 1939's 1-70 printable characters is replaced by a hash of it. */
static void
make_uidl(const char *name, char *out)
{
	size_t n = strcspn(name, ":"), i;
	int ok = n >= 1 && n <= KP_UIDL_MAX;
	uint64_t h = 1469598103934665603ULL;

	for (i = 0; ok && i < n; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(out, name, n);
		out[n] = '\0';
		return;
	}
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)name[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, KP_UIDL_MAX + 1, "kp%016llx", (unsigned long long)h);
}

static int
scan_size(int fd, char *buf, unsigned long long *size_out)
{
	struct kp_wire_size w;
	ssize_t r;

	kp_wire_size_init(&w);
	for (;;) {
		r = read(fd, buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return KP_E_IO;
		if (r == 0)
			break;
		kp_wire_size_feed(&w, buf, (size_t)r);
	}
	*size_out = kp_wire_size_end(&w);
	return 0;
}

#define SIZECACHE ".kpopd.sizes"

static int
cached_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cached *)a)->name, ((const struct cached *)b)->name);
}

static unsigned long long
mtime_ns(const struct stat *st)
{
	return (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
	       (unsigned long long)st->st_mtim.tv_nsec;
}

static void
take_stamp(int dirfd, struct stamp *out)
{
	struct stat st;

	out->ino = 0;
	out->mtime = 1;
	if (dirfd < 0)
		return;
	out->mtime = 0;
	if (fstat(dirfd, &st) != 0)
		return;
	out->ino = st.st_ino;
	if (time(NULL) - st.st_mtime >= STAMP_SETTLE_SEC)
		out->mtime = mtime_ns(&st);
}

static int
stamps_usable(const struct kp_maildrop *md)
{
	return md->stamp[0].mtime != 0 && md->stamp[1].mtime != 0;
}

/* Split line into n space-separated numbers and the rest (the name). */
static int
parse_numbers(char *line, unsigned long long *v, int n, char **rest_out)
{
	int i;

	for (i = 0; i < n; i++) {
		char *sp = strchr(line, ' ');
		unsigned long x;

		if (sp == NULL)
			return -1;
		*sp = '\0';
		if (kp_parse_ulong(line, 0, ~0UL, &x) != 0)
			return -1;
		v[i] = x;
		line = sp + 1;
	}
	*rest_out = line;
	return 0;
}

#define CACHE_MAGIC "kpopd-sizes-2 "

/* Header: "kpopd-sizes-2 NEWINO NEWMTIME CURINO CURMTIME". */
static int
header_matches(const struct kp_maildrop *md, const char *line)
{
	unsigned long long v[4];
	char buf[128], *rest;
	size_t n = strlen(line);

	if (strncmp(line, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1) != 0 || n + 2 > sizeof(buf))
		return 0;
	memcpy(buf, line, n);
	buf[n] = ' '; /* the last number ends like the others */
	buf[n + 1] = '\0';
	if (parse_numbers(buf + sizeof(CACHE_MAGIC) - 1, v, 4, &rest) != 0 || *rest != '\0')
		return 0;
	return stamps_usable(md) && v[0] == md->stamp[0].ino && v[1] == md->stamp[0].mtime &&
	       v[2] == md->stamp[1].ino && v[3] == md->stamp[1].mtime;
}

/* An entry: "ino mtime fsize wsize sub name". */
static int
parse_cached(char *line, struct cached *c)
{
	unsigned long long v[5];
	char *name;

	if (parse_numbers(line, v, 5, &name) != 0 || v[4] > 1)
		return -1;
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL)
		return -1;
	c->ino = v[0];
	c->mtime = v[1];
	c->fsize = v[2];
	c->wsize = v[3];
	c->sub = v[4];
	c->name = name;
	return 0;
}

/* Read the cache if it is current (want_current) or, else, if it has at most limit
 * entries.  A current cache may hold up to limit entries too (it then is the
 * maildrop: as many entries as messages). */
static void
cache_load(struct kp_maildrop *md, int want_current, unsigned long limit)
{
	struct stat st;
	char *p, *end, *nl;
	size_t n = 0, cap = 0;
	ssize_t r;
	int fd;

	if (limit == 0)
		return;
	fd = openat(md->rootfd, SIZECACHE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (want_current) {
		/* the header alone says whether the rest is worth reading */
		char head[128];
		ssize_t h = pread(fd, head, sizeof(head) - 1, 0);
		char *e = h > 0 ? memchr(head, '\n', (size_t)h) : NULL;

		if (e == NULL) {
			close(fd);
			return;
		}
		*e = '\0';
		if (!header_matches(md, head)) {
			close(fd);
			return;
		}
	}
	/* at most one line per message: a bigger cache is not ours to trust */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > (unsigned long long)(limit + 1) * KP_SIZECACHE_LINE_MAX ||
	    (md->cache_text = malloc((size_t)st.st_size + 2)) == NULL) {
		close(fd);
		return;
	}
	r = read(fd, md->cache_text, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size)
		goto drop;
	md->cache_text[r] = '\0';
	end = md->cache_text + r;
	nl = memchr(md->cache_text, '\n', (size_t)r);
	if (nl == NULL)
		goto drop;
	*nl = '\0';
	md->cache_current = header_matches(md, md->cache_text);
	if (want_current && !md->cache_current)
		goto drop;
	for (p = nl + 1; p < end;) {
		struct cached c;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		*nl = '\0';
		if (parse_cached(p, &c) == 0) {
			if (n == limit)
				goto drop; /* more entries than messages */
			if (n == cap) {
				struct cached *nc;

				cap = cap ? cap * 2 : 256;
				if (cap > limit)
					cap = limit;
				nc = realloc(md->cache, cap * sizeof(*nc));
				if (nc == NULL)
					goto drop;
				md->cache = nc;
			}
			md->cache[n++] = c;
		} else if (md->cache_current) {
			goto drop; /* a current cache must be whole */
		}
		p = nl + 1;
	}
	md->ncache = n;
	return;
drop:
	free(md->cache);
	free(md->cache_text);
	md->cache = NULL;
	md->cache_text = NULL;
	md->ncache = 0;
	md->cache_current = 0;
}

static int
cache_lookup(struct kp_maildrop *md, const char *name, const struct stat *st,
	     unsigned long long *wsize_out)
{
	struct cached key, *c;

	if (md->ncache == 0)
		return 0;
	key.name = name;
	c = bsearch(&key, md->cache, md->ncache, sizeof(*md->cache), cached_cmp);
	if (c == NULL || c->ino != (unsigned long long)st->st_ino ||
	    c->mtime != mtime_ns(st) ||
	    c->fsize != (unsigned long long)st->st_size)
		return 0;
	*wsize_out = c->wsize;
	md->cache_hits++;
	return 1;
}

/* Rewrite the cache when it missed, held stale entries or old stamps (best effort). */
static void
cache_save(struct kp_maildrop *md)
{
	struct kp_replace r;
	unsigned long i;
	FILE *f;

	if (md->rootfd < 0 || (md->cache_hits == md->n && md->ncache == md->n &&
			       (md->cache_current || !stamps_usable(md))))
		return;
	f = kp_replace_begin(&r, md->rootfd, SIZECACHE);
	if (f == NULL)
		return;
	fprintf(f, CACHE_MAGIC "%llu %llu %llu %llu\n", md->stamp[0].ino, md->stamp[0].mtime,
		md->stamp[1].ino, md->stamp[1].mtime);
	for (i = 0; i < md->n; i++)
		fprintf(f, "%llu %llu %llu %llu %u %s\n", (unsigned long long)md->msgs[i].ino,
			md->msgs[i].mtime_ns, (unsigned long long)md->msgs[i].fsize,
			md->msgs[i].size, md->msgs[i].sub, md->msgs[i].name);
	/* written whole and on disk before it replaces the old one: a reader on any
	 * node, and one after a crash, sees the old cache or the new one */
	(void)kp_replace_commit(&r, 0);
}

/* Reading new/ or cur/ through the descriptor the maildrop keeps, from the start:
 * getdents64 into a buffer.  (fdopendir would want a dup of it, a rewind and an
 * fcntl or two each time: seven calls a directory on a login that reads none of
 * the files.) */
struct dirscan {
	int fd, err;
	size_t pos, len;
	char buf[16384] __attribute__((aligned(8)));
};

static int
dirscan_start(struct dirscan *d, int fd)
{
	d->fd = fd;
	d->err = 0;
	d->pos = d->len = 0;
	return lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* The next name that could be a message (not a dot file), or NULL at the end (or
 * on an error: d->err). */
static const char *
dirscan_next(struct dirscan *d)
{
	for (;;) {
		const struct dirent64 *de;

		if (d->pos >= d->len) {
			ssize_t n = getdents64(d->fd, d->buf, sizeof(d->buf));

			if (n <= 0) {
				d->err = n < 0 ? errno : 0;
				return NULL;
			}
			d->len = (size_t)n;
			d->pos = 0;
		}
		de = (const struct dirent64 *)(const void *)(d->buf + d->pos);
		if (de->d_reclen == 0 || de->d_reclen > d->len - d->pos) {
			d->err = EIO;
			return NULL;
		}
		d->pos += de->d_reclen;
		if (de->d_name[0] != '.')
			return de->d_name;
	}
}

/* Names in a directory that could be messages; no stat. */
static unsigned long
count_entries(int dirfd)
{
	struct dirscan d;
	unsigned long n = 0;

	if (dirfd < 0 || dirscan_start(&d, dirfd) != 0)
		return 0;
	while (dirscan_next(&d) != NULL)
		n++;
	return n;
}

/* The fast path: a current cache is the maildrop.  Returns 0 (md->msgs filled)
 * or -1 (use the directories). */
static int
from_cache(struct kp_maildrop *md)
{
	size_t i;

	if (!md->cache_current || md->ncache == 0)
		return -1;
	md->msgs = calloc(md->ncache, sizeof(*md->msgs));
	if (md->msgs == NULL)
		return -1;
	for (i = 0; i < md->ncache; i++) {
		const struct cached *c = &md->cache[i];
		struct msg *m = &md->msgs[i];

		if ((c->sub == 0 ? md->dirfd[0] : md->dirfd[1]) < 0 ||
		    (m->name = strdup(c->name)) == NULL)
			break;
		m->sub = (unsigned char)c->sub;
		m->mtime_ns = c->mtime;
		m->mtime = (time_t)(c->mtime / 1000000000ULL);
		m->ino = (ino_t)c->ino;
		m->fsize = (off_t)c->fsize;
		m->size = c->wsize;
		make_uidl(m->name, m->uidl);
	}
	md->n = md->cap = (unsigned long)i;
	if (i < md->ncache) {
		while (i-- > 0)
			free(md->msgs[i].name);
		free(md->msgs);
		md->msgs = NULL;
		md->n = md->cap = 0;
		return -1;
	}
	md->found = md->n;
	md->cache_hits = md->n;
	return 0;
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
is_sorted(const struct kp_maildrop *md)
{
	unsigned long i;

	for (i = 1; i < md->n; i++)
		if (msg_cmp(&md->msgs[i - 1], &md->msgs[i]) > 0)
			return 0;
	return 1;
}

/* Past max messages, msgs[] becomes a max-heap by age so that a flood keeps the
 * oldest max messages in memory (and nothing else) until they are sorted. */
static void
sift_down(struct msg *h, unsigned long n, unsigned long i)
{
	for (;;) {
		unsigned long l = 2 * i + 1, r = l + 1, big = i;
		struct msg t;

		if (l < n && msg_cmp(&h[l], &h[big]) > 0)
			big = l;
		if (r < n && msg_cmp(&h[r], &h[big]) > 0)
			big = r;
		if (big == i)
			return;
		t = h[i];
		h[i] = h[big];
		h[big] = t;
		i = big;
	}
}

/* Take one candidate (m->name owned by the caller until this returns 0). */
static int
add_candidate(struct kp_maildrop *md, struct msg *m)
{
	md->found++;
	if (md->n == md->max) {
		if (!md->heap) {
			unsigned long i;

			for (i = md->n / 2; i-- > 0;)
				sift_down(md->msgs, md->n, i);
			md->heap = 1;
		}
		if (msg_cmp(m, &md->msgs[0]) >= 0)
			return 1; /* newer than all we keep */
		free(md->msgs[0].name);
		md->msgs[0] = *m;
		sift_down(md->msgs, md->n, 0);
		return 0;
	}
	if (md->n == md->cap) {
		unsigned long ncap = md->cap ? md->cap * 2 : 64;
		struct msg *nm;

		if (ncap > md->max)
			ncap = md->max;
		nm = realloc(md->msgs, ncap * sizeof(*nm));
		if (nm == NULL)
			return KP_E_NOMEM;
		md->msgs = nm;
		md->cap = ncap;
	}
	md->msgs[md->n++] = *m;
	return 0;
}

/* Phase 1: the plain files in new/ or cur/, with what the size cache checks. */
static int
add_dir(struct kp_maildrop *md, int sub)
{
	struct dirscan *d;
	const char *name;
	int rc = 0;

	d = malloc(sizeof(*d));
	if (d == NULL)
		return KP_E_NOMEM;
	if (dirscan_start(d, md->dirfd[sub]) != 0) {
		free(d);
		return KP_E_IO;
	}
	while ((name = dirscan_next(d)) != NULL) {
		struct stat st;
		struct msg m;

		if (fstatat(md->dirfd[sub], name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue; /* vanished, or not a plain file: not part of this session */
		memset(&m, 0, sizeof(m));
		m.name = strdup(name);
		if (m.name == NULL) {
			rc = KP_E_NOMEM;
			break;
		}
		m.sub = (unsigned char)sub;
		m.mtime = st.st_mtime;
		m.ino = st.st_ino;
		m.mtime_ns = mtime_ns(&st);
		m.fsize = st.st_size;
		rc = add_candidate(md, &m);
		if (rc != 0)
			free(m.name);
		if (rc < 0)
			break;
		rc = 0;
	}
	if (rc == 0 && d->err != 0)
		rc = KP_E_IO;
	free(d);
	return rc;
}

/* Open a message file for reading: never a symlink, never blocking in open() (a
 * FIFO renamed over a message would hang the session), and only a regular file.
 * Returns the descriptor, or -1 with errno set. */
static int
open_regular(int dirfd, const char *name)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Phase 2: wire sizes, from the cache or by reading the file once.  Messages that
 * vanished meanwhile are dropped. */
static int
fill_sizes(struct kp_maildrop *md)
{
	unsigned long i, keep = 0;
	int rc = 0;

	for (i = 0; i < md->n; i++) {
		struct msg *m = &md->msgs[i];
		struct stat st;

		st.st_ino = m->ino;
		st.st_size = m->fsize;
		st.st_mtim.tv_sec = (time_t)(m->mtime_ns / 1000000000ULL);
		st.st_mtim.tv_nsec = (long)(m->mtime_ns % 1000000000ULL);
		if (rc == 0 && !cache_lookup(md, m->name, &st, &m->size)) {
			int fd = open_regular(md->dirfd[m->sub], m->name);

			if (fd < 0) {
				free(m->name);
				continue;
			}
			rc = scan_size(fd, md->chunk, &m->size);
			close(fd);
		}
		make_uidl(m->name, m->uidl);
		md->msgs[keep++] = *m;
	}
	md->n = keep;
	return rc;
}

/* Which backend serves path: an explicit "mbox:" or "maildir:" prefix (from the
 * template or mailbox_format, see conf.h), else an mbox if path is a regular file
 * (a link to one is then refused by kp_mbox_open's O_NOFOLLOW).  *path_out is
 * path without the prefix. */
static int
is_mbox(const char *path, const char **path_out)
{
	struct stat st;

	if (strncmp(path, KP_MAILBOX_MBOX, sizeof(KP_MAILBOX_MBOX) - 1) == 0) {
		*path_out = path + sizeof(KP_MAILBOX_MBOX) - 1;
		return 1;
	}
	if (strncmp(path, KP_MAILBOX_MAILDIR, sizeof(KP_MAILBOX_MAILDIR) - 1) == 0) {
		*path_out = path + sizeof(KP_MAILBOX_MAILDIR) - 1;
		return 0;
	}
	*path_out = path;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
kp_maildrop_open(const char *path, uid_t owner, unsigned long max,
		 struct kp_maildrop **md_out)
{
	struct kp_maildrop *md;
	struct flock fl;
	struct stat st;
	int root, sub, mbox, rc = KP_E_IO;

	*md_out = NULL;
	mbox = is_mbox(path, &path);
	md = calloc(1, sizeof(*md));
	if (md == NULL)
		return KP_E_NOMEM;
	md->rootfd = md->dirfd[0] = md->dirfd[1] = md->lockfd = -1;
	if (mbox) {
		rc = kp_mbox_open(path, owner, max, &md->mbox);
		if (rc != 0)
			goto fail;
		*md_out = md;
		return 0;
	}
	md->max = max > 0 && max < KP_MAILDROP_MSGS_MAX ? max : KP_MAILDROP_MSGS_MAX;
	md->chunk = malloc(CHUNK);
	md->wire = malloc(2 * CHUNK + 2);
	if (md->chunk == NULL || md->wire == NULL) {
		rc = KP_E_NOMEM;
		goto fail;
	}
	root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		if (errno == ENOENT) {
			/* No Maildir yet: an empty maildrop, nothing to lock or lose. */
			*md_out = md;
			return 0;
		}
		kp_log(KP_LOG_ERR, "maildrop %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Whatever the path resolved to must be the user's own directory: a link to
	 * somebody else's Maildir is not this user's mail. */
	if (fstat(root, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != owner) {
		kp_log(KP_LOG_ERR, "maildrop %s: not a directory owned by uid %lu (owner %lu)",
		       path, (unsigned long)owner, (unsigned long)st.st_uid);
		close(root);
		rc = KP_E_AUTH;
		goto fail;
	}
	md->lockfd = openat(root, ".kpopd.lock",
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (md->lockfd < 0 || fstat(md->lockfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		kp_log(KP_LOG_ERR, "maildrop %s: lock file: %s", path, strerror(errno));
		close(root);
		goto fail;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(md->lockfd, F_SETLK, &fl) != 0) {
		close(root);
		rc = (errno == EAGAIN || errno == EACCES) ? KP_E_INUSE : KP_E_IO;
		goto fail;
	}
	md->rootfd = root;
	for (sub = 0; sub < 2; sub++) {
		md->dirfd[sub] = openat(root, subdirs[sub],
					O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (md->dirfd[sub] < 0 && errno != ENOENT) {
			kp_log(KP_LOG_ERR, "maildrop %s/%s: %s", path, subdirs[sub], strerror(errno));
			goto fail;
		}
	}
	/* stamps before the listing: a change after this point shows at the next login */
	take_stamp(md->dirfd[0], &md->stamp[0]);
	take_stamp(md->dirfd[1], &md->stamp[1]);
	if (stamps_usable(md)) {
		/* even a current cache has at most one entry per file in new/ and cur/
		 * (names only: no stat), so a crafted one costs no more than the mail */
		unsigned long files = count_entries(md->dirfd[0]) + count_entries(md->dirfd[1]);

		cache_load(md, 1, files < md->max ? files : md->max);
		if (from_cache(md) == 0)
			goto sorted;
		free(md->cache);
		free(md->cache_text);
		md->cache = NULL;
		md->cache_text = NULL;
		md->ncache = 0;
	}
	for (sub = 0; sub < 2; sub++) {
		if (md->dirfd[sub] < 0)
			continue;
		rc = add_dir(md, sub);
		if (rc != 0) {
			kp_log(KP_LOG_ERR, "maildrop %s/%s: scan failed: %s", path, subdirs[sub],
			       kp_strerror(rc));
			goto fail;
		}
	}
	cache_load(md, 0, md->n);
	if (md->ncache > 1)
		qsort(md->cache, md->ncache, sizeof(*md->cache), cached_cmp);
	rc = fill_sizes(md);
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "maildrop %s: reading a message failed: %s", path,
		       kp_strerror(rc));
		goto fail;
	}
sorted:
	if (md->n > 1 && !is_sorted(md))
		qsort(md->msgs, md->n, sizeof(*md->msgs), msg_cmp);
	cache_save(md);
	free(md->cache);
	free(md->cache_text);
	md->cache = NULL;
	md->cache_text = NULL;
	md->ncache = 0;
	*md_out = md;
	return 0;
fail:
	kp_maildrop_close(md);
	return rc;
}

unsigned long
kp_maildrop_found(const struct kp_maildrop *md)
{
	if (md->mbox != NULL)
		return kp_mbox_found(md->mbox);
	return md->found;
}

unsigned long
kp_maildrop_count(const struct kp_maildrop *md)
{
	if (md->mbox != NULL)
		return kp_mbox_count(md->mbox);
	return md->n;
}

void
kp_maildrop_stat(const struct kp_maildrop *md, unsigned long *count_out,
		 unsigned long long *octets_out)
{
	if (md->mbox != NULL) {
		kp_mbox_stat(md->mbox, count_out, octets_out);
		return;
	}
	unsigned long i, count = 0;
	unsigned long long octets = 0;

	for (i = 0; i < md->n; i++)
		if (!md->msgs[i].deleted) {
			count++;
			octets += md->msgs[i].size;
		}
	*count_out = count;
	*octets_out = octets;
}

unsigned long long
kp_maildrop_size(const struct kp_maildrop *md, unsigned long n)
{
	if (md->mbox != NULL)
		return kp_mbox_size(md->mbox, n);
	return md->msgs[n - 1].size;
}

const char *
kp_maildrop_uidl(const struct kp_maildrop *md, unsigned long n)
{
	if (md->mbox != NULL)
		return kp_mbox_uidl(md->mbox, n);
	return md->msgs[n - 1].uidl;
}

time_t
kp_maildrop_mtime(const struct kp_maildrop *md, unsigned long n)
{
	return md->mbox != NULL ? 0 : md->msgs[n - 1].mtime;
}

int
kp_maildrop_state_at(struct kp_maildrop *md, const char **name_out)
{
	if (md->mbox != NULL)
		return kp_mbox_state_at(md->mbox, name_out);
	*name_out = md->rootfd >= 0 ? ".kpopd.state" : NULL;
	return md->rootfd;
}

int
kp_maildrop_deleted(const struct kp_maildrop *md, unsigned long n)
{
	if (md->mbox != NULL)
		return kp_mbox_deleted(md->mbox, n);
	return md->msgs[n - 1].deleted;
}

void
kp_maildrop_mark(struct kp_maildrop *md, unsigned long n)
{
	if (md->mbox != NULL) {
		kp_mbox_mark(md->mbox, n);
		return;
	}
	md->msgs[n - 1].deleted = 1;
}

void
kp_maildrop_unmark_all(struct kp_maildrop *md)
{
	if (md->mbox != NULL) {
		kp_mbox_unmark_all(md->mbox);
		return;
	}
	unsigned long i;

	for (i = 0; i < md->n; i++)
		md->msgs[i].deleted = 0;
}

/* Open message m; another agent may have moved it new/ -> cur/ meanwhile. */
static int
open_msg(struct kp_maildrop *md, struct msg *m)
{
	int fd = open_regular(md->dirfd[m->sub], m->name);

	/* ESTALE: NFS and GlusterFS say so for a file another node removed or
	 * renamed since the listing */
	if (fd < 0 && (errno == ENOENT || errno == ESTALE) && m->sub == 0 && md->dirfd[1] >= 0) {
		fd = open_regular(md->dirfd[1], m->name);
		if (fd >= 0)
			m->sub = 1;
	}
	return fd;
}

int
kp_maildrop_send(struct kp_maildrop *md, unsigned long n, long body_lines,
		 struct kp_io *io, int (*before)(void *arg), void *arg,
		 unsigned long long *octets_out)
{
	struct msg *m;
	struct kp_stuff st;
	unsigned long long octets = 0;
	int fd, rc = 0;
	size_t w;

	if (md->mbox != NULL)
		return kp_mbox_send(md->mbox, n, body_lines, io, before, arg, octets_out);
	m = &md->msgs[n - 1];
	*octets_out = 0;
	fd = open_msg(md, m);
	if (fd < 0)
		return KP_E_NOTFOUND;
	if (before != NULL && (rc = before(arg)) != 0)
		goto done;
	kp_stuff_init(&st, body_lines);
	while (!st.done) {
		ssize_t r = read(fd, md->chunk, CHUNK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			kp_log(KP_LOG_ERR, "read %s: %s", m->name, strerror(errno));
			rc = KP_E_IO;
			goto done;
		}
		if (r == 0)
			break;
		octets += (unsigned long long)r;
		w = kp_stuff_chunk(&st, md->chunk, (size_t)r, md->wire);
		if ((rc = kp_io_write(io, md->wire, w)) != 0)
			goto done;
	}
	w = kp_stuff_finish(&st, md->wire);
	rc = kp_io_write(io, md->wire, w);
	*octets_out = octets;
done:
	close(fd);
	return rc;
}

int
kp_maildrop_commit(struct kp_maildrop *md, unsigned long *removed_out)
{
	if (md->mbox != NULL)
		return kp_mbox_commit(md->mbox, removed_out);
	unsigned long i, removed = 0;
	int rc = 0, sub, changed[2] = { 0, 0 };

	*removed_out = 0;
	if (md->lockfd >= 0 && kp_relock(md->lockfd) != 0)
		return KP_E_INUSE;
	for (i = 0; i < md->n; i++) {
		struct msg *m = &md->msgs[i];

		if (!m->deleted)
			continue;
		if (unlinkat(md->dirfd[m->sub], m->name, 0) == 0) {
			changed[m->sub] = 1;
			removed++;
			continue;
		}
		/* Gone from new/: another reader may have moved it to cur/.  Only
		 * ENOENT means that: after EIO the file is still there, and a missing
		 * cur/ copy must not count it as removed (fault injection found that). */
		if (errno == ENOENT &&
		    (m->sub != 0 || md->dirfd[1] < 0 || unlinkat(md->dirfd[1], m->name, 0) == 0 ||
		     errno == ENOENT)) {
			changed[m->sub != 0 || md->dirfd[1] < 0 ? m->sub : 1] = 1;
			removed++;
			continue;
		}
		kp_log(KP_LOG_ERR, "cannot remove %s/%s: %s", subdirs[m->sub], m->name,
		       strerror(errno));
		rc = KP_E_IO;
	}
	/* Make the removals durable before we say +OK; a directory nothing was
	 * removed from needs no sync. */
	for (sub = 0; sub < 2; sub++)
		if (changed[sub] && md->dirfd[sub] >= 0 && fsync(md->dirfd[sub]) != 0)
			rc = KP_E_IO;
	*removed_out = removed;
	return rc;
}

void
kp_maildrop_close(struct kp_maildrop *md)
{
	unsigned long i;

	if (md == NULL)
		return;
	kp_mbox_close(md->mbox);
	for (i = 0; i < md->n; i++)
		free(md->msgs[i].name);
	free(md->msgs);
	free(md->chunk);
	free(md->wire);
	free(md->cache);
	free(md->cache_text);
	if (md->rootfd >= 0)
		close(md->rootfd);
	if (md->dirfd[0] >= 0)
		close(md->dirfd[0]);
	if (md->dirfd[1] >= 0)
		close(md->dirfd[1]);
	if (md->lockfd >= 0)
		close(md->lockfd); /* releases the fcntl lock */
	free(md);
}
