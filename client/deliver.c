/* deliver.c - storing fetched messages durably: Maildir, mbox, an MDA or stdout. */
#include "config.h"
#include "client/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"

#define EX_TEMPFAIL_ 75 /* sysexits.h EX_TEMPFAIL */

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

int
sink_split_command(const char *cmd, char ***argv_out)
{
	char **argv = NULL, *word = NULL;
	size_t n = 0, len = strlen(cmd), wl = 0;
	const char *p = cmd;
	int rc = KP_E_SYNTAX;

	*argv_out = NULL;
	if ((word = malloc(len + 1)) == NULL || (argv = calloc(len / 2 + 2, sizeof(*argv))) == NULL) {
		rc = KP_E_NOMEM;
		goto fail;
	}
	for (;;) {
		int in_word = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		wl = 0;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			in_word = 1;
			if (*p == '\'' || *p == '"') {
				char q = *p++;

				while (*p != '\0' && *p != q) {
					if (q == '"' && *p == '\\' && p[1] != '\0')
						p++;
					word[wl++] = *p++;
				}
				if (*p != q)
					goto fail; /* unterminated quote */
				p++;
			} else if (*p == '\\' && p[1] != '\0') {
				word[wl++] = p[1];
				p += 2;
			} else {
				word[wl++] = *p++;
			}
		}
		if (in_word) {
			word[wl] = '\0';
			if ((argv[n++] = strdup(word)) == NULL) {
				rc = KP_E_NOMEM;
				goto fail;
			}
		}
	}
	if (n == 0)
		goto fail;
	free(word);
	*argv_out = argv;
	return 0;
fail:
	for (size_t i = 0; argv != NULL && i < n; i++)
		free(argv[i]);
	free(argv);
	free(word);
	return rc;
}

/* The envelope sender: the first Return-Path header of the held header block, if
 * it is a plain address (letters, digits, . _ + = - and one @; never a leading
 * '-', which an MDA would take for an option).  Else the fallback. */
static void
envelope_sender(const struct sink *s, char *out, size_t cap)
{
	const char *h = s->hold, *end = s->hold + s->nhold;

	snprintf(out, cap, "%s", SINK_SENDER_FALLBACK);
	while (h < end) {
		const char *nl = memchr(h, '\n', (size_t)(end - h));
		const char *le = nl != NULL ? nl : end;

		if (le == h)
			return; /* end of the header */
		if (le - h > 12 && strncasecmp(h, "Return-Path:", 12) == 0) {
			const char *v = h + 12, *ve = le;
			char addr[256];
			size_t n = 0, ats = 0;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			if (ve - v >= 2 && *v == '<' && ve[-1] == '>') {
				v++;
				ve--;
			}
			if (ve == v || (size_t)(ve - v) >= sizeof(addr) || *v == '-')
				return;
			for (; v < ve; v++) {
				char ch = *v;

				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
				      ch == '+' || ch == '=' || ch == '-' || ch == '@'))
					return;
				ats += ch == '@';
				addr[n++] = ch;
			}
			addr[n] = '\0';
			if (ats <= 1)
				snprintf(out, cap, "%s", addr);
			return;
		}
		if (nl == NULL)
			return;
		h = nl + 1;
	}
}

static int
from_line(struct sink *s)
{
	char from[512], sender[256], date[64];
	time_t now = time(NULL);
	struct tm tm;

	envelope_sender(s, sender, sizeof(sender));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(from, sizeof(from), "From %s %s\n", sender, date);
	return write_all(s->fd, from, strlen(from));
}

/* %u: the local user; %f: the envelope sender; %%: a percent sign.  Substituted
 * in each word after splitting, so a value never becomes more words. */
