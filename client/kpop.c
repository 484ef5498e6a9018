/* kpop.c - the client: options, the list and fetch actions, progress, exit codes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_pop3.h"
#include "client/cauth.h"
#include "client/deliver.h"
#include "client/explain.h"
#include "client/pop3c.h"

struct opts {
	const char *host, *port, *user, *service, *auth, *maildir, *mbox;
	const char *starttls, *cafile, *layer;
	int implicit_tls;
	int to_stdout, del, timeout, verbose, quiet;
	const char *action;
};

struct msg {
	unsigned long num;
	unsigned long long size;
	int stored, deleted;
};

struct fetch {
	struct pop3c *c;
	struct sink sink;
	struct msg *msgs;
	unsigned long n;
	unsigned long fetched, deleted;
	unsigned long long octets;
	int progress;
	struct timeval last;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: kpop -H HOST [options] [list|fetch]\n"
		"  -H, --host HOST      server (required)\n"
		"  -p, --port PORT      port (default 1109)\n"
		"  -a, --auth MECH      gssapi (AUTH GSSAPI, default) or kpop (legacy KPOP)\n"
		"  -u, --user NAME      mailbox to use: authzid for GSSAPI, USER for KPOP\n"
		"      --service NAME   Kerberos service (default pop)\n"
		"      --maildir DIR    fetch into a Maildir\n"
		"      --mbox FILE      fetch into an mbox file\n"
		"      --stdout         fetch to standard output\n"
		"      --starttls WHEN  required, opportunistic (default) or off\n"
		"      --tls            implicit TLS (POP3S, port 995) from the first byte\n"
		"      --cafile FILE    trust this CA for the server's certificate\n"
		"      --sasl-layer L   none (default), integrity or privacy (GSSAPI)\n"
		"  -d, --delete         delete each message on the server once stored durably\n"
		"  -k, --keep           keep messages on the server (default)\n"
		"  -t, --timeout SEC    network timeout (default 60)\n"
		"  -v, --verbose        protocol trace on stderr (secrets redacted)\n"
		"  -q, --quiet          no progress or summary\n"
		"  -V, --version\n"
		"exit status: 0 ok, 1 usage, 2 network, 3 protocol, 4 no/expired ticket,\n"
		"  5 Kerberos realm/service problem, 6 clock skew, 7 server refused,\n"
		"  8 local delivery failed, 9 mailbox in use\n");
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

static int
list_line(void *arg, const char *line)
{
	struct fetch *f = arg;
	char *sp;
	unsigned long num;
	unsigned long long size;
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", line);
	sp = strchr(buf, ' ');
	if (sp == NULL)
		return KP_E_PROTO;
	*sp = '\0';
	{
		unsigned long v;
		char *end = sp + 1 + strcspn(sp + 1, " ");

		*end = '\0';
		if (kp_parse_ulong(buf, 1, KP_MAILDROP_MSGS_MAX, &num) != 0 ||
		    kp_parse_ulong(sp + 1, 0, ~0UL, &v) != 0)
			return KP_E_PROTO;
		size = v;
	}
	if (f->n % 256 == 0) {
		struct msg *m = realloc(f->msgs, (f->n + 256) * sizeof(*m));

		if (m == NULL)
			return KP_E_NOMEM;
		f->msgs = m;
	}
	f->msgs[f->n].num = num;
	f->msgs[f->n].size = size;
	f->msgs[f->n].stored = f->msgs[f->n].deleted = 0;
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

/* Pipelined fetch: up to KP_PIPELINE_WINDOW commands in flight (one without
 * PIPELINING).  A DELE is queued only after its message was durably stored. */
