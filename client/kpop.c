/* kpop.c - the client: options and accounts, the list and fetch actions, the UIDL
 * state, progress, exit codes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_pop3.h"
#include "client/cauth.h"
#include "client/account.h"
#include "client/deliver.h"
#include "client/explain.h"
#include "client/pop3c.h"
#include "client/probe.h"
#include "client/state.h"

/* What the command line says beyond the account settings. */
struct run {
	const char *action;
	int verbose, quiet, all;
	unsigned long daemon;      /* --daemon SECONDS; 0: fetch once */
};

struct msg {
	unsigned long num;
	unsigned long long size;
	char *uidl;                /* owned; NULL: none, or not usable (never recorded) */
	int seen;                  /* in the state: stored by an earlier run */
	int big;                   /* over max-size: skipped, kept */
	int stored, deleted;
};

struct fetch {
	struct pop3c *c;
	struct sink sink;
	struct state state;
	int have_state;            /* the state file is open */
	int have_uidl;             /* the server gave unique ids */
	unsigned long refused;     /* DELEs the server answered -ERR */
	struct msg *msgs;
	struct msg **by_uidl;      /* the messages with a usable unique id, sorted */
	unsigned long n, nby;
	unsigned long fetched, deleted, seen, big, deferred;
	unsigned long long octets;
	int progress;
	struct timeval last;
};

static volatile sig_atomic_t stop_requested;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: kpop [-H HOST] [options] [list|fetch] [ACCOUNT...]\n"
		"       kpop probe HOST [-p PORT] [--json]   (test Kerberos auth; --help)\n"
		"  -f, --config FILE    accounts (default ~/.config/kpop/config)\n"
		"  -H, --host HOST      server (or from the account)\n"
		"  -p, --port PORT      port (default 1109; 995 with --tls)\n"
		"  -a, --auth MECH      gssapi (AUTH GSSAPI, default) or kpop (legacy KPOP)\n"
		"  -u, --user NAME      mailbox to use: authzid for GSSAPI, USER for KPOP\n"
		"      --service NAME   Kerberos service (default pop)\n"
		"      --maildir DIR    fetch into a Maildir\n"
		"      --mbox FILE      fetch into an mbox file\n"
		"      --mda COMMAND    deliver each message through COMMAND (%%u, %%f)\n"
		"      --mda-from-line  give the MDA an mbox From_ line first\n"
		"      --stdout         fetch to standard output (mbox format)\n"
		"      --starttls WHEN  required, opportunistic (default) or off\n"
		"      --tls            implicit TLS (POP3S, port 995) from the first byte\n"
		"      --cafile FILE    trust this CA for the server's certificate\n"
		"      --sasl-layer L   none (default), integrity or privacy (GSSAPI)\n"
		"  -d, --delete         delete each message on the server once stored durably\n"
		"  -k, --keep           keep messages on the server (default)\n"
		"      --all            fetch messages fetched before too\n"
		"      --max-size N     skip (and keep) messages over N octets\n"
		"      --state FILE     the unique ids already fetched (default per account)\n"
		"      --daemon SEC     fetch every SEC seconds until SIGTERM\n"
		"  -t, --timeout SEC    network timeout (default 60)\n"
		"  -v, --verbose        protocol trace on stderr (secrets redacted)\n"
		"  -q, --quiet          no progress or summary\n"
		"  -V, --version\n"
		"exit status: 0 ok, 1 usage, 2 network, 3 protocol, 4 no/expired ticket,\n"
		"  5 Kerberos realm/service problem, 6 clock skew, 7 server refused,\n"
		"  8 local delivery failed, 9 mailbox in use\n"
		"config file settings (also long options):\n");
	config_print_keywords(f);
}

static void
progress(struct fetch *f, int final)
{
	struct timeval now;
	long ms;

	if (!f->progress)
		return;
	gettimeofday(&now, NULL);
	ms = (now.tv_sec - f->last.tv_sec) * 1000 + (now.tv_usec - f->last.tv_usec) / 1000;
	if (!final && ms < 100)
		return;
	f->last = now;
	fprintf(stderr, "\rkpop: %lu/%lu messages, %.1f MB", f->fetched, f->n,
		(double)f->octets / 1e6);
	if (final)
		fputc('\n', stderr);
}

static int
body_chunk(void *arg, const char *data, size_t n)
{
	struct fetch *f = arg;

	f->octets += n;
	progress(f, 0);
	return sink_write(&f->sink, data, n) == 0 ? 0 : KP_E_IO;
}

/* "NUM REST": NUM in 1..KP_MAILDROP_MSGS_MAX, REST the first word after it. */
static int
split_num(const char *line, unsigned long *num_out, char *rest, size_t cap)
{
	char buf[128];
	char *sp, *end;

	*num_out = 0;
	if (strlen(line) >= sizeof(buf))
		return KP_E_PROTO;
	snprintf(buf, sizeof(buf), "%s", line);
	sp = strchr(buf, ' ');
	if (sp == NULL)
		return KP_E_PROTO;
	*sp = '\0';
	end = sp + 1 + strcspn(sp + 1, " ");
	*end = '\0';
	if (kp_parse_ulong(buf, 1, KP_MAILDROP_MSGS_MAX, num_out) != 0 ||
	    strlen(sp + 1) >= cap)
		return KP_E_PROTO;
	snprintf(rest, cap, "%s", sp + 1);
	return 0;
}

