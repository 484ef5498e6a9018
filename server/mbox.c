/* mbox.c - a classic mbox spool (/var/mail/USER) as a POP3 maildrop. */
#include "config.h"
#include "server/mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_dot.h"
#include "kp_dotlock.h"
#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"

/* Bytes per read of the spool; the same size as maildrop.c's CHUNK. */
#define CHUNK 65536
#define DOTLOCK_TRIES KP_DOTLOCK_TRIES
#define UIDL_HEADER_MAX KP_MBOX_UIDL_HEADER_MAX
/* "mb" and 16 hex digits of a 64-bit FNV-1a hash */
#define UIDL_HASH_LEN 18

struct mmsg {
	off_t from;              /* the From_ line */
	off_t data;              /* first byte after the From_ line */
	off_t end;               /* end of the message (the separating blank line excluded) */
	off_t next;              /* the next From_ line, or where the known spool ends */
	unsigned long long size; /* wire size */
	unsigned char deleted;
	char uidl[KP_UIDL_MAX + 1];
};

struct kp_mbox {
	int fd;                  /* -1: no spool (empty maildrop) */
	char *path;
	struct kp_dotlock lock;  /* our dotlock, if held */
	uid_t owner;             /* the spool's (and its journal's) owner */
	off_t size;              /* spool size at open */
	off_t served_end;        /* end of the last served message (max_messages) */
	struct mmsg *msgs;
	unsigned long n, cap, found, max;
	char *chunk;             /* CHUNK bytes read from the spool */
	char *unq;               /* CHUNK bytes un-quoted */
	char *wire;              /* 2 * CHUNK + 2 bytes stuffed */
	int dirfd;               /* the spool's directory, for kp_mbox_state_at; -1 */
	char *statename;         /* the state file's name in it */
};

static int journal_replay(struct kp_mbox *mb);

/* Read CHUNK - UNQ_SLACK bytes at a time: un-quoting may release up to 5 held
 * bytes from the previous piece, and the result must fit CHUNK. */
#define UNQ_SLACK 16

/* mboxrd un-quoting: a line ">From ", ">>From ", ... loses one '>'.  Streaming:
 * the first '>' of a line is held until the rest of the line start decides. */
struct unq {
	int bol;
	int held;                /* a '>' at line start is held */
	int fm;                  /* bytes of "From " matched after the '>'s */
};

static void
unq_init(struct unq *u)
{
	u->bol = 1;
	u->held = 0;
	u->fm = 0;
}

/* out must hold n + 8 bytes. */
static size_t
unq_chunk(struct unq *u, const char *in, size_t n, char *out)
{
	static const char from[] = "From ";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = in[i];

		if (u->held) {
			if (u->fm == 0 && c == '>') {
				out[o++] = '>';
				continue;
			}
			if (c == from[u->fm]) {
				if (++u->fm == 5) {
					memcpy(out + o, from, 5); /* the held '>' is dropped */
					o += 5;
					u->held = u->fm = 0;
				}
				continue;
			}
			out[o++] = '>';
			memcpy(out + o, from, (size_t)u->fm);
			o += (size_t)u->fm;
			u->held = u->fm = 0;
		} else if (u->bol && c == '>') {
			u->held = 1;
			u->fm = 0;
			u->bol = 0;
			continue;
		}
		out[o++] = c;
		u->bol = c == '\n';
	}
	return o;
}

/* End of message: release what is held (at most 5 bytes). */
static size_t
unq_finish(struct unq *u, char *out)
{
	size_t o = 0;

	if (u->held) {
		out[o++] = '>';
		memcpy(out + o, "From ", (size_t)u->fm);
		o += (size_t)u->fm;
	}
	u->held = u->fm = 0;
	return o;
}

