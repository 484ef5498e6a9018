/* kpbench.c - load generator for make bench: K forked clients run POP3 sessions of
 * one kind against a server for S seconds or N sessions and print one line of
 * figures; also an idle-session holder and a sampler of a server's processes, and
 * the soak's mix (make soak, tests/soak.sh): every mechanism in turn, fetching and
 * deleting. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bsess.h"
#include "kp_err.h"
#include "kp_pop3.h"
#include "kp_tls.h"

#define MAX_CLIENTS 1024
/* A client that has not fetched its tickets by then is reported as failed. */
#define READY_TIMEOUT_MS 120000
/* Latencies kept per client: enough for any run bench.sh makes. */
#define MAX_LAT 1000000

static const char usage_text[] =
	"usage: kpbench KIND -p PORT [options]\n"
	"  KIND: capa | gssapi | kpop | userpass | retr   K clients, S seconds or N sessions\n"
	"        soak      K clients, each session the next mechanism of -M in turn:\n"
	"                  log in, STAT, RETR + DELE up to -F messages, QUIT; figures per\n"
	"                  mechanism and the messages fetched (counted after QUIT's +OK)\n"
	"        idle      open K sessions (AUTH GSSAPI + STAT), print 'ready', hold them\n"
	"                  until killed\n"
	"        proc PID  memory, descriptors and CPU of PID and its descendants\n"
	"  -k K        concurrent clients (forked), default 1\n"
	"  -s SEC      run for SEC seconds (default 3), or\n"
	"  -n N        N sessions in all\n"
	"  -u NAME     user / principal; with -U, NAME001, NAME002, ... one per client\n"
	"  -U COUNT    number the users 1..COUNT (client i uses user i %% COUNT + 1)\n"
	"  -w PASS     password: Kerberos initial tickets, and PASS for userpass\n"
	"  -H HOST     host of the service principal and TLS name (default localhost)\n"
	"  -S NAME     Kerberos service (default pop)\n"
	"  -l LAYER    none, integrity or privacy (gssapi, retr)\n"
	"  -T          implicit TLS (pop3s); -C CAFILE trusts that CA\n"
	"  -m MSG      message number for retr (default 1)\n"
	"  -P PID      the server: add its processes' CPU per session to the figures\n"
	"  soak: -p is the POP3 port (STLS offered), -K PORT the KPOP port, -Q PORT the\n"
	"        pop3s port, -F N messages fetched and deleted per session (default 5),\n"
	"        -M LIST mechanisms (default all): gssapi,integrity,privacy,kpop,stls,\n"
	"        pop3s,pop3s-pass (USER/PASS over TLS, -w is the password)\n"
	"output: one line of tab-separated key=value pairs\n";