static int
do_fetch(struct fetch *f, int del)
{
	struct pending { char cmd; unsigned long idx; } q[KP_PIPELINE_WINDOW];
	unsigned long next = 0, *ready = NULL, nready = 0, rready = 0;
	size_t qh = 0, qn = 0;
	size_t window = f->c->capa_pipelining ? KP_PIPELINE_WINDOW : 1;
	int rc, ex = 0;

	if ((rc = get_list(f)) != 0)
		return rc;
	ready = calloc(f->n + 1, sizeof(*ready));
	if (ready == NULL)
		return EXIT_USAGE;
	for (;;) {
		/* fill the window */
		while (qn < window) {
			size_t slot = (qh + qn) % KP_PIPELINE_WINDOW;

			if (rready < nready) {
				unsigned long i = ready[rready++];

				pop3c_send(f->c, "DELE %lu", f->msgs[i].num);
				q[slot].cmd = 'D';
				q[slot].idx = i;
			} else if (next < f->n && ex == 0) {
				pop3c_send(f->c, "RETR %lu", f->msgs[next].num);
				q[slot].cmd = 'R';
				q[slot].idx = next++;
			} else {
				break;
			}
			qn++;
		}
		if (qn == 0)
			break;
		/* one reply */
		{
			struct pending p = q[qh];
			char safe[EXPLAIN_SAFE_MAX];

			qh = (qh + 1) % KP_PIPELINE_WINDOW;
			qn--;
			rc = pop3c_reply(f->c);
			if (rc < 0) {
				fprintf(stderr, "\nkpop: connection lost: %s\n", kp_strerror(rc));
				ex = EXIT_NET;
				goto out;
			}
			if (p.cmd == 'D') {
				if (rc == KP_POP3_OK) {
					f->msgs[p.idx].deleted = 1;
					f->deleted++;
				} else {
					fprintf(stderr, "kpop: DELE %lu refused: %s\n",
						f->msgs[p.idx].num,
						explain_safe(f->c->reply.text, safe, sizeof(safe)));
				}
				continue;
			}
			if (rc != KP_POP3_OK) {
				fprintf(stderr, "kpop: RETR %lu refused: %s\n", f->msgs[p.idx].num,
					explain_safe(f->c->reply.text, safe, sizeof(safe)));
				if (ex == 0)
					ex = EXIT_PROTO;
				continue;
			}
			if (sink_begin(&f->sink) != 0) {
				ex = EXIT_DELIVERY;
				goto out;
			}
			rc = pop3c_body(f->c, retr_limit(f->msgs[p.idx].size), body_chunk, f);
			if (rc == KP_E_TOOBIG) {
				/* the connection is out of step: no DELE, no QUIT, nothing removed */
				sink_abort(&f->sink);
				fprintf(stderr, "%skpop: RETR %lu: the server sent more than %llu "
					"octets for a message LIST announced as %llu octets: giving up "
					"(the partial message is not stored, nothing is deleted)\n",
					f->progress ? "\n" : "", f->msgs[p.idx].num,
					retr_limit(f->msgs[p.idx].size),
					f->msgs[p.idx].size);
				ex = EXIT_PROTO;
				goto out;
			}
			if (rc != 0 && f->c->state == PC_FAILED) {
				sink_abort(&f->sink);
				fprintf(stderr, "\nkpop: connection lost during RETR %lu: %s\n",
					f->msgs[p.idx].num, kp_strerror(rc));
				ex = EXIT_NET;
				goto out;
			}
			/* a sink error (rc != 0) makes commit fail too: it says why, rolls back */
			if (sink_commit(&f->sink) != 0) {
				ex = EXIT_DELIVERY;
				/* stop fetching, but answers already requested are read */
				continue;
			}
			f->msgs[p.idx].stored = 1;
			f->fetched++;
			progress(f, 0);
			if (del)
				ready[nready++] = p.idx;
		}
	}
out:
	free(ready);
	progress(f, 1);
	return ex;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "auth", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "service", required_argument, NULL, 'S' },
		{ "maildir", required_argument, NULL, 'M' },
		{ "mbox", required_argument, NULL, 'B' },
		{ "stdout", no_argument, NULL, 'O' },
		{ "starttls", required_argument, NULL, 'T' },
		{ "tls", no_argument, NULL, 'L' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "sasl-layer", required_argument, NULL, 'Y' },
		{ "delete", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct pop3c *c;
	struct fetch f;
	unsigned long n;
	int opt, ex, sinks = 0, kpop;
	unsigned min_ssf = 0, max_ssf = 0;
	SSL_CTX *tls_ctx = NULL;

	memset(&o, 0, sizeof(o));
	o.port = "1109";
	o.service = "pop";
	o.auth = "gssapi";
	o.timeout = 60;
	o.starttls = "opportunistic";
	o.layer = "none";
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt_long(argc, argv, "H:p:a:u:dkt:vqVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = optarg; break;
		case 'a': o.auth = optarg; break;
		case 'u': o.user = optarg; break;
		case 'S': o.service = optarg; break;
		case 'M': o.maildir = optarg; sinks++; break;
		case 'B': o.mbox = optarg; sinks++; break;
		case 'O': o.to_stdout = 1; sinks++; break;
		case 'T': o.starttls = optarg; break;
		case 'L': o.implicit_tls = 1; break;
		case 'C': o.cafile = optarg; break;
		case 'Y': o.layer = optarg; break;
		case 'd': o.del = 1; break;
		case 'k': o.del = 0; break;
		case 't':
			if (kp_parse_ulong(optarg, 1, 3600, &n) != 0) {
				fprintf(stderr, "kpop: --timeout: expected 1-3600 seconds\n");
				return EXIT_USAGE;
			}
			o.timeout = (int)n;
			break;
		case 'v': o.verbose = 1; break;
		case 'q': o.quiet = 1; break;
		case 'V': printf("kpop %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	o.action = optind < argc ? argv[optind++] : "fetch";
	if (optind != argc || o.host == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o.action, "list") != 0 && strcmp(o.action, "fetch") != 0) {
		fprintf(stderr, "kpop: unknown action %s (list or fetch)\n", o.action);
		return EXIT_USAGE;
	}
	if (strcmp(o.auth, "gssapi") != 0 && strcmp(o.auth, "kpop") != 0) {
		fprintf(stderr, "kpop: --auth: gssapi or kpop\n");
		return EXIT_USAGE;
	}
	kpop = strcmp(o.auth, "kpop") == 0;
	if (strcmp(o.starttls, "required") != 0 && strcmp(o.starttls, "opportunistic") != 0 &&
	    strcmp(o.starttls, "off") != 0) {
		fprintf(stderr, "kpop: --starttls: required, opportunistic or off\n");
		return EXIT_USAGE;
	}
	if (strcmp(o.layer, "none") == 0) {
		min_ssf = max_ssf = 0;
	} else if (strcmp(o.layer, "integrity") == 0) {
		min_ssf = max_ssf = 1;
	} else if (strcmp(o.layer, "privacy") == 0) {
		min_ssf = 2;
		max_ssf = 256;
	} else {
		fprintf(stderr, "kpop: --sasl-layer: none, integrity or privacy\n");
		return EXIT_USAGE;
	}
	if (kpop && o.implicit_tls) {
		fprintf(stderr, "kpop: KPOP starts with a Kerberos handshake: it cannot run "
			"inside implicit TLS (use --starttls)\n");
		return EXIT_USAGE;
	}
	if (strcmp(o.action, "fetch") == 0 && sinks != 1) {
		fprintf(stderr, "kpop: fetch needs exactly one of --maildir, --mbox, --stdout\n");
		return EXIT_USAGE;
	}
	if (kpop && o.user == NULL) {
		fprintf(stderr, "kpop: --auth kpop needs --user (the mailbox to open)\n");
		return EXIT_USAGE;
	}
	kp_log_open("kpop", 0, o.verbose ? KP_LOG_DEBUG : KP_LOG_WARN);

	memset(&f, 0, sizeof(f));
	if (strcmp(o.action, "fetch") == 0 &&
	    sink_open(&f.sink, o.maildir ? SINK_MAILDIR : o.mbox ? SINK_MBOX : SINK_STDOUT,
		      o.maildir ? o.maildir : o.mbox) != 0)
		return EXIT_DELIVERY;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return EXIT_USAGE;
	f.c = c;
	f.progress = !o.quiet && isatty(2) && strcmp(o.action, "fetch") == 0;
	gettimeofday(&f.last, NULL);

	if (pop3c_connect(c, o.host, o.port, o.timeout) != 0) {
		ex = EXIT_NET;
		goto done;
	}
	if (o.implicit_tls || strcmp(o.starttls, "off") != 0) {
		char err[512];

		tls_ctx = kp_tls_client_ctx(o.cafile, err, sizeof(err));
		if (tls_ctx == NULL) {
			fprintf(stderr, "kpop: TLS: %s\n", err);
			ex = EXIT_USAGE;
			goto done;
		}
	}
	if (o.implicit_tls && pop3c_tls(c, tls_ctx, o.host) != 0) {
		ex = EXIT_NET;
		goto done;
	}
	if (kpop && (ex = cauth_kpop_handshake(c, o.service, o.host)) != 0)
		goto done;
	if (pop3c_greeting(c) != 0) {
		ex = c->state == PC_FAILED ? EXIT_NET : EXIT_PROTO;
		goto done;
	}
	if (pop3c_capa(c) < 0) {
		ex = EXIT_NET;
		goto done;
	}
	if (!o.implicit_tls && strcmp(o.starttls, "off") != 0) {
		if (c->capa_stls) {
			if (pop3c_stls(c, tls_ctx, o.host) != 0) {
				/* never fall back to plaintext once TLS was tried */
				ex = EXIT_NET;
				goto done;
			}
		} else if (strcmp(o.starttls, "required") == 0) {
			fprintf(stderr, "kpop: %s does not offer STLS and --starttls=required: "
				"not continuing without TLS\n", o.host);
			ex = EXIT_NET;
			goto done;
		}
	}
	if (kpop)
		ex = cauth_kpop_login(c, o.user);
	else if (c->have_capa && !c->capa_sasl_gssapi) {
		fprintf(stderr, "kpop: %s does not offer AUTH GSSAPI (try --auth kpop)\n", o.host);
		ex = EXIT_PROTO;
	} else
		ex = cauth_gssapi(c, o.service, o.host, o.user, min_ssf, max_ssf);
	if (ex != 0)
		goto done;

	ex = strcmp(o.action, "list") == 0 ? do_list(&f) : do_fetch(&f, o.del);
	if (c->state == PC_FAILED)
		goto done;
	if (ex != 0 && f.deleted > 0) {
		/* Without QUIT the server removes nothing: the messages stay, but so do
		 * the ones already stored.  Better a duplicate than a loss. */
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
	}
	if (!o.quiet && strcmp(o.action, "fetch") == 0)
		fprintf(stderr, "kpop: fetched %lu messages (%llu octets) from %s, deleted %lu\n",
			f.fetched, f.octets, o.host, f.deleted);
done:
	pop3c_close(c);
	if (tls_ctx != NULL)
		SSL_CTX_free(tls_ctx);
	if (strcmp(o.action, "fetch") == 0)
		sink_close(&f.sink);
	free(f.msgs);
	free(c);
	return ex;
}