static ssize_t
pread_full(int fd, char *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
pwrite_full(int fd, const char *buf, size_t n, off_t off)
{
	size_t put = 0;

	while (put < n) {
		ssize_t r = pwrite(fd, buf + put, n - put, off + (off_t)put);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		put += (size_t)r;
	}
	return 0;
}

static int
at_from(struct kp_mbox *mb, off_t off)
{
	char b[5];

	return pread_full(mb->fd, b, 5, off) == 5 && memcmp(b, "From ", 5) == 0;
}

/* Pass 1: the From_ lines (at a line start, Content-Length ignored).  The first
 * max are recorded; found counts all. */
static int
split(struct kp_mbox *mb)
{
	static const char from[] = "From ";
	off_t pos = 0;
	int m = 0, in_from = 0;

	for (;;) {
		ssize_t r = pread(mb->fd, mb->chunk, CHUNK, pos), i;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return KP_E_IO;
		if (r == 0 || pos >= mb->size)
			break;
		if (pos + r > mb->size)
			r = (ssize_t)(mb->size - pos);
		for (i = 0; i < r; i++) {
			char c = mb->chunk[i];
			off_t p = pos + i;

			if (m >= 0) {
				if (c == from[m]) {
					if (++m == 5) {
						m = -1;
						mb->found++;
						if (mb->n < mb->max) {
							if (mb->n == mb->cap) {
								unsigned long nc = mb->cap ? mb->cap * 2 : 64;
								struct mmsg *nm = realloc(mb->msgs,
											  nc * sizeof(*nm));

								if (nm == NULL)
									return KP_E_NOMEM;
								mb->msgs = nm;
								mb->cap = nc;
							}
							memset(&mb->msgs[mb->n], 0, sizeof(*mb->msgs));
							mb->msgs[mb->n].from = p - 4;
							mb->msgs[mb->n].data = mb->size;
							if (mb->n > 0)
								mb->msgs[mb->n - 1].next = p - 4;
							mb->n++;
							in_from = 1;
						} else if (mb->n == mb->max && mb->found == mb->max + 1) {
							mb->served_end = p - 4;
						}
					}
					continue;
				}
				m = -1;
			}
			if (c == '\n') {
				if (in_from)
					mb->msgs[mb->n - 1].data = p + 1;
				in_from = 0;
				m = 0;
			}
		}
		pos += r;
	}
	if (mb->n == 0 || mb->msgs[0].from > 0) {
		/* blank lines before the first From_ are tolerated (and left in place);
		 * a spool of blank lines only is an empty one (what UPDATE leaves when
		 * every message of such a spool was deleted) */
		off_t k, lead = mb->n > 0 ? mb->msgs[0].from : mb->size;

		if (lead > CHUNK || pread_full(mb->fd, mb->chunk, (size_t)lead, 0) != lead)
			return KP_E_SYNTAX;
		for (k = 0; k < lead; k++)
			if (mb->chunk[k] != '\n')
				return KP_E_SYNTAX;
	}
	if (mb->found <= mb->max)
		mb->served_end = mb->size;
	if (mb->n > 0)
		mb->msgs[mb->n - 1].next = mb->served_end;
	return 0;
}

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Pass 2 for one message: its end (one trailing blank line is the separator the
 * MDA added), wire size and UIDL hash. */
static int
measure(struct kp_mbox *mb, struct mmsg *m)
{
	struct kp_wire_size w;
	struct unq u;
	uint64_t h = 1469598103934665603ULL;
	unsigned long long len;
	size_t hdr = 0;
	int prev_nl = 1, in_hdr = 1;
	char tail[2], fl[1024];
	off_t off, span = m->next - m->data;
	ssize_t r;

	m->end = m->next;
	if (span >= 2 && pread_full(mb->fd, tail, 2, m->next - 2) == 2 &&
	    tail[0] == '\n' && tail[1] == '\n')
		m->end = m->next - 1;
	else if (span == 1 && pread_full(mb->fd, tail, 1, m->data) == 1 && tail[0] == '\n')
		m->end = m->data;
	/* the From_ line (without its newline) */
	r = pread_full(mb->fd, fl, (size_t)(m->data - m->from) < sizeof(fl) ?
		       (size_t)(m->data - m->from) : sizeof(fl), m->from);
	if (r < 0)
		return KP_E_IO;
	if (r > 0 && fl[r - 1] == '\n')
		r--;
	h = fnv(h, fl, (size_t)r);
	/* the length without a final newline: a last message without one gains it
	 * when the next delivery is appended, and must keep its UIDL */
	len = (unsigned long long)(m->end - m->data);
	if (len > 0 && pread_full(mb->fd, tail, 1, m->end - 1) == 1 && tail[0] == '\n')
		len--;
	kp_wire_size_init(&w);
	unq_init(&u);
	for (off = m->data; off < m->end;) {
		size_t want = CHUNK - UNQ_SLACK, k, o;

		if ((off_t)want > m->end - off)
			want = (size_t)(m->end - off);
		r = pread_full(mb->fd, mb->chunk, want, off);
		if (r <= 0)
			return KP_E_IO;
		for (k = 0; in_hdr && k < (size_t)r && hdr < UIDL_HEADER_MAX; k++, hdr++) {
			if (mb->chunk[k] == '\n' && prev_nl)
				in_hdr = 0;
			prev_nl = mb->chunk[k] == '\n';
		}
		h = fnv(h, mb->chunk, k);
		o = unq_chunk(&u, mb->chunk, (size_t)r, mb->unq);
		kp_wire_size_feed(&w, mb->unq, o);
		off += r;
	}
	kp_wire_size_feed(&w, mb->unq, unq_finish(&u, mb->unq));
	m->size = kp_wire_size_end(&w);
	h = fnv(h, (const char *)&len, sizeof(len));
	snprintf(m->uidl, sizeof(m->uidl), "mb%016llx", (unsigned long long)h);
	return 0;
}

static int
uidl_cmp(const void *a, const void *b)
{
	const struct mmsg *x = *(const struct mmsg *const *)a, *y = *(const struct mmsg *const *)b;
	int c = strcmp(x->uidl, y->uidl);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

/* Identical messages get the same hash: the second and later get "-2", "-3", ...
 * in spool order, so that the UIDLs of one session are unique. */
static int
dedup(struct kp_mbox *mb)
{
	struct mmsg **v;
	unsigned long i, run = 1;

	if (mb->n < 2)
		return 0;
	v = malloc(mb->n * sizeof(*v));
	if (v == NULL)
		return KP_E_NOMEM;
	for (i = 0; i < mb->n; i++)
		v[i] = &mb->msgs[i];
	qsort(v, mb->n, sizeof(*v), uidl_cmp);
	for (i = 1; i < mb->n; i++) {
		/* every hash is UIDL_HASH_LEN long; suffixes come after it */
		if (strncmp(v[i]->uidl, v[i - 1]->uidl, UIDL_HASH_LEN) == 0) {
			size_t l = strlen(v[i]->uidl);

			snprintf(v[i]->uidl + l, sizeof(v[i]->uidl) - l, "-%lu", ++run);
		} else {
			run = 1;
		}
	}
	free(v);
	return 0;
}

/* "kpopd" marks our own dotlocks: one found while we hold the fcntl lock was left
 * by a kpopd that died, since a live one would still hold the fcntl lock. */
static int
left_by_kpopd(const char *body)
{
	return strstr(body, " kpopd\n") != NULL;
}

/* The dotlock beside the spool (kp_dotlock.h).  0 (held, or the directory does not
 * let us create one: fcntl alone), or KP_E_INUSE. */
static int
dotlock(struct kp_mbox *mb)
{
	int rc = kp_dotlock_take(&mb->lock, mb->path, "kpopd", DOTLOCK_TRIES + 1, left_by_kpopd);

	if (rc == KP_E_IO || rc == KP_E_TOOLONG) {
		kp_log(KP_LOG_DEBUG, "mbox %s: no dotlock (%s): fcntl lock only", mb->path,
		       rc == KP_E_IO ? strerror(errno) : kp_strerror(rc));
		return 0;
	}
	return rc;
}

int
kp_mbox_open(const char *path, uid_t owner, unsigned long max, struct kp_mbox **mb_out)
{
	struct kp_mbox *mb;
	struct flock fl;
	struct stat st;
	unsigned long i;
	int rc = KP_E_IO;

	*mb_out = NULL;
	mb = calloc(1, sizeof(*mb));
	if (mb == NULL)
		return KP_E_NOMEM;
	mb->fd = mb->dirfd = -1;
	mb->owner = owner;
	mb->max = max > 0 && max < KP_MAILDROP_MSGS_MAX ? max : KP_MAILDROP_MSGS_MAX;
	mb->path = strdup(path);
	mb->chunk = malloc(CHUNK);
	mb->unq = malloc(CHUNK);
	mb->wire = malloc(2 * CHUNK + 2);
	if (mb->path == NULL || mb->chunk == NULL || mb->unq == NULL || mb->wire == NULL) {
		rc = KP_E_NOMEM;
		goto fail;
	}
	/* O_NONBLOCK: a FIFO put in the spool's place must not hang the session. */
	mb->fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (mb->fd < 0) {
		if (errno == ENOENT) {
			*mb_out = mb; /* no spool yet: an empty maildrop */
			return 0;
		}
		kp_log(KP_LOG_ERR, "mbox %s: %s", path,
		       errno == ELOOP ? "a symbolic link: refused" : strerror(errno));
		rc = errno == ELOOP || errno == EACCES || errno == EPERM ? KP_E_AUTH : KP_E_IO;
		goto fail;
	}
	if (fstat(mb->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != owner) {
		kp_log(KP_LOG_ERR, "mbox %s: not a regular file owned by uid %lu (owner %lu)",
		       path, (unsigned long)owner, (unsigned long)st.st_uid);
		rc = KP_E_AUTH;
		goto fail;
	}
	if (fcntl(mb->fd, F_SETFL, fcntl(mb->fd, F_GETFL) & ~O_NONBLOCK) != 0)
		goto fail;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(mb->fd, F_SETLK, &fl) != 0) {
		rc = (errno == EAGAIN || errno == EACCES) ? KP_E_INUSE : KP_E_IO;
		goto fail;
	}
	rc = dotlock(mb);
	if (rc == 0)
		rc = journal_replay(mb);
	if (rc != 0)
		goto fail;
	/* the size after locking: what an MDA appends later is not ours to serve */
	if (fstat(mb->fd, &st) != 0) {
		rc = KP_E_IO;
		goto fail;
	}
	mb->size = st.st_size;
	rc = split(mb);
	if (rc == KP_E_SYNTAX) {
		kp_log(KP_LOG_ERR, "mbox %s: does not start with a From_ line: not an mbox", path);
		kp_mbox_close(mb);
		return KP_E_IO;
	}
	for (i = 0; rc == 0 && i < mb->n; i++)
		rc = measure(mb, &mb->msgs[i]);
	if (rc == 0)
		rc = dedup(mb);
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "mbox %s: reading failed: %s", path, kp_strerror(rc));
		goto fail;
	}
	*mb_out = mb;
	return 0;
fail:
	kp_mbox_close(mb);
	return rc;
}