/* The soak's mechanisms: each a way to reach and log in. */
enum port_sel { PORT_POP3, PORT_KPOP, PORT_POP3S };
static const struct mech {
	const char *name;
	enum bs_auth auth;
	enum port_sel port;
	int tls, stls;
	enum bs_layer layer;
} mechs[] = {
	{ "gssapi", BS_AUTH_GSSAPI, PORT_POP3, 0, 0, BS_LAYER_NONE },
	{ "integrity", BS_AUTH_GSSAPI, PORT_POP3, 0, 0, BS_LAYER_INTEGRITY },
	{ "privacy", BS_AUTH_GSSAPI, PORT_POP3, 0, 0, BS_LAYER_PRIVACY },
	{ "kpop", BS_AUTH_KPOP, PORT_KPOP, 0, 0, BS_LAYER_NONE },
	{ "stls", BS_AUTH_GSSAPI, PORT_POP3, 0, 1, BS_LAYER_NONE },
	{ "pop3s", BS_AUTH_GSSAPI, PORT_POP3S, 1, 0, BS_LAYER_NONE },
	{ "pop3s-pass", BS_AUTH_USERPASS, PORT_POP3S, 1, 0, BS_LAYER_NONE },
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

struct result {
	uint32_t ok, errors, nlat;
	uint32_t mech_ok[NMECHS], mech_err[NMECHS]; /* soak: per mechanism */
	uint64_t msgs;          /* soak: messages fetched and deleted */
	uint64_t cpu_us;        /* this client's own user + system CPU */
	uint64_t octets;        /* RETR body octets */
	uint64_t end_ns;        /* CLOCK_MONOTONIC when its last session ended */
	char err[256];          /* its first error */
};

struct opts {
	enum bs_kind kind;
	int clients;
	double seconds;
	long sessions;
	int users;
	pid_t server_pid;
	struct bs_client proto;
	const char *cafile;
	int ports[3];           /* soak: POP3, KPOP, pop3s */
	int mech_list[NMECHS];  /* soak: indexes into mechs[] */
	int nmech;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
self_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
write_full(int fd, const void *buf, size_t n)
{
	return kp_write_all(fd, buf, n);
}

static int
read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	if (kp_parse_ulong(s, min, max, out) != 0) {
		fprintf(stderr, "kpbench: bad number '%s' (%lu..%lu)\n", s, min, max);
		return -1;
	}
	return 0;
}

/* -M gssapi,kpop,...: the soak's mechanisms, each at most once. */
static int
parse_mechs(const char *list, struct opts *o)
{
	const char *p = list;

	o->nmech = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ","), m;
		int i;

		for (m = 0; m < NMECHS; m++)
			if (strlen(mechs[m].name) == len && strncmp(mechs[m].name, p, len) == 0)
				break;
		if (m == NMECHS) {
			fprintf(stderr, "kpbench: unknown soak mechanism '%.*s'\n", (int)len, p);
			return -1;
		}
		for (i = 0; i < o->nmech; i++)
			if (o->mech_list[i] == (int)m) {
				fprintf(stderr, "kpbench: soak mechanism %s named twice\n",
					mechs[m].name);
				return -1;
			}
		o->mech_list[o->nmech++] = (int)m;
		p += len;
		if (*p == ',')
			p++;
	}
	return o->nmech > 0 ? 0 : -1;
}

/* --- /proc sampling ----------------------------------------------------------- */

struct proc_sum {
	int procs;
	unsigned long long pss_kb, dirty_kb, fds, cpu_ticks;
};

/* Fields of /proc/PID/stat after "(comm)": state is field 3; ppid 4; utime..cstime
 * 14..17. */
static int
read_stat(pid_t pid, pid_t *ppid_out, unsigned long long *ticks_out)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long v, ticks = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field <= 17 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		if (field == 3) {
			while (*p != ' ' && *p != '\0')
				p++;
			continue;
		}
		v = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
		if (field == 4)
			*ppid_out = (pid_t)v;
		else if (field >= 14)
			ticks += v;
	}
	*ticks_out = ticks;
	return field > 17 ? 0 : -1;
}

static unsigned long long
rollup_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p != NULL ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void
add_proc(pid_t pid, unsigned long long ticks, struct proc_sum *s)
{
	char path[64], buf[4096];
	DIR *d;
	ssize_t n;
	int fd;

	s->procs++;
	s->cpu_ticks += ticks;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			s->pss_kb += rollup_kb(buf, "\nPss:");
			s->dirty_kb += rollup_kb(buf, "\nPrivate_Dirty:");
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) != NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				s->fds++;
		closedir(d);
	}
}

/* Sum over root and all its descendants (one pass over /proc builds the tree). */
static int
proc_tree(pid_t root, struct proc_sum *s)
{
	enum { MAXP = 65536 };
	static pid_t pids[MAXP], ppids[MAXP];
	static unsigned long long ticks[MAXP];
	static char in[MAXP];
	DIR *d;
	struct dirent *e;
	int n = 0, i, grew;

	memset(s, 0, sizeof(*s));
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && n < MAXP) {
		unsigned long v;

		if (kp_parse_ulong(e->d_name, 1, INT_MAX, &v) != 0)
			continue;
		pids[n] = (pid_t)v;
		if (read_stat(pids[n], &ppids[n], &ticks[n]) == 0) {
			in[n] = pids[n] == root;
			n++;
		}
	}
	closedir(d);
	do { /* mark descendants until nothing changes */
		grew = 0;
		for (i = 0; i < n; i++) {
			int j;

			if (in[i])
				continue;
			for (j = 0; j < n; j++)
				if (in[j] && pids[j] == ppids[i]) {
					in[i] = 1;
					grew = 1;
					break;
				}
		}
	} while (grew);
	for (i = 0; i < n; i++)
		if (in[i])
			add_proc(pids[i], ticks[i], s);
	return s->procs > 0 ? 0 : -1;
}