static int
list_line(void *arg, const char *line)
{
	struct fetch *f = arg;
	unsigned long num, v;
	char rest[64];

	if (split_num(line, &num, rest, sizeof(rest)) != 0 ||
	    kp_parse_ulong(rest, 0, ~0UL, &v) != 0)
		return KP_E_PROTO;
	if (f->n % 256 == 0) {
		struct msg *m = realloc(f->msgs, (f->n + 256) * sizeof(*m));

		if (m == NULL)
			return KP_E_NOMEM;
		f->msgs = m;
	}
	memset(&f->msgs[f->n], 0, sizeof(f->msgs[f->n]));
	f->msgs[f->n].num = num;
	f->msgs[f->n].size = v;
	f->n++;
	return 0;
}

static int
print_uidl(void *arg, const char *line)
{
	char safe[EXPLAIN_SAFE_MAX];

	(void)arg;
	printf("  %s\n", explain_safe(line, safe, sizeof(safe)));
	return 0;
}

static struct msg *
msg_by_num(struct fetch *f, unsigned long num)
{
	unsigned long lo = 0, hi = f->n;

	/* LIST is in ascending order on every server we know; fall back to a scan */
	if (num >= 1 && num <= f->n && f->msgs[num - 1].num == num)
		return &f->msgs[num - 1];
	for (lo = 0; lo < hi; lo++)
		if (f->msgs[lo].num == num)
			return &f->msgs[lo];
	return NULL;
}

static int
uidl_line(void *arg, const char *line)
{
	struct fetch *f = arg;
	unsigned long num;
	char uidl[KP_UIDL_MAX + 2];
	struct msg *m;

	/* a unique id that is too long or not printable is not used: the message is
	 * fetched every time rather than risk skipping it */
	if (split_num(line, &num, uidl, sizeof(uidl)) != 0 || !state_uidl_ok(uidl))
		return 0;
	m = msg_by_num(f, num);
	if (m == NULL || m->uidl != NULL)
		return 0;
	m->uidl = strdup(uidl);
	return m->uidl == NULL ? KP_E_NOMEM : 0;
}

static int
cmp_uidl(const void *a, const void *b)
{
	return strcmp((*(struct msg *const *)a)->uidl, (*(struct msg *const *)b)->uidl);
}

/* Index the unique ids; two messages with the same id lose it both (a server
 * that repeats ids could make kpop skip or delete the wrong one). */
static int
index_uidls(struct fetch *f)
{
	unsigned long i, k = 0;

	f->by_uidl = calloc(f->n + 1, sizeof(*f->by_uidl));
	if (f->by_uidl == NULL)
		return KP_E_NOMEM;
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].uidl != NULL)
			f->by_uidl[k++] = &f->msgs[i];
	qsort(f->by_uidl, k, sizeof(*f->by_uidl), cmp_uidl);
	for (i = 0; i + 1 < k; i++) {
		unsigned long j = i;

		while (j + 1 < k && strcmp(f->by_uidl[j + 1]->uidl, f->by_uidl[i]->uidl) == 0)
			j++;
		if (j > i) {
			char safe[EXPLAIN_SAFE_MAX];

			fprintf(stderr, "kpop: the server gives %lu messages the same unique id "
				"%s: they are fetched as new each time\n", j - i + 1,
				explain_safe(f->by_uidl[i]->uidl, safe, sizeof(safe)));
			for (unsigned long x = i; x <= j; x++) {
				free(f->by_uidl[x]->uidl);
				f->by_uidl[x]->uidl = NULL;
			}
			i = j;
		}
	}
	f->nby = 0;
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].uidl != NULL)
			f->by_uidl[f->nby++] = &f->msgs[i];
	qsort(f->by_uidl, f->nby, sizeof(*f->by_uidl), cmp_uidl);
	return 0;
}

/* state_save's filter: keep a unique id the server still lists, unless kpop
 * deleted that message in this (completed) session. */
static int
keep_uidl(void *arg, const char *uidl)
{
	struct fetch *f = arg;
	struct msg key, *kp = &key, **hit;

	key.uidl = (char *)uidl;
	hit = bsearch(&kp, f->by_uidl, f->nby, sizeof(*f->by_uidl), cmp_uidl);
	return hit != NULL && !(*hit)->deleted;
}

/* The most wire octets a RETR body may take before kpop gives up on the message.
 * LIST counts the message with CRLF line ends before dot-stuffing, so an honest
 * body on the wire is at most 4/3 of it (a message of "." lines, each stuffed to
 * "..") plus the 5 octets of the terminating line; and some servers announce sizes
 * that are a little off (headers added on retrieval, sizes counted with LF).  Twice
 * the size, and at least size + 1 MiB, lets all of that through, costs a hostile
 * server's victim at most twice what it was told to expect, and stops a server that
 * never ends a RETR from filling the disk. */