unsigned long
kp_mbox_found(const struct kp_mbox *mb)
{
	return mb->found;
}

unsigned long
kp_mbox_count(const struct kp_mbox *mb)
{
	return mb->n;
}

void
kp_mbox_stat(const struct kp_mbox *mb, unsigned long *count_out,
	     unsigned long long *octets_out)
{
	unsigned long i, count = 0;
	unsigned long long octets = 0;

	for (i = 0; i < mb->n; i++)
		if (!mb->msgs[i].deleted) {
			count++;
			octets += mb->msgs[i].size;
		}
	*count_out = count;
	*octets_out = octets;
}

unsigned long long
kp_mbox_size(const struct kp_mbox *mb, unsigned long n)
{
	return mb->msgs[n - 1].size;
}

const char *
kp_mbox_uidl(const struct kp_mbox *mb, unsigned long n)
{
	return mb->msgs[n - 1].uidl;
}

int
kp_mbox_deleted(const struct kp_mbox *mb, unsigned long n)
{
	return mb->msgs[n - 1].deleted;
}

void
kp_mbox_mark(struct kp_mbox *mb, unsigned long n)
{
	mb->msgs[n - 1].deleted = 1;
}

void
kp_mbox_unmark_all(struct kp_mbox *mb)
{
	unsigned long i;

	for (i = 0; i < mb->n; i++)
		mb->msgs[i].deleted = 0;
}