static uint64_t
tree_cpu_us(pid_t pid)
{
	struct proc_sum s;

	if (pid <= 0 || proc_tree(pid, &s) != 0)
		return 0;
	return s.cpu_ticks * 1000000u / (uint64_t)sysconf(_SC_CLK_TCK);
}

static int
cmd_proc(pid_t pid)
{
	struct proc_sum s;

	if (proc_tree(pid, &s) != 0) {
		fprintf(stderr, "kpbench: no process %d\n", (int)pid);
		return 1;
	}
	printf("procs=%d\tpss_kb=%llu\tprivate_dirty_kb=%llu\tfds=%llu\tcpu_ms=%llu\n",
	       s.procs, s.pss_kb, s.dirty_kb, s.fds,
	       s.cpu_ticks * 1000u / (unsigned long long)sysconf(_SC_CLK_TCK));
	return 0;
}

/* --- clients ------------------------------------------------------------------ */

static void
user_of(const struct opts *o, int i, char *buf, size_t cap)
{
	if (o->users > 0)
		snprintf(buf, cap, "%s%03d", o->proto.user, i % o->users + 1);
	else
		snprintf(buf, cap, "%s", o->proto.user);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One client process: set up, say ready, wait for go, run, report. */
static void __attribute__((noreturn))
client_main(const struct opts *o, int idx, int ready_fd, int go_fd, int res_fd)
{
	struct bs_client c = o->proto;
	struct result r;
	char user[300], dummy;
	uint32_t *lat = NULL;
	uint64_t deadline = 0, t, cpu0;
	long quota = -1;
	int err_seen = 0;

	memset(&r, 0, sizeof(r));
	user_of(o, idx, user, sizeof(user));
	c.user = user;
	lat = malloc(sizeof(*lat) * MAX_LAT);
	if (lat == NULL || bs_client_init(&c) != 0) {
		snprintf(r.err, sizeof(r.err), "set-up: %s", lat == NULL ? "no memory" : c.err);
		r.errors = 1;
		write_full(ready_fd, "x", 1);
		write_full(res_fd, &r, sizeof(r));
		_exit(1);
	}
	write_full(ready_fd, "r", 1);
	if (read(go_fd, &dummy, 1) < 0) /* EOF when the parent says go */
		_exit(1);
	cpu0 = self_cpu_us();
	if (o->sessions > 0)
		quota = o->sessions / o->clients + (idx < o->sessions % o->clients);
	else
		deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
	while (quota != 0 && (quota > 0 || now_ns() < deadline)) {
		unsigned long long octets;

		unsigned long msgs = 0;
		int m = -1, rc;

		t = now_ns();
		if (o->kind == BS_FETCH) {
			const struct mech *me;

			/* client i's session j: mechanism (i + j) mod n, so that at any moment
			 * every mechanism is in use */
			m = o->mech_list[(idx + (int)(r.ok + r.errors)) % o->nmech];
			me = &mechs[m];
			c.port = o->ports[me->port];
			c.auth = me->auth;
			c.tls = me->tls;
			c.stls = me->stls;
			c.layer = me->layer;
			rc = bs_fetch_session(&c, &msgs, &octets);
		} else {
			rc = bs_session(&c, o->kind, &octets);
		}
		if (m >= 0) {
			if (rc == 0)
				r.mech_ok[m]++;
			else
				r.mech_err[m]++;
			r.msgs += msgs;
		}
		if (rc == 0) {
			if (r.nlat < MAX_LAT)
				lat[r.nlat++] = (uint32_t)((now_ns() - t) / 1000);
			r.ok++;
			r.octets += octets;
		} else {
			r.errors++;
			if (!err_seen) {
				snprintf(r.err, sizeof(r.err), "%s%s%s", m >= 0 ? mechs[m].name : "",
					 m >= 0 ? ": " : "", c.err);
				err_seen = 1;
			}
			usleep(10000); /* a refusing server must not turn into a busy loop */
		}
		if (quota > 0)
			quota--;
	}
	r.end_ns = now_ns();
	r.cpu_us = self_cpu_us() - cpu0;
	write_full(res_fd, &r, sizeof(r));
	write_full(res_fd, lat, sizeof(*lat) * r.nlat);
	bs_client_free(&c);
	_exit(0);
}

static int
run_load(struct opts *o)
{
	static pid_t pids[MAX_CLIENTS];
	static int res[MAX_CLIENTS];
	int ready[2], go[2], i, got = 0, failed_setup = 0, status;
	uint64_t t0, tend = 0, srv0, srv1, cpu = 0, octets = 0;
	uint32_t *all = NULL;
	size_t nall = 0;
	unsigned long ok = 0, errors = 0, msgs = 0, mok[NMECHS] = { 0 }, merr[NMECHS] = { 0 };
	size_t m;
	char first_err[300] = "";
	const char *kinds[] = { "capa", "gssapi", "kpop", "userpass", "retr", "soak" };
	double secs, p50 = 0, p99 = 0;

	if (pipe(ready) != 0 || pipe(go) != 0) {
		perror("kpbench: pipe");
		return 1;
	}
	fflush(NULL);
	for (i = 0; i < o->clients; i++) {
		int rp[2];

		if (pipe(rp) != 0) {
			perror("kpbench: pipe");
			return 1;
		}
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("kpbench: fork");
			return 1;
		}
		if (pids[i] == 0) {
			int j;

			for (j = 0; j < i; j++)
				close(res[j]);
			close(ready[0]);
			close(go[1]);
			close(rp[0]);
			client_main(o, i, ready[1], go[0], rp[1]);
		}
		close(rp[1]);
		res[i] = rp[0];
	}
	close(ready[1]);
	close(go[0]);
	while (got < o->clients) {
		char b;
		int pr = kp_io_wait(ready[0], POLLIN, READY_TIMEOUT_MS);

		if (pr != 0 || read(ready[0], &b, 1) != 1) {
			fprintf(stderr, "kpbench: clients did not get ready\n");
			break;
		}
		if (b != 'r')
			failed_setup++;
		got++;
	}
	srv0 = tree_cpu_us(o->server_pid);
	t0 = now_ns();
	close(go[1]); /* go */
	for (i = 0; i < o->clients; i++) {
		struct result r;

		if (read_full(res[i], &r, sizeof(r)) != 0) {
			errors++;
			continue;
		}
		if (r.nlat > 0) {
			uint32_t *p = realloc(all, sizeof(*all) * (nall + r.nlat));

			if (p == NULL || read_full(res[i], p + nall, sizeof(*p) * r.nlat) != 0) {
				free(p != NULL ? p : all);
				fprintf(stderr, "kpbench: lost client results\n");
				return 1;
			}
			all = p;
			nall += r.nlat;
		}
		ok += r.ok;
		errors += r.errors;
		msgs += r.msgs;
		for (m = 0; m < NMECHS; m++) {
			mok[m] += r.mech_ok[m];
			merr[m] += r.mech_err[m];
		}
		cpu += r.cpu_us;
		octets += r.octets;
		if (r.end_ns > tend)
			tend = r.end_ns;
		if (r.err[0] != '\0' && first_err[0] == '\0')
			snprintf(first_err, sizeof(first_err), "%s", r.err);
		close(res[i]);
	}
	srv1 = tree_cpu_us(o->server_pid);
	for (i = 0; i < o->clients; i++)
		waitpid(pids[i], &status, 0);
	close(ready[0]);
	if (tend < t0)
		tend = now_ns();
	secs = (double)(tend - t0) / 1e9;
	if (nall > 0) {
		size_t k99 = (size_t)(0.99 * (double)nall + 0.999999);

		qsort(all, nall, sizeof(*all), cmp_u32);
		p50 = all[(nall - 1) / 2] / 1000.0;
		p99 = all[(k99 > 0 ? k99 : 1) - 1] / 1000.0;
	}
	free(all);
	printf("kind=%s\tlayer=%s\ttls=%d\tk=%d\tsessions=%lu\terrors=%lu\tsecs=%.3f\t"
	       "rate=%.1f\tp50_ms=%.3f\tp99_ms=%.3f\tcli_cpu_us=%.0f\tsrv_cpu_us=%.0f\t"
	       "mib_s=%.1f",
	       kinds[o->kind],
	       o->proto.layer == BS_LAYER_NONE ? "none" :
	       o->proto.layer == BS_LAYER_INTEGRITY ? "integrity" : "privacy",
	       o->proto.tls, o->clients, ok, errors, secs, secs > 0 ? (double)ok / secs : 0.0,
	       p50, p99, ok > 0 ? (double)cpu / (double)ok : 0.0,
	       ok > 0 && o->server_pid > 0 ? (double)(srv1 - srv0) / (double)ok : 0.0,
	       secs > 0 ? (double)octets / 1048576.0 / secs : 0.0);
	if (o->kind == BS_FETCH) { /* the same line, continued: the soak's own figures */
		printf("\tmsgs=%lu", msgs);
		for (i = 0; i < o->nmech; i++)
			printf("\tok_%s=%lu\terr_%s=%lu", mechs[o->mech_list[i]].name,
			       mok[o->mech_list[i]], mechs[o->mech_list[i]].name,
			       merr[o->mech_list[i]]);
	}
	printf("\n");
	if (first_err[0] != '\0')
		fprintf(stderr, "kpbench: %lu errors; first: %s\n", errors, first_err);
	if (failed_setup > 0)
		fprintf(stderr, "kpbench: %d clients failed to set up\n", failed_setup);
	return 0;
}