static unsigned long long
retr_limit(unsigned long long size)
{
	unsigned long long slack = size > KP_RETR_SLACK_MIN ? size : KP_RETR_SLACK_MIN;

	return size > ULLONG_MAX - slack ? ULLONG_MAX : size + slack;
}

static int
get_list(struct fetch *f)
{
	int rc;

	pop3c_send(f->c, "LIST");
	rc = pop3c_reply(f->c);
	if (rc < 0)
		return EXIT_NET;
	if (rc != KP_POP3_OK) {
		char safe[EXPLAIN_SAFE_MAX];

		fprintf(stderr, "kpop: LIST failed: %s\n",
			explain_safe(f->c->reply.text, safe, sizeof(safe)));
		return EXIT_PROTO;
	}
	rc = pop3c_lines(f->c, list_line, f);
	if (rc == KP_E_TOOBIG) {
		fprintf(stderr, "kpop: the server's LIST goes on past %lu messages: not a real "
			"maildrop, giving up\n", (unsigned long)KP_MAILDROP_MSGS_MAX);
		return EXIT_PROTO;
	}
	if (rc != 0) {
		fprintf(stderr, "kpop: bad LIST response from the server\n");
		return rc == KP_E_PROTO ? EXIT_PROTO : EXIT_NET;
	}
	return 0;
}

/* UIDL into f->msgs.  0 with f->have_uidl set or not (-ERR, not offered). */
static int
get_uidl(struct fetch *f)
{
	int rc;

	if (f->c->have_capa && !f->c->capa_uidl)
		return 0;
	pop3c_send(f->c, "UIDL");
	rc = pop3c_reply(f->c);
	if (rc < 0)
		return EXIT_NET;
	if (rc != KP_POP3_OK)
		return 0;
	rc = pop3c_lines(f->c, uidl_line, f);
	if (rc == KP_E_TOOBIG) {
		fprintf(stderr, "kpop: the server's UIDL goes on past %lu messages: giving up\n",
			(unsigned long)KP_MAILDROP_MSGS_MAX);
		return EXIT_PROTO;
	}
	if (rc != 0)
		return rc == KP_E_NOMEM ? EXIT_USAGE : EXIT_NET;
	f->have_uidl = 1;
	return index_uidls(f) == 0 ? 0 : EXIT_USAGE;
}

static int
do_list(struct fetch *f)
{
	unsigned long long total = 0;
	unsigned long i;
	int rc;

	if ((rc = get_list(f)) != 0)
		return rc;
	for (i = 0; i < f->n; i++)
		total += f->msgs[i].size;
	printf("%lu messages, %llu octets\n", f->n, total);
	for (i = 0; i < f->n; i++)
		printf("%lu %llu\n", f->msgs[i].num, f->msgs[i].size);
	if (f->c->capa_uidl || !f->c->have_capa) {
		pop3c_send(f->c, "UIDL");
		rc = pop3c_reply(f->c);
		if (rc < 0)
			return EXIT_NET;
		if (rc == KP_POP3_OK) {
			printf("unique ids:\n");
			rc = pop3c_lines(f->c, print_uidl, NULL);
			if (rc == KP_E_TOOBIG) {
				fprintf(stderr, "kpop: the server's UIDL goes on past %lu "
					"messages: giving up\n", (unsigned long)KP_MAILDROP_MSGS_MAX);
				return EXIT_PROTO;
			}
			if (rc != 0)
				return EXIT_NET;
		}
	}
	return 0;
}

/* The pipelined fetch: up to KP_PIPELINE_WINDOW commands in flight (one without
 * PIPELINING).  A message is RETR'd, stored (sink_commit), then, once per batch,
 * made durable (sink_sync: one fsync of a Maildir's new/); only then is its unique
 * id recorded in the state and its DELE queued. */
struct queue {
	struct { char cmd; unsigned long idx; } q[KP_PIPELINE_WINDOW];
	size_t qh, qn, nretr;
	unsigned long *todo, ntodo, rtodo;      /* to RETR */
	unsigned long *ready, nready, rready;   /* to DELE */
	unsigned long *unsynced, nunsynced;     /* stored, not yet durable */
};

/* Make the stored messages durable, then record them and queue their DELEs
 * (queue_dele 0: the connection is gone). */
static int
flush_stored(struct fetch *f, struct queue *q, int del, int queue_dele)
{
	unsigned long i;

	if (q->nunsynced == 0)
		return 0;
	if (sink_sync(&f->sink) != 0) {
		q->nunsynced = 0; /* not durable: neither recorded nor deleted */
		return -1;
	}
	for (i = 0; i < q->nunsynced; i++) {
		struct msg *m = &f->msgs[q->unsynced[i]];

		m->stored = 1;
		if (f->have_state && m->uidl != NULL)
			(void)state_add(&f->state, m->uidl); /* a failure only costs a duplicate */
		if (del && queue_dele)
			q->ready[q->nready++] = q->unsynced[i];
	}
	q->nunsynced = 0;
	return 0;
}