int
kp_mbox_send(struct kp_mbox *mb, unsigned long n, long body_lines, struct kp_io *io,
	     int (*before)(void *arg), void *arg, unsigned long long *octets_out)
{
	struct mmsg *m = &mb->msgs[n - 1];
	struct kp_stuff st;
	struct unq u;
	unsigned long long octets = 0;
	off_t off;
	size_t w, o;
	int rc;

	*octets_out = 0;
	if (!at_from(mb, m->from))
		return KP_E_NOTFOUND; /* somebody rewrote the spool without our lock */
	if (before != NULL && (rc = before(arg)) != 0)
		return rc;
	kp_stuff_init(&st, body_lines);
	unq_init(&u);
	for (off = m->data; off < m->end && !st.done;) {
		size_t want = CHUNK - UNQ_SLACK;
		ssize_t r;

		if ((off_t)want > m->end - off)
			want = (size_t)(m->end - off);
		r = pread_full(mb->fd, mb->chunk, want, off);
		if (r <= 0) {
			kp_log(KP_LOG_ERR, "read %s: %s", mb->path, r < 0 ? strerror(errno) :
			       "the spool shrank");
			return KP_E_IO;
		}
		octets += (unsigned long long)r;
		off += r;
		o = unq_chunk(&u, mb->chunk, (size_t)r, mb->unq);
		w = kp_stuff_chunk(&st, mb->unq, o, mb->wire);
		if ((rc = kp_io_write(io, mb->wire, w)) != 0)
			return rc;
	}
	o = unq_finish(&u, mb->unq);
	w = kp_stuff_chunk(&st, mb->unq, o, mb->wire);
	w += kp_stuff_finish(&st, mb->wire + w);
	rc = kp_io_write(io, mb->wire, w);
	*octets_out = octets;
	return rc;
}

/* KPOPD_TEST_MBOX_HOOK=STEP[:N][:stop] (tests/e2e/mboxcrash.sh only): the Nth
 * time (default the first) this process reaches STEP it kills itself with SIGKILL,
 * or stops with SIGSTOP, so that a test can crash UPDATE at every step. */
