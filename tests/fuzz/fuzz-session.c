/* fuzz-session.c - a whole POP3 session (server/session.c) on a fake transport:
 * the input is what the client sends (read from an anonymous file, replies to
 * /dev/null), the auth service is fakeauth.h's stand-in, so AUTHORIZATION, every
 * TRANSACTION command and UPDATE are reachable without network or KDC.  The
 * first byte picks the mode: KPOP-authenticated (USER names the maildrop) or
 * SASL, and a Maildir or an mbox spool, rebuilt before each input.  After the
 * session the maildrop must hold exactly what the goodbye says ("N messages
 * deleted, M left"), and all of it when there was no UPDATE. */
#include "config.h"
#include "fuzz.h"

#include <dirent.h>

#include "kp_err.h"
#include "server/authc.h"
#include "server/conf.h"
#include "server/session.h"
#include "fakeauth.h"

static char maildir[4200], spool[4200], tmpl[4200];
static struct kp_conf conf;
static struct fuzz_out spool_text;

static const char *const messages[] = {
	"From: a@example.org\nSubject: one\n\nbody one\n.leading dot\n",
	"From: b@example.org\r\nSubject: two\r\n\r\nline\r\n..\r\n.\r\nend\r\n",
	"Subject: three\n\nno final newline",
};
#define NMSG 3

static void
mkdirs(const char *base)
{
	char p[4300];

	mkdir(base, 0700);
	snprintf(p, sizeof(p), "%s/new", base);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/cur", base);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/tmp", base);
	mkdir(p, 0700);
}

static unsigned long
count_maildir(void)
{
	static const char *const sub[] = { "new", "cur" };
	unsigned long n = 0;
	char p[4300];
	int i;

	for (i = 0; i < 2; i++) {
		struct dirent *de;
		DIR *d;

		snprintf(p, sizeof(p), "%s/%s", maildir, sub[i]);
		if ((d = opendir(p)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		closedir(d);
	}
	return n;
}

/* Messages in the spool: its From_ lines. */
static unsigned long
count_spool(void)
{
	unsigned long n = 0;
	char line[512];
	int bol = 1;
	FILE *f = fopen(spool, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (bol && strncmp(line, "From ", 5) == 0)
			n++;
		bol = strchr(line, '\n') != NULL;
	}
	fclose(f);
	return n;
}

/* Put the maildrops back as they were, three messages each, where a session
 * changed them (only UPDATE does). */
static void
rebuild(void)
{
	char p[4400], q[4400];
	int i;

	if (count_spool() != NMSG)
		fuzz_write_file(spool, spool_text.p, spool_text.len); /* a copy: UPDATE
								  * compacts in place */
	if (count_maildir() == NMSG)
		return;
	fuzz_rm_tree(maildir);
	mkdirs(maildir);
	for (i = 0; i < NMSG; i++) {
		snprintf(p, sizeof(p), "%s/m%d", tmpl, i);
		snprintf(q, sizeof(q), "%s/%s/100000000%d.M%dP1.fuzz%s", maildir,
			 i == 2 ? "cur" : "new", i, i, i == 2 ? ":2,S" : "");
		if (link(p, q) != 0)
			abort();
	}
}

/* The replies: "+OK kpopd signing off (N messages deleted, M left)" sets both. */
static int
goodbye(int fd, unsigned long *deleted, unsigned long *left)
{
	static char buf[1 << 20];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *p, *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = memmem(buf, (size_t)n, "signing off (", 13);
	if (p == NULL)
		return 0;
	*deleted = strtoul(p + 13, &end, 10);
	p = strstr(end, "deleted, ");
	if (p == NULL)
		return 0;
	*left = strtoul(p + 9, &end, 10);
	return 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char from[] = "From fuzz@example.org Thu Jan  1 00:00:00 2026\n";
	char p[4300];
	int i;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(tmpl, sizeof(tmpl), "%s/template", fuzz_scratch());
	snprintf(maildir, sizeof(maildir), "%s/Maildir", fuzz_scratch());
	snprintf(spool, sizeof(spool), "%s/mbox", fuzz_scratch());
	mkdir(tmpl, 0700);
	for (i = 0; i < NMSG; i++) {
		snprintf(p, sizeof(p), "%s/m%d", tmpl, i);
		fuzz_write_file(p, messages[i], strlen(messages[i]));
		fuzz_out_write(&spool_text, from, sizeof(from) - 1);
		fuzz_out_write(&spool_text, messages[i], strlen(messages[i]));
		fuzz_out_write(&spool_text, "\n\n",
			       messages[i][strlen(messages[i]) - 1] == '\n' ? 1 : 2);
	}
	kp_conf_defaults(&conf);
	conf.auth_failure_delay_ms = 0; /* no pause per failed login */
	conf.plaintext_login = 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_session_params p;
	struct fake_auth fa;
	struct kp_authc a;
	unsigned long deleted = 0, left = NMSG, have;
	int kpop, mbox, in, out;

	if (size < 1)
		return 0;
	kpop = data[0] & 1;
	mbox = data[0] & 2;
	rebuild();
	if (mbox)
		snprintf(fake_auth_maildrop, sizeof(fake_auth_maildrop), "mbox:%s", spool);
	else
		snprintf(fake_auth_maildrop, sizeof(fake_auth_maildrop), "%s", maildir);
	in = fuzz_input_fd(data + 1, size - 1);
	fake_auth_start(&fa, &a, kpop ? KP_IPC_MODE_KPOP : KP_IPC_MODE_POP3, 1);
	memset(&p, 0, sizeof(p));
	p.conf = &conf;
	p.rfd = in;
	out = memfd_create("fuzz-replies", MFD_CLOEXEC);
	if (out < 0)
		abort();
	p.wfd = out;
	p.peer = "127.0.0.1;40000";
	p.local = "127.0.0.1;110";
	p.kpop = kpop;
	p.authc = &a;
	p.handover_fd = -1; /* one process: no system-user split */
	if (kpop)
		a.kpop_ok = 1; /* as after kp_kpop_accept */
	(void)kp_session_run(&p);
	fake_auth_stop(&fa, &a);
	close(in);
	have = mbox ? count_spool() : count_maildir();
	if (goodbye(out, &deleted, &left))
		FUZZ_CHECK(deleted + left == NMSG && have == left, "kp_session_run",
			   "the maildrop does not hold what the goodbye says");
	else
		FUZZ_CHECK(have == NMSG, "kp_session_run", "messages gone without UPDATE");
	if (getenv("FUZZ_VERBOSE") != NULL) {
		char buf[4096];
		ssize_t n;

		lseek(out, 0, SEEK_SET);
		while ((n = read(out, buf, sizeof(buf))) > 0)
			fuzz_write_all(fuzz_err_fd, buf, (size_t)n);
	}
	close(out);
	return 0;
}