/* Open K logged-in sessions, say so, and hold them until killed. */
static void __attribute__((noreturn))
run_idle(struct opts *o)
{
	int i, fd, held = 0, errors = 0;
	char user[300], first_err[300] = "";

	for (i = 0; i < o->clients; i++) {
		struct bs_client c = o->proto;

		user_of(o, i, user, sizeof(user));
		c.user = user;
		if (bs_client_init(&c) != 0 || bs_login_hold(&c, &fd) != 0) {
			if (errors++ == 0)
				snprintf(first_err, sizeof(first_err), "%s: %s", user, c.err);
		} else {
			held++;
		}
		bs_client_free(&c);
	}
	printf("ready\tsessions=%d\terrors=%d\n", held, errors);
	fflush(stdout);
	if (first_err[0] != '\0')
		fprintf(stderr, "kpbench idle: first error: %s\n", first_err);
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct opts o;
	unsigned long v;
	char err[200];
	int ch;

	memset(&o, 0, sizeof(o));
	o.clients = 1;
	o.seconds = 3;
	o.proto.host = "localhost";
	o.proto.service = "pop";
	o.proto.layer = BS_LAYER_NONE;
	o.proto.user = "alice";
	o.proto.msg = 1;
	o.proto.fetch_max = 5;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (strcmp(argv[1], "proc") == 0) {
		if (argc != 3 || parse_num(argv[2], 1, INT_MAX, &v) != 0) {
			fputs(usage_text, stderr);
			return 2;
		}
		return cmd_proc((pid_t)v);
	}
	if (strcmp(argv[1], "capa") == 0)
		o.kind = BS_CAPA;
	else if (strcmp(argv[1], "gssapi") == 0 || strcmp(argv[1], "idle") == 0)
		o.kind = BS_GSSAPI;
	else if (strcmp(argv[1], "kpop") == 0)
		o.kind = BS_KPOP;
	else if (strcmp(argv[1], "userpass") == 0)
		o.kind = BS_USERPASS;
	else if (strcmp(argv[1], "retr") == 0)
		o.kind = BS_RETR;
	else if (strcmp(argv[1], "soak") == 0)
		o.kind = BS_FETCH;
	else {
		fputs(usage_text, stderr);
		return 2;
	}
	optind = 2;
	while ((ch = getopt(argc, argv, "p:k:s:n:u:U:w:H:S:l:TC:m:P:K:Q:F:M:")) != -1) {
		switch (ch) {
		case 'p':
			if (parse_num(optarg, 1, 65535, &v) != 0)
				return 2;
			o.proto.port = (int)v;
			break;
		case 'k':
			if (parse_num(optarg, 1, MAX_CLIENTS, &v) != 0)
				return 2;
			o.clients = (int)v;
			break;
		case 's':
			if (parse_num(optarg, 1, 3600, &v) != 0)
				return 2;
			o.seconds = (double)v;
			break;
		case 'n':
			if (parse_num(optarg, 1, 100000000, &v) != 0)
				return 2;
			o.sessions = (long)v;
			break;
		case 'u':
			o.proto.user = optarg;
			break;
		case 'U':
			if (parse_num(optarg, 1, 100000, &v) != 0)
				return 2;
			o.users = (int)v;
			break;
		case 'w':
			o.proto.password = optarg;
			break;
		case 'H':
			o.proto.host = optarg;
			break;
		case 'S':
			o.proto.service = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "none") == 0)
				o.proto.layer = BS_LAYER_NONE;
			else if (strcmp(optarg, "integrity") == 0)
				o.proto.layer = BS_LAYER_INTEGRITY;
			else if (strcmp(optarg, "privacy") == 0)
				o.proto.layer = BS_LAYER_PRIVACY;
			else {
				fputs(usage_text, stderr);
				return 2;
			}
			break;
		case 'T':
			o.proto.tls = 1;
			break;
		case 'C':
			o.cafile = optarg;
			break;
		case 'm':
			if (parse_num(optarg, 1, 10000000, &v) != 0)
				return 2;
			o.proto.msg = v;
			break;
		case 'P':
			if (parse_num(optarg, 1, INT_MAX, &v) != 0)
				return 2;
			o.server_pid = (pid_t)v;
			break;
		case 'K':
		case 'Q':
			if (parse_num(optarg, 1, 65535, &v) != 0)
				return 2;
			o.ports[ch == 'K' ? PORT_KPOP : PORT_POP3S] = (int)v;
			break;
		case 'F':
			if (parse_num(optarg, 1, 1000000, &v) != 0)
				return 2;
			o.proto.fetch_max = v;
			break;
		case 'M':
			if (parse_mechs(optarg, &o) != 0)
				return 2;
			break;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc || o.proto.port == 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (o.kind == BS_FETCH) {
		size_t m;

		if (o.nmech == 0)
			for (m = 0; m < NMECHS; m++)
				o.mech_list[o.nmech++] = (int)m;
		o.ports[PORT_POP3] = o.proto.port;
		for (m = 0; m < (size_t)o.nmech; m++) {
			const struct mech *me = &mechs[o.mech_list[m]];

			if (o.ports[me->port] == 0) {
				fprintf(stderr, "kpbench: soak mechanism %s needs %s\n", me->name,
					me->port == PORT_KPOP ? "-K PORT" : "-Q PORT");
				return 2;
			}
			if (me->tls || me->stls)
				o.proto.tls = 1; /* (a TLS context below; per session from mechs[]) */
		}
		if (o.proto.password == NULL) {
			fprintf(stderr, "kpbench: soak needs -w PASSWORD\n");
			return 2;
		}
	}
	if ((o.kind == BS_GSSAPI || o.kind == BS_KPOP || o.kind == BS_RETR ||
	     o.kind == BS_USERPASS) && o.proto.password == NULL) {
		fprintf(stderr, "kpbench: %s needs -w PASSWORD\n", argv[1]);
		return 2;
	}
	if (o.kind == BS_USERPASS && !o.proto.tls) {
		fprintf(stderr, "kpbench: userpass runs over TLS only (-T)\n");
		return 2;
	}
	o.proto.krb = o.kind == BS_GSSAPI || o.kind == BS_KPOP || o.kind == BS_RETR ||
		      o.kind == BS_FETCH;
	if (o.proto.tls) {
		o.proto.tls_ctx = kp_tls_client_ctx(o.cafile, err, sizeof(err));
		if (o.proto.tls_ctx == NULL) {
			fprintf(stderr, "kpbench: TLS: %s\n", err);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "idle") == 0)
		run_idle(&o);
	ch = run_load(&o);
	if (o.proto.tls_ctx != NULL) /* (make soak-sanitizers: LSan at exit) */
		SSL_CTX_free(o.proto.tls_ctx);
	return ch;
}