static void
hook(const char *step)
{
	static unsigned long seen;
	const char *h = getenv("KPOPD_TEST_MBOX_HOOK"), *p;
	size_t n = strlen(step);
	unsigned long want = 1;

	if (h == NULL || strncmp(h, step, n) != 0 || (h[n] != '\0' && h[n] != ':'))
		return;
	p = h + n;
	if (*p == ':' && p[1] >= '0' && p[1] <= '9') {
		want = 0;
		for (p++; *p >= '0' && *p <= '9' && want < 1000000; p++)
			want = want * 10 + (unsigned long)(*p - '0');
	}
	if (++seen != want)
		return;
	kp_log(KP_LOG_WARN, "mbox: test hook: %s at %s", strcmp(p, ":stop") == 0 ? "stop" :
	       "kill", step);
	raise(strcmp(p, ":stop") == 0 ? SIGSTOP : SIGKILL);
}

/* Copy len bytes from (sfd, src) to (dfd, dst): forward, a chunk at a time, so
 * that within one file (dst <= src) no byte is overwritten before it is read. */
static int
copy_range(struct kp_mbox *mb, int sfd, off_t src, int dfd, off_t dst, off_t len)
{
	while (len > 0) {
		size_t want = len > CHUNK ? CHUNK : (size_t)len;
		ssize_t r = pread_full(sfd, mb->chunk, want, src);

		if (r <= 0 || pwrite_full(dfd, mb->chunk, (size_t)r, dst) != 0)
			return KP_E_IO;
		src += r;
		dst += r;
		len -= r;
		if (dfd == mb->fd)
			hook("copy");
	}
	return 0;
}

/*
 * The UPDATE journal (README "mbox spools"): compaction rewrites the spool in
 * place, so that the inode an MDA may be waiting to lock stays the spool and the
 * spool's directory need not be writable for a new spool file.  Before the first
 * byte of the spool changes, everything the compacted spool holds from the first
 * removed message on (w0) is written to PATH.kpopd-journal and made durable:
 * the spool is to become spool[0, w0) + data + spool[e, EOF).  Then:
 *   mark   a NUL at w0 + len (inside the old spool, which ends at e > w0 + len;
 *          no MDA starts a message with NUL), fsync;
 *   copy   data to w0, fsync;
 *   grow?  mail appended meanwhile (at >= e, never written by us) is added to
 *          the journal first and copied after data (e moves to the new end);
 *   trunc  ftruncate to w0 + len, fsync; unlink the journal.
 * The next session to lock the spool replays a journal it finds: a spool shorter
 * than e was truncated (done); a NUL at w0 + len means the copy may be half done
 * (redo it: the journal, not the spool, is the source, so redoing is safe); any
 * other byte there means nothing was written yet, or the spool was truncated and
 * an MDA appended since (both: drop the journal; a not-started UPDATE removes
 * nothing).  Each header slot is one line with its own check sum; two slots, each
 * fsynced before the other is rewritten, so that one is always whole.
 */
#define JOURNAL_SUFFIX ".kpopd-journal"
#define STATE_SUFFIX ".kpopd-state"
#define JSLOT 128
#define JDATA (2 * JSLOT)

struct jhdr {
	long long w0, e, len;
};

static uint64_t
jsum(const struct jhdr *h)
{
	uint64_t x = 1469598103934665603ULL;

	x = fnv(x, (const char *)&h->w0, sizeof(h->w0));
	x = fnv(x, (const char *)&h->e, sizeof(h->e));
	return fnv(x, (const char *)&h->len, sizeof(h->len));
}

static int
jhdr_write(int jfd, int slot, const struct jhdr *h)
{
	char line[JSLOT];

	memset(line, '\n', sizeof(line));
	snprintf(line, sizeof(line), "KPOPJ1 %lld %lld %lld %016llx\n", h->w0, h->e, h->len,
		 (unsigned long long)jsum(h));
	if (pwrite_full(jfd, line, sizeof(line), (off_t)slot * JSLOT) != 0 || fsync(jfd) != 0)
		return KP_E_IO;
	return 0;
}

static int
jhdr_parse(const char *line, struct jhdr *h)
{
	unsigned long long sum = 0;
	const char *p = line;
	long long *f[3] = { &h->w0, &h->e, &h->len };
	int i;

	if (strncmp(p, "KPOPJ1 ", 7) != 0)
		return KP_E_SYNTAX;
	p += 7;
	for (i = 0; i < 3; i++) {
		*f[i] = 0;
		if (*p < '0' || *p > '9')
			return KP_E_SYNTAX;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (*f[i] > (LLONG_MAX - 9) / 10)
				return KP_E_SYNTAX;
			*f[i] = *f[i] * 10 + (*p - '0');
		}
		if (*p++ != ' ')
			return KP_E_SYNTAX;
	}
	for (i = 0; i < 16; i++, p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;

		if (d < 0)
			return KP_E_SYNTAX;
		sum = sum << 4 | (unsigned)d;
	}
	if (*p != '\n' || sum != jsum(h) || h->w0 + h->len >= h->e)
		return KP_E_SYNTAX;
	return 0;
}