static char *
expand(const char *w, const char *user, const char *sender)
{
	size_t cap = strlen(w) + 1, n = 0;
	const char *p;
	char *out;

	for (p = w; *p; p++)
		if (*p == '%')
			cap += strlen(user) + strlen(sender);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (p = w; *p; p++) {
		const char *v = NULL;

		if (*p == '%' && p[1] == 'u')
			v = user;
		else if (*p == '%' && p[1] == 'f')
			v = sender;
		else if (*p == '%' && p[1] == '%')
			v = "%";
		if (v != NULL) {
			memcpy(out + n, v, strlen(v));
			n += strlen(v);
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

static int
mda_spawn(struct sink *s)
{
	char sender[256];
	char **argv;
	size_t n = 0, i;
	pid_t pid;

	envelope_sender(s, sender, sizeof(sender));
	while (s->argv[n] != NULL)
		n++;
	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((argv[i] = expand(s->argv[i], s->user, sender)) == NULL)
			goto fail;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		/* the spooled message on stdin (sharing its offset, so kpop sees how much
		 * was read); the MDA's chatter on our stderr, never on our stdout */
		if (dup2(s->fd, 0) < 0 || dup2(2, 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "kpop: cannot run the MDA %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	s->mda_pid = pid;
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return 0;
fail:
	s->err = errno ? errno : ENOMEM;
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
	return -1;
}

/* The fsync threads of a Maildir sink: sink_commit queues a file, a thread fsyncs
 * it, sink_sync waits for the batch.  The threads touch nothing but the queue. */
struct sink_syncer {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	int fd[SINK_BATCH_MAX];
	int err[SINK_BATCH_MAX];  /* fsync's errno, 0: durable */
	int queued, taken, finished, stop, nthreads;
	pthread_t th[KP_SYNC_THREADS];
};

static void *
syncer_main(void *arg)
{
	struct sink_syncer *y = arg;

	pthread_mutex_lock(&y->mu);
	for (;;) {
		int i, e;

		while (!y->stop && y->taken == y->queued)
			pthread_cond_wait(&y->work, &y->mu);
		if (y->taken == y->queued)
			break; /* stopping, nothing left */
		i = y->taken++;
		pthread_mutex_unlock(&y->mu);
		e = fsync(y->fd[i]) == 0 ? 0 : errno;
		pthread_mutex_lock(&y->mu);
		y->err[i] = e;
		y->finished++;
		pthread_cond_signal(&y->done);
	}
	pthread_mutex_unlock(&y->mu);
	return NULL;
}

static void
syncer_stop(struct sink_syncer *y)
{
	int i;

	if (y == NULL)
		return;
	pthread_mutex_lock(&y->mu);
	y->stop = 1;
	pthread_cond_broadcast(&y->work);
	pthread_mutex_unlock(&y->mu);
	for (i = 0; i < y->nthreads; i++)
		pthread_join(y->th[i], NULL);
	pthread_mutex_destroy(&y->mu);
	pthread_cond_destroy(&y->work);
	pthread_cond_destroy(&y->done);
	free(y);
}

/* NULL when no thread could start: sink_sync then fsyncs itself. */
static struct sink_syncer *
syncer_start(void)
{
	struct sink_syncer *y = calloc(1, sizeof(*y));
	sigset_t all, old;
	int i;

	if (y == NULL)
		return NULL;
	pthread_mutex_init(&y->mu, NULL);
	pthread_cond_init(&y->work, NULL);
	pthread_cond_init(&y->done, NULL);
	/* signals (SIGTERM for --daemon, SIGPIPE) stay with the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < KP_SYNC_THREADS; i++) {
		if (pthread_create(&y->th[i], NULL, syncer_main, y) != 0)
			break;
		y->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (y->nthreads == 0) {
		syncer_stop(y);
		return NULL;
	}
	return y;
}

int
sink_open(struct sink *s, const struct sink_conf *conf)
{
	const char *path = conf->path;

	memset(s, 0, sizeof(*s));
	s->kind = conf->kind;
	s->fd = s->dirfd = s->newfd = -1;
	s->mda_pid = -1;
	if (path != NULL)
		snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->user, sizeof(s->user), "%s", conf->user != NULL ? conf->user : "");
	s->from_line = conf->kind == SINK_MBOX || conf->kind == SINK_STDOUT ||
		       (conf->kind == SINK_MDA && conf->from_line);
	s->quote = conf->kind == SINK_MBOX || conf->kind == SINK_STDOUT;
	if (s->kind != SINK_MAILDIR && (s->hold = malloc(SINK_HOLD_MAX)) == NULL)
		goto fail;
	if (s->kind == SINK_MAILDIR) {
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
		s->newfd = openat(s->dirfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->newfd < 0)
			goto fail;
		s->syncer = syncer_start();
	} else if (s->kind == SINK_MBOX) {
		/* locked per message (sink_begin), so an MDA can deliver in between */
		s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (s->fd < 0)
			goto fail;
	} else if (s->kind == SINK_MDA) {
		if (sink_split_command(path, &s->argv) != 0) {
			fprintf(stderr, "kpop: the MDA command is empty or has an unterminated "
				"quote: %s\n", path);
			sink_close(s);
			return -1;
		}
	} else {
		s->fd = 1;
	}
	return 0;
fail:
	fprintf(stderr, "kpop: cannot open %s: %s\n", path != NULL ? path : "", strerror(errno));
	sink_close(s);
	return -1;
}

static const char *
where(const struct sink *s)
{
	return s->kind == SINK_STDOUT ? "standard output" :
	       s->kind == SINK_MDA ? "the MDA" : s->path;
}

int
sink_begin(struct sink *s)
{
	s->err = 0;
	s->bol = 1;
	s->ngt = 0;
	s->npend = 0;
	s->last_nl = 1;
	s->nhold = 0;
	s->holding = s->from_line;
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
		struct flock fl;

		int rc = kp_dotlock_take(&s->lock, s->path, "kpop", KP_DOTLOCK_WAIT_SEC, NULL);

		if (rc != 0) {
			fprintf(stderr, "kpop: cannot lock %s (%s.lock): %s\n", s->path, s->path,
				rc == KP_E_INUSE ? "somebody else holds the lock" :
				rc == KP_E_IO ? strerror(errno) : kp_strerror(rc));
			return -1;
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(s->fd, F_SETLKW, &fl) != 0) {
			fprintf(stderr, "kpop: cannot lock %s: %s\n", s->path, strerror(errno));
			kp_dotlock_release(&s->lock);
			return -1;
		}
		s->mbox_start = lseek(s->fd, 0, SEEK_END);
	} else if (s->kind == SINK_MDA) {
		/* The message is spooled to an unlinked file and the MDA reads that:
		 * an MDA never sees a message cut short by a lost connection or a kill
		 * of kpop (a pipe would give it an early EOF, and it would deliver the
		 * part), and what it read is known when it exits. */
		const char *dir = getenv("TMPDIR");
		char tmpl[4200];

		snprintf(tmpl, sizeof(tmpl), "%s/kpop-mda.XXXXXX",
			 dir != NULL && dir[0] == '/' ? dir : "/tmp");
		s->fd = mkostemp(tmpl, O_CLOEXEC);
		if (s->fd < 0) {
			fprintf(stderr, "kpop: cannot create a spool file in %s: %s\n",
				dir != NULL && dir[0] == '/' ? dir : "/tmp", strerror(errno));
			return -1;
		}
		unlink(tmpl);
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

static int
body_write(struct sink *s, const char *data, size_t n)
{
	if (n == 0)
		return 0;
	if ((s->quote ? mbox_write(s, data, n) : write_all(s->fd, data, n)) != 0) {
		s->err = errno ? errno : EIO;
		return -1;
	}
	s->last_nl = data[n - 1] == '\n';
	return 0;
}

/* The header is complete (or the hold is full): the From_ line, then what was held. */
static int
release_hold(struct sink *s)
{
	s->holding = 0;
	if (from_line(s) != 0) {
		s->err = errno ? errno : EIO;
		return -1;
	}
	return body_write(s, s->hold, s->nhold);
}

static int
header_done(const struct sink *s, size_t from)
{
	size_t i;

	if (s->nhold > 0 && s->hold[0] == '\n')
		return 1;
	for (i = from > 0 ? from - 1 : 0; i + 1 < s->nhold; i++)
		if (s->hold[i] == '\n' && s->hold[i + 1] == '\n')
			return 1;
	return 0;
}

int
sink_write(struct sink *s, const char *data, size_t n)
{
	size_t copied = 0;

	if (s->err != 0)
		return -1;
	if (n == 0)
		return 0;
	if (s->hold != NULL && s->nhold < SINK_HOLD_MAX) {
		size_t before = s->nhold;

		/* a copy of the header: where the envelope sender comes from */
		copied = n < SINK_HOLD_MAX - s->nhold ? n : SINK_HOLD_MAX - s->nhold;
		memcpy(s->hold + s->nhold, data, copied);
		s->nhold += copied;
		if (s->holding) {
			if (!header_done(s, before) && s->nhold < SINK_HOLD_MAX)
				return 0;
			if (release_hold(s) != 0)
				return -1;
			return body_write(s, data + copied, n - copied);
		}
	}
	return body_write(s, data, n);
}

static int
mda_run(struct sink *s)
{
	struct stat st;
	off_t got;
	int status;
	pid_t w;

	if (fstat(s->fd, &st) != 0 || lseek(s->fd, 0, SEEK_SET) != 0) {
		s->err = errno;
		return -1;
	}
	if (mda_spawn(s) != 0)
		return -1;
	do
		w = waitpid(s->mda_pid, &status, 0);
	while (w < 0 && errno == EINTR);
	s->mda_pid = -1;
	got = lseek(s->fd, 0, SEEK_CUR);
	if (w < 0) {
		s->err = errno;
		return -1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "kpop: the MDA %s was killed by signal %d: the message stays "
			"on the server\n", s->argv[0], WTERMSIG(status));
		return -2;
	}
	if (WEXITSTATUS(status) == EX_TEMPFAIL_) {
		fprintf(stderr, "kpop: the MDA %s reported a temporary failure (exit 75): the "
			"message stays on the server for next time\n", s->argv[0]);
		return SINK_DEFERRED;
	}
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "kpop: the MDA %s exited with status %d: the message stays on "
			"the server\n", s->argv[0], WEXITSTATUS(status));
		return -2;
	}
	if (got >= 0 && got < st.st_size) {
		fprintf(stderr, "kpop: the MDA %s exited 0 after reading %lld of %lld bytes: "
			"not counted as delivered, the message stays on the server\n",
			s->argv[0], (long long)got, (long long)st.st_size);
		return -2;
	}
	return 0;
}

int
sink_commit(struct sink *s)
{
	if (s->err == 0 && s->holding)
		(void)release_hold(s);
	if (s->err == 0 && s->quote && flush_pend(s, 0) != 0)
		s->err = errno ? errno : EIO;
	if (s->err != 0)
		goto fail;
	if (s->kind == SINK_MAILDIR) {
		/* a full batch (the caller syncs at least once a window) goes now */
		if (s->unsynced == SINK_BATCH_MAX && sink_sync(s) != 0) {
			s->err = EIO;
			goto fail;
		}
		if (s->syncer != NULL) {
			pthread_mutex_lock(&s->syncer->mu);
			s->syncer->fd[s->syncer->queued++] = s->fd;
			pthread_cond_signal(&s->syncer->work);
			pthread_mutex_unlock(&s->syncer->mu);
		}
		s->batch_fd[s->unsynced] = s->fd;
		snprintf(s->batch_name[s->unsynced], sizeof(s->batch_name[0]), "%s", s->tmpname);
		s->unsynced++;
		s->fd = -1;
		return 0;
	}
	if (s->kind == SINK_MDA) {
		int rc = mda_run(s);

		close(s->fd);
		s->fd = -1;
		if (rc == -2)
			return -1; /* said why */
		if (rc < 0)
			goto fail;
		return rc;
	}
	if (s->kind == SINK_MBOX) {
		/* a blank line separates messages */
		if ((!s->last_nl && write_all(s->fd, "\n", 1) != 0) ||
		    write_all(s->fd, "\n", 1) != 0 || fsync(s->fd) != 0) {
			s->err = errno;
			goto fail;
		}
		{
			struct flock fl;

			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_UNLCK;
			fl.l_whence = SEEK_SET;
			(void)fcntl(s->fd, F_SETLK, &fl);
			kp_dotlock_release(&s->lock);
		}
		return 0;
	}
	/* standard output: each message as in an mbox, so they can be told apart */
	if ((!s->last_nl && write_all(s->fd, "\n", 1) != 0) || write_all(s->fd, "\n", 1) != 0) {
		s->err = errno;
		goto fail;
	}
	if (fsync(s->fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
		s->err = errno;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "kpop: storing a message in %s failed: %s\n", where(s),
		strerror(s->err ? s->err : EIO));
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
		struct flock fl;

		if (ftruncate(s->fd, s->mbox_start) != 0)
			fprintf(stderr, "kpop: could not roll back %s: %s\n", s->path,
				strerror(errno));
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_UNLCK;
		fl.l_whence = SEEK_SET;
		(void)fcntl(s->fd, F_SETLK, &fl);
		kp_dotlock_release(&s->lock);
	} else if (s->kind == SINK_MDA) {
		/* the MDA has not been started: the spool file just goes */
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
	}
}

int
sink_sync(struct sink *s)
{
	int i, rc = 0;

	if (s->kind != SINK_MAILDIR || s->unsynced == 0)
		return 0;
	if (s->syncer != NULL) {
		pthread_mutex_lock(&s->syncer->mu);
		while (s->syncer->finished < s->syncer->queued)
			pthread_cond_wait(&s->syncer->done, &s->syncer->mu);
		s->syncer->queued = s->syncer->taken = s->syncer->finished = 0;
		pthread_mutex_unlock(&s->syncer->mu);
	}
	for (i = 0; i < s->unsynced; i++) {
		char from[272], to[272];
		int synced = rc == 0 && (s->syncer != NULL ? (errno = s->syncer->err[i]) == 0 :
					 fsync(s->batch_fd[i]) == 0);

		if (close(s->batch_fd[i]) != 0)
			synced = 0;
		s->batch_fd[i] = -1;
		snprintf(from, sizeof(from), "tmp/%s", s->batch_name[i]);
		snprintf(to, sizeof(to), "new/%s", s->batch_name[i]);
		if (rc == 0 && (!synced || linkat(s->dirfd, from, s->dirfd, to, 0) != 0)) {
			fprintf(stderr, "kpop: storing a message in %s failed: %s\n", s->path,
				strerror(errno));
			rc = -1; /* this one and the rest of the batch are not stored */
		}
		/* linked into new/ or not stored at all: either way tmp/ lets go */
		unlinkat(s->dirfd, from, 0);
	}
	s->unsynced = 0;
	if (rc == 0 && fsync(s->newfd) != 0) {
		fprintf(stderr, "kpop: fsync of %s/new failed: %s\n", s->path, strerror(errno));
		rc = -1;
	}
	return rc;
}

void
sink_close(struct sink *s)
{
	int i;

	/* a batch never synced was never stored: its files go (after the threads
	 * are done with them) */
	syncer_stop(s->syncer);
	s->syncer = NULL;
	for (i = 0; s->kind == SINK_MAILDIR && i < s->unsynced; i++) {
		char from[272];

		close(s->batch_fd[i]);
		snprintf(from, sizeof(from), "tmp/%s", s->batch_name[i]);
		unlinkat(s->dirfd, from, 0);
	}
	s->unsynced = 0;
	if (s->kind != SINK_STDOUT && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->newfd >= 0)
		close(s->newfd);
	s->newfd = -1;
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	if (s->argv != NULL) {
		for (i = 0; s->argv[i] != NULL; i++)
			free(s->argv[i]);
		free(s->argv);
		s->argv = NULL;
	}
	free(s->hold);
	s->hold = NULL;
}