static int
do_fetch(struct fetch *f, const struct account *a, const struct run *r)
{
	struct queue q;
	size_t window = f->c->capa_pipelining ? KP_PIPELINE_WINDOW : 1;
	unsigned long i;
	int rc, ex = 0;

	memset(&q, 0, sizeof(q));
	if ((rc = get_list(f)) != 0 || (rc = get_uidl(f)) != 0)
		return rc;
	if (!f->have_uidl && f->n > 0) {
		if (!a->del && !r->all) {
			fprintf(stderr, "kpop: %s gives no unique ids (UIDL): kpop cannot tell new "
				"messages from ones fetched before, and keeping them would fetch "
				"them again every time; use --delete, or --all to fetch them all "
				"anyway\n", a->host);
			return EXIT_PROTO;
		}
		if (!r->all)
			fprintf(stderr, "kpop: %s gives no unique ids (UIDL): fetching every "
				"message\n", a->host);
	}
	q.todo = calloc(f->n + 1, sizeof(*q.todo));
	q.ready = calloc(f->n + 1, sizeof(*q.ready));
	q.unsynced = calloc(f->n + 1, sizeof(*q.unsynced));
	if (q.todo == NULL || q.ready == NULL || q.unsynced == NULL) {
		ex = EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < f->n; i++) {
		struct msg *m = &f->msgs[i];

		if (!r->all && f->have_state && m->uidl != NULL && state_has(&f->state, m->uidl)) {
			/* stored durably by an earlier run (only then does an id enter
			 * the state): with --delete it can go now */
			m->seen = 1;
			f->seen++;
			if (a->del)
				q.ready[q.nready++] = i;
		} else if (a->max_size > 0 && m->size > a->max_size) {
			m->big = 1;
			f->big++;
			if (!r->quiet)
				fprintf(stderr, "kpop: message %lu (%llu octets) is over the size limit "
					"of %llu: left on the server\n", m->num, m->size, a->max_size);
		} else {
			q.todo[q.ntodo++] = i;
		}
	}
	for (;;) {
		/* fill the window: DELEs first, then RETRs */
		while (q.qn < window) {
			size_t slot = (q.qh + q.qn) % KP_PIPELINE_WINDOW;

			if (q.rready < q.nready) {
				unsigned long k = q.ready[q.rready++];

				pop3c_send(f->c, "DELE %lu", f->msgs[k].num);
				q.q[slot].cmd = 'D';
				q.q[slot].idx = k;
			} else if (q.rtodo < q.ntodo && ex == 0 && !stop_requested) {
				unsigned long k = q.todo[q.rtodo++];

				pop3c_send(f->c, "RETR %lu", f->msgs[k].num);
				q.q[slot].cmd = 'R';
				q.q[slot].idx = k;
				q.nretr++;
			} else {
				break;
			}
			q.qn++;
		}
		if (q.qn == 0)
			break;
		/* one reply */
		{
			char cmd = q.q[q.qh].cmd;
			unsigned long k = q.q[q.qh].idx;
			struct msg *m = &f->msgs[k];
			char safe[EXPLAIN_SAFE_MAX];

			q.qh = (q.qh + 1) % KP_PIPELINE_WINDOW;
			q.qn--;
			rc = pop3c_reply(f->c);
			if (rc < 0) {
				fprintf(stderr, "%skpop: connection lost: %s\n", f->progress ? "\n" : "",
					kp_strerror(rc));
				ex = EXIT_NET;
				goto out;
			}
			if (cmd == 'D') {
				if (rc == KP_POP3_OK) {
					m->deleted = 1;
					f->deleted++;
				} else {
					fprintf(stderr, "kpop: DELE %lu refused: %s (the message "
						"stays on the server; it is not fetched again)\n",
						m->num, explain_safe(f->c->reply.text, safe,
								     sizeof(safe)));
					f->refused++;
				}
				continue;
			}
			q.nretr--;
			if (rc != KP_POP3_OK) {
				fprintf(stderr, "kpop: RETR %lu refused: %s\n", m->num,
					explain_safe(f->c->reply.text, safe, sizeof(safe)));
				if (ex == 0)
					ex = EXIT_PROTO;
				continue;
			}
			if (sink_begin(&f->sink) != 0) {
				ex = EXIT_DELIVERY;
				goto out;
			}
			rc = pop3c_body(f->c, retr_limit(m->size), body_chunk, f);
			if (rc == KP_E_TOOBIG) {
				/* the connection is out of step: no DELE, no QUIT, nothing removed */
				sink_abort(&f->sink);
				fprintf(stderr, "%skpop: RETR %lu: the server sent more than %llu "
					"octets for a message LIST announced as %llu octets: giving up "
					"(the partial message is not stored, nothing is deleted)\n",
					f->progress ? "\n" : "", m->num, retr_limit(m->size), m->size);
				ex = EXIT_PROTO;
				goto out;
			}
			if (rc != 0 && f->c->state == PC_FAILED) {
				sink_abort(&f->sink);
				fprintf(stderr, "%skpop: connection lost during RETR %lu: %s\n",
					f->progress ? "\n" : "", m->num, kp_strerror(rc));
				ex = EXIT_NET;
				goto out;
			}
			/* a sink error (rc != 0) makes commit fail too: it says why, rolls back */
			rc = sink_commit(&f->sink);
			if (rc == SINK_DEFERRED) {
				f->deferred++;
				continue;
			}
			if (rc != 0) {
				ex = EXIT_DELIVERY;
				/* stop fetching, but answers already requested are read */
				continue;
			}
			f->fetched++;
			q.unsynced[q.nunsynced++] = k;
			progress(f, 0);
		}
		if (q.nunsynced > 0 && (f->sink.kind != SINK_MAILDIR || q.nretr == 0 ||
					q.nunsynced >= KP_PIPELINE_WINDOW) &&
		    flush_stored(f, &q, a->del, 1) != 0)
			ex = EXIT_DELIVERY;
	}
out:
	/* stored before the connection went: still recorded, not deleted */
	if (flush_stored(f, &q, a->del, 0) != 0 && ex == 0)
		ex = EXIT_DELIVERY;
	free(q.todo);
	free(q.ready);
	free(q.unsynced);
	progress(f, 1);
	/* a refused DELE stops nothing (the message is safe and recorded), but the
	 * run did not do what was asked */
	return ex == 0 && f->refused > 0 ? EXIT_PROTO : ex;
}