/* The valid slot with the later end, or KP_E_SYNTAX (the journal was never made
 * durable: the spool was not touched). */
static int
jhdr_read(int jfd, struct jhdr *h)
{
	char buf[JDATA + 1];
	struct jhdr a, b;
	int ra, rb;

	if (pread_full(jfd, buf, JDATA, 0) != JDATA)
		return KP_E_SYNTAX;
	buf[JSLOT - 1] = buf[JDATA - 1] = '\0';
	ra = jhdr_parse(buf, &a);
	rb = jhdr_parse(buf + JSLOT, &b);
	if (ra != 0 && rb != 0)
		return KP_E_SYNTAX;
	*h = ra != 0 || (rb == 0 && b.e > a.e) ? b : a;
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dfd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) + (slash == path),
				  path) >= sizeof(dir))
		return KP_E_IO;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return KP_E_IO;
	rc = fsync(dfd) == 0 ? 0 : KP_E_IO;
	close(dfd);
	return rc;
}

/* Mail appended beyond h->e goes into the journal before anything is copied over
 * where it would land. */
static int
journal_grow(struct kp_mbox *mb, int jfd, struct jhdr *h, off_t now)
{
	struct jhdr n = *h;
	int rc;

	n.len += now - h->e;
	n.e = now;
	if ((rc = copy_range(mb, mb->fd, h->e, jfd, JDATA + h->len, now - h->e)) != 0 ||
	    fsync(jfd) != 0 || (rc = jhdr_write(jfd, 0, &n)) != 0 ||
	    (rc = jhdr_write(jfd, 1, &n)) != 0)
		return rc != 0 ? rc : KP_E_IO;
	kp_log(KP_LOG_DEBUG, "mbox %s: %lld more bytes journaled (mail beyond max_messages "
	       "or delivered meanwhile)",
	       mb->path, n.len - h->len);
	*h = n;
	return 0;
}

/* Bring the spool to what the journal describes (the steps above), data from
 * offset done on already in place; unlink the journal.  0 or KP_E_IO. */
static int
journal_apply(struct kp_mbox *mb, int jfd, const char *jpath, struct jhdr *h, off_t done)
{
	struct stat st;
	int rc;

	for (;;) {
		if (fstat(mb->fd, &st) != 0)
			return KP_E_IO;
		if (st.st_size > h->e && (rc = journal_grow(mb, jfd, h, st.st_size)) != 0)
			return rc;
		if (pwrite_full(mb->fd, "", 1, h->w0 + h->len) != 0 || fsync(mb->fd) != 0)
			return KP_E_IO;
		hook("mark");
		if ((rc = copy_range(mb, jfd, JDATA + done, mb->fd, h->w0 + done,
				     h->len - done)) != 0 || fsync(mb->fd) != 0)
			return KP_E_IO;
		hook("copied");
		done = h->len;
		if (fstat(mb->fd, &st) != 0)
			return KP_E_IO;
		if (st.st_size <= h->e)
			break;
	}
	if (ftruncate(mb->fd, h->w0 + h->len) != 0 || fsync(mb->fd) != 0)
		return KP_E_IO;
	hook("truncated");
	if (unlink(jpath) != 0)
		kp_log(KP_LOG_WARN, "mbox %s: removing %s: %s", mb->path, jpath, strerror(errno));
	return 0;
}

/* mbox_journal_dir (kpopd.conf(5)): where the journal goes when the spool's own
 * directory does not let the user create files (Debian's /var/mail). */
static char *journal_dir;

void
kp_mbox_set_journal_dir(const char *dir)
{
	free(journal_dir);
	journal_dir = dir != NULL && dir[0] != '\0' ? strdup(dir) : NULL;
}

/* The journal's two places: 0 beside the spool, 1 in journal_dir, named after the
 * spool (NULL: no journal_dir, or out of memory). */
static char *
journal_path(const struct kp_mbox *mb, int where)
{
	const char *base = strrchr(mb->path, '/');
	size_t n;
	char *p;

	base = base != NULL ? base + 1 : mb->path;
	if (where == 1 && journal_dir == NULL)
		return NULL;
	n = (where == 0 ? strlen(mb->path) : strlen(journal_dir) + 1 + strlen(base)) +
	    sizeof(JOURNAL_SUFFIX);
	p = malloc(n);
	if (p != NULL && where == 0)
		snprintf(p, n, "%s%s", mb->path, JOURNAL_SUFFIX);
	else if (p != NULL)
		snprintf(p, n, "%s/%s%s", journal_dir, base, JOURNAL_SUFFIX);
	return p;
}

/* Finish or drop the journal at jpath, if there is one of ours.  0 or KP_E_IO. */
static int
replay_one(struct kp_mbox *mb, const char *jpath)
{
	struct jhdr h;
	struct stat st;
	char mark = 'x';
	const char *what;
	int jfd, rc = 0;

	jfd = open(jpath, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (jfd < 0 && errno == ENOENT)
		return 0;
	if (jfd < 0 && errno != EACCES && errno != EPERM && errno != ELOOP) {
		kp_log(KP_LOG_ERR, "mbox %s: %s: %s", mb->path, jpath, strerror(errno));
		return KP_E_IO;
	}
	if (jfd < 0 || fstat(jfd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != mb->owner) {
		/* planted by somebody else: never copied into the spool, never removed;
		 * it also keeps this session from compacting (the journal is created
		 * with O_EXCL) until an administrator looks */
		kp_log(KP_LOG_ERR, "mbox %s: %s is not a regular file of uid %lu: ignored",
		       mb->path, jpath, (unsigned long)mb->owner);
		if (jfd >= 0)
			close(jfd);
		return 0;
	}
	if (jhdr_read(jfd, &h) != 0) {
		what = "incomplete (the UPDATE had not started): removed";
	} else if (fstat(mb->fd, &st) != 0) {
		rc = KP_E_IO;
		what = "cannot stat the spool";
	} else if (st.st_size < h.e) {
		what = "the UPDATE had finished: removed";
	} else if (pread_full(mb->fd, &mark, 1, h.w0 + h.len) != 1 || mark != '\0') {
		what = "the UPDATE had not started or had finished: removed";
	} else {
		kp_log(KP_LOG_WARN, "mbox %s: finishing the UPDATE a killed session began", mb->path);
		rc = journal_apply(mb, jfd, jpath, &h, 0);
		what = rc == 0 ? "replayed" : "replaying failed: the journal is kept";
	}
	kp_log(rc == 0 ? KP_LOG_WARN : KP_LOG_ERR, "mbox %s: journal %s: %s", mb->path, jpath, what);
	if (rc == 0)
		unlink(jpath);
	close(jfd);
	return rc;
}

/* Before UPDATE (both backends): take the session lock again on the same
 * descriptor.  Locally it is still ours and this changes nothing.  On shared
 * storage it can be lost under us: GlusterFS keeps no POSIX lock across a brick
 * restart (the descriptor then fails, or the lock is free, or another node took
 * it).  Deleting without it could race another session; refusing loses nothing,
 * the messages stay.  0, or -1 after logging why. */
int
kp_relock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	kp_log(KP_LOG_ERR, "the maildrop lock was lost (%s; shared storage restarted?): "
	       "no message deleted", strerror(errno));
	return -1;
}

/* At open, under the locks: finish or drop what a killed UPDATE left, in either
 * place.  0, or KP_E_IO (the journal is kept and the session refused). */
static int
journal_replay(struct kp_mbox *mb)
{
	int where, rc = 0;

	for (where = 0; rc == 0 && where < 2; where++) {
		char *jpath = journal_path(mb, where);

		if (jpath == NULL && where == 0)
			return KP_E_NOMEM;
		if (jpath != NULL)
			rc = replay_one(mb, jpath);
		free(jpath);
	}
	return rc;
}

/* Create the journal beside the spool, else in journal_dir.  The fd, with
 * *jpath_out set, or -1 (logged). */
static int
journal_create(struct kp_mbox *mb, char **jpath_out)
{
	int where, fd = -1, err = 0;

	*jpath_out = NULL;
	for (where = 0; fd < 0 && where < 2; where++) {
		char *jpath = journal_path(mb, where);

		if (jpath == NULL)
			break;
		fd = open(jpath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*jpath_out = jpath;
			return fd;
		}
		err = errno;
		kp_log(where == 0 && journal_dir != NULL && (err == EACCES || err == EPERM ||
							     err == EROFS) ?
		       KP_LOG_DEBUG : KP_LOG_ERR, "mbox %s: cannot create the UPDATE journal "
		       "%s: %s", mb->path, jpath, strerror(err));
		free(jpath);
		if (err != EACCES && err != EPERM && err != EROFS)
			break;
	}
	kp_log(KP_LOG_ERR, "mbox %s: no UPDATE journal: nothing removed (the spool's "
	       "directory, or mbox_journal_dir, must let the user create files)", mb->path);
	errno = err;
	return -1;
}

int
kp_mbox_commit(struct kp_mbox *mb, unsigned long *removed_out)
{
	sigset_t block, old;
	struct stat st;
	struct jhdr h;
	unsigned long i, first = mb->n, removed = 0;
	off_t src;
	char *jpath = NULL;
	int jfd = -1, rc = 0;

	*removed_out = 0;
	for (i = 0; i < mb->n; i++)
		if (mb->msgs[i].deleted) {
			if (first == mb->n)
				first = i;
			removed++;
		}
	if (removed == 0 || mb->fd < 0)
		return 0;
	if (kp_relock(mb->fd) != 0)
		return KP_E_INUSE;
	/* Check, then act: the spool must still be what we split at open. */
	if (fstat(mb->fd, &st) != 0 || st.st_size < mb->size) {
		kp_log(KP_LOG_ERR, "mbox %s: shrank during the session: nothing removed",
		       mb->path);
		return KP_E_IO;
	}
	for (i = 0; i < mb->n; i++)
		if (!at_from(mb, mb->msgs[i].from)) {
			kp_log(KP_LOG_ERR, "mbox %s: changed during the session: nothing removed",
			       mb->path);
			return KP_E_IO;
		}
	/* Not needed for safety any more (the journal is), but an UPDATE that runs to
	 * its end leaves no journal for the next session to read. */
	sigfillset(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	src = mb->served_end;
	if (src == mb->size && st.st_size > src) {
		/* An MDA appending after a last message without a final newline first
		 * ends its line and writes the blank separator line: those newlines
		 * belong to our last message, kept or removed with it. */
		ssize_t r = pread_full(mb->fd, mb->chunk, 256, src), k = 0;

		while (k < r && mb->chunk[k] == '\n')
			k++;
		src += k;
		mb->msgs[mb->n - 1].next = src;
	}
	jfd = journal_create(mb, &jpath);
	if (jfd < 0) {
		rc = KP_E_IO;
		goto done;
	}
	/* The kept messages from the first removed one on, then messages beyond
	 * max_messages and mail delivered since open (journal_apply adds later mail). */
	h.w0 = mb->msgs[first].from;
	h.len = 0;
	for (i = first; rc == 0 && i < mb->n; i++) {
		struct mmsg *m = &mb->msgs[i];

		if (m->deleted)
			continue;
		rc = copy_range(mb, mb->fd, m->from, jfd, JDATA + h.len, m->next - m->from);
		h.len += m->next - m->from;
	}
	h.e = src;
	hook("journal");
	if (rc == 0 && (fsync(jfd) != 0 || fsync_dir_of(jpath) != 0 ||
			jhdr_write(jfd, 0, &h) != 0 || jhdr_write(jfd, 1, &h) != 0))
		rc = KP_E_IO;
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "mbox %s: writing the UPDATE journal %s failed (%s): nothing "
		       "removed", mb->path, jpath, strerror(errno));
		unlink(jpath);
		goto done;
	}
	hook("journaled");
	rc = journal_apply(mb, jfd, jpath, &h, 0);
	if (rc != 0)
		kp_log(KP_LOG_ERR, "mbox %s: compacting failed (%s): the next session finishes "
		       "it from %s", mb->path, strerror(errno), jpath);
done:
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (jfd >= 0)
		close(jfd);
	free(jpath);
	if (rc != 0)
		return rc;
	*removed_out = removed;
	return 0;
}