/* The local user, for an MDA's %u. */
static void
local_user(char *out, size_t cap)
{
	struct passwd *pw = getpwuid(getuid());
	const char *u = pw != NULL ? pw->pw_name : getenv("USER");

	snprintf(out, cap, "%s", u != NULL ? u : "");
}

static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The state file's name: the account's, or for -H alone one per server, mailbox and
 * destination (fetching the same mailbox into another Maildir starts afresh). */
static int
state_path(const struct account *a, char *out, size_t cap)
{
	static const char *kinds[] = { "maildir", "mbox", "mda", "stdout" };
	char key[400], *real;

	if (a->state != NULL) {
		snprintf(out, cap, "%s", a->state);
		return 0;
	}
	if (a->name[0] != '\0') {
		snprintf(key, sizeof(key), "account-%s", a->name);
	} else {
		real = a->dest != NULL && a->deliver != SINK_MDA ? realpath(a->dest, NULL) : NULL;
		snprintf(key, sizeof(key), "%s@%.200s_%s-%s-%016llx", a->user ? a->user : "",
			 a->host, a->port, kinds[a->deliver],
			 (unsigned long long)fnv(real != NULL ? real : a->dest ? a->dest : ""));
		free(real);
	}
	return state_default_path(key, out, cap);
}

/* Connect, protect, authenticate: 0 in TRANSACTION, or the exit status. */
static int
open_session(struct pop3c *c, const struct account *a, SSL_CTX **tls_ctx)
{
	int kpop = strcmp(a->auth, "kpop") == 0, ex;
	unsigned min_ssf = 0, max_ssf = 0;

	if (strcmp(a->layer, "integrity") == 0) {
		min_ssf = max_ssf = 1;
	} else if (strcmp(a->layer, "privacy") == 0) {
		min_ssf = 2;
		max_ssf = 256;
	}
	/* The TLS context (the CA bundle: tens of ms, far more on a loaded host)
	 * before the connection: on an auto listener a KPOP client must speak within
	 * the server's sniff_ms of connecting, or it is greeted as a POP3 client. */
	if (*tls_ctx == NULL && (a->tls || strcmp(a->starttls, "off") != 0)) {
		char err[512];

		*tls_ctx = kp_tls_client_ctx(a->cafile, err, sizeof(err));
		if (*tls_ctx == NULL) {
			fprintf(stderr, "kpop: TLS: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (pop3c_connect(c, a->host, a->port, (int)a->timeout) != 0)
		return EXIT_NET;
	if (a->tls && pop3c_tls(c, *tls_ctx, a->host) != 0)
		return EXIT_NET;
	if (kpop && (ex = cauth_kpop_handshake(c, a->service, a->host)) != 0)
		return ex;
	if (pop3c_greeting(c) != 0)
		return c->state == PC_FAILED && !c->not_pop3 ? EXIT_NET : EXIT_PROTO;
	if (pop3c_capa(c) < 0)
		return EXIT_NET;
	if (!a->tls && strcmp(a->starttls, "off") != 0) {
		if (c->capa_stls) {
			/* never fall back to plaintext once TLS was tried */
			if (pop3c_stls(c, *tls_ctx, a->host) != 0)
				return EXIT_NET;
		} else if (strcmp(a->starttls, "required") == 0) {
			fprintf(stderr, "kpop: %s does not offer STLS and --starttls=required: "
				"not continuing without TLS\n", a->host);
			return EXIT_NET;
		}
	}
	if (kpop)
		return cauth_kpop_login(c, a->user);
	if (c->have_capa && !c->capa_sasl_gssapi) {
		fprintf(stderr, "kpop: %s does not offer AUTH GSSAPI (try --auth kpop)\n", a->host);
		return EXIT_PROTO;
	}
	return cauth_gssapi(c, a->service, a->host, a->user, min_ssf, max_ssf);
}

/* Defaults that depend on other settings, then the checks.  0 or EXIT_USAGE. */
static int
account_finish(struct account *a, const struct run *r)
{
	const char *who = a->name[0] ? a->name : NULL;
	char pre[ACCOUNT_NAME_MAX + 16];

	snprintf(pre, sizeof(pre), "%s%s", who ? "account " : "", who ? who : "");
	if (who)
		snprintf(pre + strlen(pre), sizeof(pre) - strlen(pre), ": ");
	if (a->host == NULL) {
		fprintf(stderr, "kpop: %sno host (-H or \"host\" in the account)\n", pre);
		return EXIT_USAGE;
	}
	if ((a->port == NULL && (a->port = strdup(a->tls ? "995" : "1109")) == NULL) ||
	    (a->service == NULL && (a->service = strdup("pop")) == NULL) ||
	    (a->auth == NULL && (a->auth = strdup("gssapi")) == NULL) ||
	    (a->starttls == NULL && (a->starttls = strdup("opportunistic")) == NULL) ||
	    (a->layer == NULL && (a->layer = strdup("none")) == NULL))
		return EXIT_USAGE;
	if (strcmp(a->auth, "kpop") == 0 && a->tls) {
		fprintf(stderr, "kpop: %sKPOP starts with a Kerberos handshake: it cannot run "
			"inside implicit TLS (use --starttls)\n", pre);
		return EXIT_USAGE;
	}
	if (strcmp(a->auth, "kpop") == 0 && a->user == NULL) {
		fprintf(stderr, "kpop: %s--auth kpop needs --user (the mailbox to open)\n", pre);
		return EXIT_USAGE;
	}
	if (strcmp(r->action, "fetch") == 0 && a->deliver < 0) {
		fprintf(stderr, "kpop: %sfetch needs one of --maildir, --mbox, --mda, --stdout\n",
			pre);
		return EXIT_USAGE;
	}
	return 0;
}

static int
run_account(const struct account *a, const struct run *r)
{
	struct pop3c *c = NULL;
	struct fetch f;
	SSL_CTX *tls_ctx = NULL;
	int ex, fetch = strcmp(r->action, "fetch") == 0, sink_ok = 0;
	char user[256], ident[600], spath[4200];
	unsigned long i;

	memset(&f, 0, sizeof(f));
	if (fetch) {
		struct sink_conf sc;

		local_user(user, sizeof(user));
		memset(&sc, 0, sizeof(sc));
		sc.kind = (enum sink_kind)a->deliver;
		sc.path = a->dest;
		sc.user = user;
		sc.from_line = a->from_line;
		if (sink_open(&f.sink, &sc) != 0)
			return EXIT_DELIVERY;
		sink_ok = 1;
		snprintf(ident, sizeof(ident), "%s@%s:%s", a->user ? a->user : "", a->host, a->port);
		if (state_path(a, spath, sizeof(spath)) != 0) {
			ex = EXIT_USAGE;
			goto done;
		}
		ex = state_open(&f.state, spath, ident);
		if (ex != 0) {
			ex = ex == KP_E_INUSE ? EXIT_INUSE : EXIT_DELIVERY;
			goto done;
		}
		f.have_state = 1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ex = EXIT_USAGE;
		goto done;
	}
	c->fd = -1;
	f.c = c;
	f.progress = !r->quiet && isatty(2) && fetch;
	gettimeofday(&f.last, NULL);
	if ((ex = open_session(c, a, &tls_ctx)) != 0)
		goto done;
	ex = fetch ? do_fetch(&f, a, r) : do_list(&f);
	if (c->state == PC_FAILED)
		goto done;
	if (ex != 0 && f.deleted > 0) {
		/* Without QUIT the server removes nothing: the messages stay, but so do
		 * the ones already stored (the state knows them).  Better a duplicate
		 * than a loss. */
		fprintf(stderr, "kpop: closing without QUIT after an error: the server deletes "
			"nothing this time\n");
		goto done;
	}
	if (pop3c_quit(c) != 0) {
		if (f.deleted > 0)
			fprintf(stderr, "kpop: QUIT failed: the server may not have removed the "
				"deleted messages\n");
		if (ex == 0)
			ex = EXIT_PROTO;
	} else if (fetch && f.have_uidl) {
		/* the session is complete: forget ids the server no longer has */
		(void)state_save(&f.state, keep_uidl, &f);
	}
	if (fetch && ex == 0 && f.deferred > 0)
		ex = EXIT_DELIVERY;
	if (!r->quiet && fetch) {
		fprintf(stderr, "kpop: %s%s%sfetched %lu messages (%llu octets as stored, LF line "
			"ends) from %s, deleted %lu", a->name[0] ? "account " : "", a->name,
			a->name[0] ? ": " : "", f.fetched, f.octets, a->host, f.deleted);
		if (f.seen > 0)
			fprintf(stderr, ", %lu fetched before", f.seen);
		if (f.big > 0)
			fprintf(stderr, ", %lu over the size limit left on the server", f.big);
		if (f.deferred > 0)
			fprintf(stderr, ", %lu deferred by the MDA (kept for next time)", f.deferred);
		fputc('\n', stderr);
	}
done:
	if (c != NULL) {
		pop3c_close(c);
		free(c);
	}
	if (tls_ctx != NULL)
		SSL_CTX_free(tls_ctx);
	if (f.have_state)
		state_close(&f.state);
	if (sink_ok)
		sink_close(&f.sink);
	for (i = 0; i < f.n; i++)
		free(f.msgs[i].uidl);
	free(f.msgs);
	free(f.by_uidl);
	return ex;
}

static void
on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Run every account once; the first failure's status (the others still run). */
static int
run_all(struct account *accts, size_t n, const struct run *r)
{
	int ex = 0;
	size_t i;

	for (i = 0; i < n && !stop_requested; i++) {
		int rc = run_account(&accts[i], r);

		if (rc != 0 && ex == 0)
			ex = rc;
	}
	return ex;
}

/* --daemon: every interval seconds, doubled after a failed round (up to 16 times
 * the interval, at most an hour more), until SIGTERM or SIGINT. */
static int
daemon_loop(struct account *accts, size_t n, const struct run *r)
{
	unsigned long wait = r->daemon;

	while (!stop_requested) {
		time_t until;
		int ex = run_all(accts, n, r);

		if (ex == 0 || ex == EXIT_DELIVERY)
			wait = r->daemon;
		else if (wait < r->daemon * 16 && wait < r->daemon + 3600)
			wait *= 2;
		if (ex != 0 && !r->quiet)
			fprintf(stderr, "kpop: next try in %lu seconds\n", wait);
		until = time(NULL) + (time_t)wait;
		while (!stop_requested && time(NULL) < until)
			sleep(1);
	}
	if (!r->quiet)
		fprintf(stderr, "kpop: stopping\n");
	return 0;
}

int
main(int argc, char **argv)
{
	/* every long option with val >= 1000 is the setting of the same name */
	static const char *const settings[] = {
		"host", "port", "auth", "user", "service", "maildir", "mbox", "mda",
		"mda-from-line", "stdout", "starttls", "tls", "cafile", "sasl-layer",
		"delete", "keep", "max-size", "timeout", "state",
	};
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 1000 },
		{ "port", required_argument, NULL, 1001 },
		{ "auth", required_argument, NULL, 1002 },
		{ "user", required_argument, NULL, 1003 },
		{ "service", required_argument, NULL, 1004 },
		{ "maildir", required_argument, NULL, 1005 },
		{ "mbox", required_argument, NULL, 1006 },
		{ "mda", required_argument, NULL, 1007 },
		{ "mda-from-line", no_argument, NULL, 1008 },
		{ "stdout", no_argument, NULL, 1009 },
		{ "starttls", required_argument, NULL, 1010 },
		{ "tls", no_argument, NULL, 1011 },
		{ "cafile", required_argument, NULL, 1012 },
		{ "sasl-layer", required_argument, NULL, 1013 },
		{ "delete", no_argument, NULL, 1014 },
		{ "keep", no_argument, NULL, 1015 },
		{ "max-size", required_argument, NULL, 1016 },
		{ "timeout", required_argument, NULL, 1017 },
		{ "state", required_argument, NULL, 1018 },
		{ "config", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'A' },
		{ "daemon", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct { const char *kw, *val; } *ov;
	size_t nov = 0, nacct = 0, i, k;
	struct run r;
	struct account defs, *accts = NULL, *cfg = NULL, cli_probe;
	size_t ncfg = 0;
	const char *cfgpath = NULL;
	char defpath[4200], err[512];
	int opt, ex = 0, sinks = 0, have_host = 0, first_acct;
	unsigned long n;

	memset(&r, 0, sizeof(r));
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "probe") == 0)
		return probe_main(argc - 1, argv + 1);
	ov = calloc((size_t)argc + 1, sizeof(*ov));
	if (ov == NULL)
		return EXIT_USAGE;
	account_init(&defs); /* (freed at out: whatever path leads there) */
	while ((opt = getopt_long(argc, argv, "H:p:a:u:dkt:f:vqVh", longopts, NULL)) != -1) {
		const char *kw = NULL;

		switch (opt) {
		case 'H': kw = "host"; break;
		case 'p': kw = "port"; break;
		case 'a': kw = "auth"; break;
		case 'u': kw = "user"; break;
		case 'd': kw = "delete"; break;
		case 'k': kw = "keep"; break;
		case 't': kw = "timeout"; break;
		case 'f': cfgpath = optarg; break;
		case 'A': r.all = 1; break;
		case 'D':
			if (kp_parse_ulong(optarg, 1, 86400, &n) != 0) {
				fprintf(stderr, "kpop: --daemon: expected 1-86400 seconds\n");
				ex = EXIT_USAGE;
				goto out;
			}
			r.daemon = n;
			break;
		case 'v': r.verbose = 1; break;
		case 'q': r.quiet = 1; break;
		case 'V': printf("kpop %s\n", PACKAGE_VERSION); ex = 0; goto out;
		case 'h': usage(stdout); ex = 0; goto out;
		default:
			if (opt >= 1000 && opt < 1000 + (int)(sizeof(settings) / sizeof(settings[0]))) {
				kw = settings[opt - 1000];
				break;
			}
			usage(stderr);
			ex = EXIT_USAGE;
			goto out;
		}
		if (kw == NULL)
			continue;
		ov[nov].kw = kw;
		ov[nov].val = config_keyword_takes_value(kw) ? optarg : NULL;
		if (strcmp(kw, "maildir") == 0 || strcmp(kw, "mbox") == 0 ||
		    strcmp(kw, "mda") == 0 || strcmp(kw, "stdout") == 0)
			sinks++;
		have_host |= strcmp(kw, "host") == 0;
		/* check the value now, for an error that names the option */
		account_init(&cli_probe);
		if (account_set(&cli_probe, kw, ov[nov].val, 0, err, sizeof(err)) != 0) {
			fprintf(stderr, "kpop: --%s\n", err[0] ? err : "out of memory");
			account_free(&cli_probe);
			ex = EXIT_USAGE;
			goto out;
		}
		account_free(&cli_probe);
		nov++;
	}
	r.action = "fetch";
	first_acct = optind;
	if (optind < argc && (strcmp(argv[optind], "list") == 0 ||
			      strcmp(argv[optind], "fetch") == 0))
		r.action = argv[first_acct++];
	if (sinks > 1) {
		fprintf(stderr, "kpop: give only one of --maildir, --mbox, --mda, --stdout\n");
		ex = EXIT_USAGE;
		goto out;
	}
	if (r.daemon > 0 && strcmp(r.action, "fetch") != 0) {
		fprintf(stderr, "kpop: --daemon is for fetch\n");
		ex = EXIT_USAGE;
		goto out;
	}
	kp_log_open("kpop", 0, r.verbose ? KP_LOG_DEBUG : KP_LOG_WARN);

	/* the config file: named with -f it must exist; the default one may not */
	account_init(&defs);
	if (cfgpath == NULL && config_default_path(defpath, sizeof(defpath)) == 0)
		cfgpath = defpath;
	if (cfgpath != NULL) {
		int rc = config_read(cfgpath, &cfg, &ncfg, &defs);

		if (rc == KP_E_NOTFOUND && cfgpath != defpath) {
			fprintf(stderr, "kpop: %s: no such file\n", cfgpath);
			ex = EXIT_USAGE;
			goto out;
		}
		if (rc != 0 && rc != KP_E_NOTFOUND) {
			ex = EXIT_USAGE;
			goto out;
		}
		if (rc == KP_E_NOTFOUND)
			account_init(&defs);
	}
	accts = calloc(ncfg + 1, sizeof(*accts));
	if (accts == NULL) {
		ex = EXIT_USAGE;
		goto out;
	}
	if (first_acct < argc) {
		for (int a = first_acct; a < argc; a++) {
			for (k = 0; k < ncfg && strcmp(cfg[k].name, argv[a]) != 0; k++)
				;
			if (k == ncfg) {
				fprintf(stderr, "kpop: no account %s in %s\n", argv[a],
					cfgpath != NULL ? cfgpath : "the config file");
				ex = EXIT_USAGE;
				goto out;
			}
			for (i = 0; i < nacct && strcmp(accts[i].name, argv[a]) != 0; i++)
				;
			if (i < nacct) {
				fprintf(stderr, "kpop: account %s named twice\n", argv[a]);
				ex = EXIT_USAGE;
				goto out;
			}
			account_copy(&accts[nacct++], &cfg[k]);
		}
	} else if (have_host || ncfg == 0) {
		account_copy(&accts[nacct++], &defs);
	} else {
		for (k = 0; k < ncfg; k++)
			account_copy(&accts[nacct++], &cfg[k]);
	}
	/* the command line wins over the file */
	for (i = 0; i < nacct; i++) {
		for (k = 0; k < nov; k++)
			if (account_set(&accts[i], ov[k].kw, ov[k].val, -1, err, sizeof(err)) != 0) {
				fprintf(stderr, "kpop: --%s\n", err);
				ex = EXIT_USAGE;
				goto out;
			}
		if (accts[i].host == NULL && accts[i].name[0] == '\0' && nov == 0 && ncfg == 0) {
			usage(stderr);
			ex = EXIT_USAGE;
			goto out;
		}
		if ((ex = account_finish(&accts[i], &r)) != 0)
			goto out;
	}
	if (r.daemon > 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_term;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		ex = daemon_loop(accts, nacct, &r);
	} else {
		ex = run_all(accts, nacct, &r);
	}
out:
	for (i = 0; i < nacct; i++)
		account_free(&accts[i]);
	free(accts);
	for (i = 0; i < ncfg; i++)
		account_free(&cfg[i]);
	free(cfg);
	account_free(&defs);
	free(ov);
	return ex;
}