void
kp_mbox_close(struct kp_mbox *mb)
{
	if (mb == NULL)
		return;
	kp_dotlock_release(&mb->lock);
	if (mb->fd >= 0)
		close(mb->fd); /* releases the fcntl lock */
	if (mb->dirfd >= 0)
		close(mb->dirfd);
	free(mb->statename);
	free(mb->path);
	free(mb->msgs);
	free(mb->chunk);
	free(mb->unq);
	free(mb->wire);
	free(mb);
}

int
kp_mbox_state_at(struct kp_mbox *mb, const char **name_out)
{
	const char *slash = strrchr(mb->path, '/');
	size_t n;

	*name_out = NULL;
	if (mb->fd < 0)
		return -1;
	if (mb->dirfd < 0) {
		char *dir = slash == NULL ? strdup(".") : strndup(mb->path, (size_t)(slash - mb->path));

		n = strlen(slash != NULL ? slash + 1 : mb->path) + sizeof(STATE_SUFFIX);
		free(mb->statename);
		mb->statename = malloc(n);
		if (dir == NULL || mb->statename == NULL) {
			free(dir);
			return -1;
		}
		snprintf(mb->statename, n, "%s" STATE_SUFFIX, slash != NULL ? slash + 1 : mb->path);
		mb->dirfd = open(dir[0] != '\0' ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(dir);
		if (mb->dirfd < 0)
			return -1;
	}
	*name_out = mb->statename;
	return mb->dirfd;
}
