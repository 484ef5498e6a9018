/* test-mdstate.c - unit tests of server/mdstate.c on real Maildirs and an mbox spool
 * in a temp dir: LOGIN-DELAY arithmetic, the file written and read back, EXPIRE's
 * choice of messages, records of messages past max_messages, and every malformed
 * state file (ignored: nothing then counts as retrieved). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/maildrop.h"
#include "server/mdstate.h"
#include "tap.h"

#define DAY 86400
static char root[256], md_path[300], state_path[330];
static time_t now;

static void
put(const char *name, int age_days)
{
	char p[400];
	struct timespec ts[2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/new/%s", md_path, name);
	f = fopen(p, "w");
	if (f != NULL) {
		fprintf(f, "Subject: %s\n\nbody\n", name);
		fclose(f);
	}
	ts[0].tv_sec = ts[1].tv_sec = now - (time_t)age_days * DAY;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, 0);
}

static void
write_state(const char *text)
{
	FILE *f = fopen(state_path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static char *
read_state(void)
{
	static char buf[8192];
	FILE *f = fopen(state_path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Open the Maildir (at most max messages) and its state. */
static int
open_both(unsigned long max, struct kp_maildrop **md, struct kp_mdstate **st)
{
	*st = NULL;
	if (kp_maildrop_open(md_path, getuid(), max, md) != 0)
		return -1;
	return kp_mdstate_open(*md, st);
}

static void
close_both(struct kp_maildrop *md, struct kp_mdstate *st)
{
	kp_mdstate_free(st);
	kp_maildrop_close(md);
}

/* A malformed state file is ignored: no last login, nothing retrieved. */
static void
ignored(const char *text, const char *name)
{
	struct kp_maildrop *md;
	struct kp_mdstate *st;

	write_state(text);
	T_EQ_INT(open_both(0, &md, &st), 0, name);
	if (st == NULL)
		return;
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now), 0, name);
	T_EQ_INT(kp_mdstate_expire(st, 0, now), 0, name);
	close_both(md, st);
}

int
main(void)
{
	struct kp_maildrop *md;
	struct kp_mdstate *st;
	char buf[4096], *s;
	int i;

	now = time(NULL);
	kp_log_open("test-mdstate", 0, KP_LOG_ERR); /* the warnings are expected */
	snprintf(root, sizeof(root), "%s/test-mdstate.XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(md_path, sizeof(md_path), "%s/Maildir", root);
	snprintf(state_path, sizeof(state_path), "%s/.kpopd.state", md_path);
	snprintf(buf, sizeof(buf), "%s/new", md_path);
	mkdir(md_path, 0700);
	mkdir(buf, 0700);
	snprintf(buf, sizeof(buf), "%s/cur", md_path);
	mkdir(buf, 0700);
	put("m1", 40); /* messages 1..3, oldest first */
	put("m2", 35);
	put("m3", 2);

	/* no file: an empty state */
	T_EQ_INT(open_both(0, &md, &st), 0, "open without a state file");
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now), 0, "no last login: no wait");
	T_EQ_INT(kp_mdstate_login(st, now), 0, "record a login");
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now + 600), 3000, "wait the rest of the delay");
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now + 3600), 0, "the delay is over");
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now - 5), 3600, "clock went back: wait all of it");
	T_EQ_INT(kp_mdstate_login_wait(st, 0, now), 0, "delay 0: no wait");
	kp_mdstate_retrieved(st, 1);
	kp_mdstate_retrieved(st, 3);
	kp_mdstate_retrieved(st, 0);   /* out of range: ignored */
	kp_mdstate_retrieved(st, 99);
	T_EQ_INT(kp_mdstate_expire(st, 30, now), 0, "retrieved in this session only: kept (30)");
	T_EQ_INT(kp_mdstate_save(st, now), 0, "save");
	close_both(md, st);
	snprintf(buf, sizeof(buf), "kpopd-state-1\nlogin %lld\nretr %lld m1\nretr %lld m3\n",
		 (long long)now, (long long)now, (long long)now);
	T_EQ_STR(read_state(), buf, "the file: header, login, one line per RETR");
	{
		struct stat sb;

		T_OK(stat(state_path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode 0600");
	}

	/* read back: the login counts, and EXPIRE 30 takes m1 (40 days old, retrieved
	 * earlier) but not m3 (2 days) nor m2 (never retrieved) */
	T_EQ_INT(open_both(0, &md, &st), 0, "reopen");
	T_EQ_INT(kp_mdstate_login_wait(st, 60, now + 10), 50, "the last login was kept");
	T_EQ_INT(kp_mdstate_expire(st, 30, now), 1, "EXPIRE 30: one message");
	T_OK(kp_maildrop_deleted(md, 1) && !kp_maildrop_deleted(md, 2) &&
	     !kp_maildrop_deleted(md, 3), "EXPIRE 30: m1 only");
	kp_maildrop_unmark_all(md);
	T_EQ_INT(kp_mdstate_expire(st, 1, now), 2, "EXPIRE 1: m1 and m3");
	kp_maildrop_unmark_all(md);
	kp_mdstate_retrieved(st, 2);
	T_EQ_INT(kp_mdstate_expire(st, 0, now), 3, "EXPIRE 0: this session's RETR too");
	kp_maildrop_unmark_all(md);
	/* a removed message leaves the record: mark m1 as the commit would */
	kp_maildrop_mark(md, 1);
	T_EQ_INT(kp_mdstate_save(st, now + 5), 0, "save after a removal");
	close_both(md, st);
	snprintf(buf, sizeof(buf), "kpopd-state-1\nlogin %lld\nretr %lld m2\nretr %lld m3\n",
		 (long long)now, (long long)now + 5, (long long)now);
	T_EQ_STR(read_state(), buf, "removed m1 gone, m2 added at its time, m3 kept");

	/* the earliest of duplicate records counts; a record of a vanished message is
	 * dropped at the next save */
	snprintf(buf, sizeof(buf), "kpopd-state-1\nretr %lld m2\nretr %lld m2\nretr 5 gone\n",
		 (long long)now, (long long)now - 50 * DAY);
	write_state(buf);
	T_EQ_INT(open_both(0, &md, &st), 0, "duplicates and a vanished message");
	T_EQ_INT(kp_mdstate_expire(st, 30, now), 1, "m2 retrieved 50 days ago counts");
	kp_maildrop_unmark_all(md);
	T_EQ_INT(kp_mdstate_save(st, now), 0, "save");
	close_both(md, st);
	snprintf(buf, sizeof(buf), "kpopd-state-1\nretr %lld m2\n", (long long)now - 50 * DAY);
	T_EQ_STR(read_state(), buf, "one line for m2, the vanished one dropped");

	/* past max_messages: a record for a message not served now is kept */
	put("m4", 1);
	snprintf(buf, sizeof(buf), "kpopd-state-1\nretr %lld m4\n", (long long)now);
	write_state(buf);
	T_EQ_INT(open_both(2, &md, &st), 0, "max_messages 2 of 4");
	T_EQ_INT(kp_mdstate_save(st, now), 0, "save");
	close_both(md, st);
	T_EQ_STR(read_state(), buf, "m4's record survives a session that did not serve it");

	/* malformed files: each ignored */
	ignored("", "empty file");
	ignored("kpopd-state-2\n", "another version");
	ignored("kpopd-state-1\nlogin x\n", "login not a number");
	ignored("kpopd-state-1\nlogin 5\nlogin 6\n", "two logins");
	ignored("kpopd-state-1\nlogin 99999999999999999999\n", "login out of range");
	ignored("kpopd-state-1\nretr 5\n", "retr without a uidl");
	ignored("kpopd-state-1\nretr 5 m1 x\n", "a uidl with a space");
	ignored("kpopd-state-1\nretr -5 m1\n", "a negative time");
	ignored("kpopd-state-1\nretr 5 m1", "no final newline");
	ignored("kpopd-state-1\nfrobnicate\n", "an unknown line");
	ignored("kpopd-state-1\n\nretr 5 m1\n", "an empty line");
	s = buf;
	s += snprintf(s, 64, "kpopd-state-1\nretr 5 ");
	for (i = 0; i < KP_MDSTATE_LINE_MAX; i++)
		*s++ = 'u';
	*s++ = '\n';
	*s = '\0';
	ignored(buf, "a line over KP_MDSTATE_LINE_MAX");
	/* bigger than one line per message found (4) and the login line */
	s = buf;
	s += snprintf(s, 64, "kpopd-state-1\n");
	for (i = 0; i < 40; i++)
		s += snprintf(s, 200, "retr 5 %0*d\n", KP_UIDL_MAX, i);
	ignored(buf, "a file over its size cap");
	unlink(state_path);
	snprintf(buf, sizeof(buf), "%s/elsewhere", root);
	{
		FILE *f = fopen(buf, "w");

		if (f != NULL) {
			fprintf(f, "kpopd-state-1\nlogin %lld\n", (long long)now);
			fclose(f);
		}
	}
	T_EQ_INT(symlink(buf, state_path), 0, "a symlink as the state file");
	T_EQ_INT(open_both(0, &md, &st), 0, "open with a symlink");
	T_EQ_INT(kp_mdstate_login_wait(st, 3600, now), 0, "a symlink is not followed");
	T_EQ_INT(kp_mdstate_login(st, now), 0, "a login replaces the link by a file");
	close_both(md, st);
	{
		struct stat sb;

		T_OK(lstat(state_path, &sb) == 0 && S_ISREG(sb.st_mode), "now a regular file");
	}

	/* an mbox spool: the state is SPOOL.kpopd-state next to it */
	{
		char spool[400], sstate[440];
		FILE *f;

		snprintf(spool, sizeof(spool), "%s/alice.mbox", root);
		snprintf(sstate, sizeof(sstate), "%s.kpopd-state", spool);
		f = fopen(spool, "w");
		if (f != NULL) {
			fputs("From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n", f);
			fclose(f);
		}
		T_EQ_INT(kp_maildrop_open(spool, getuid(), 0, &md), 0, "open the mbox");
		T_EQ_INT(kp_mdstate_open(md, &st), 0, "its state");
		T_EQ_INT(kp_maildrop_mtime(md, 1), 0, "an mbox records no delivery time");
		kp_mdstate_retrieved(st, 1);
		T_EQ_INT(kp_mdstate_save(st, now - 20 * DAY), 0, "save (retrieved 20 days ago)");
		close_both(md, st);
		T_OK(access(sstate, F_OK) == 0, "SPOOL.kpopd-state next to the spool");
		T_EQ_INT(kp_maildrop_open(spool, getuid(), 0, &md), 0, "reopen the mbox");
		T_EQ_INT(kp_mdstate_open(md, &st), 0, "its state again");
		T_EQ_INT(kp_mdstate_expire(st, 30, now), 0, "EXPIRE 30: 20 days from retrieval: kept");
		T_EQ_INT(kp_mdstate_expire(st, 10, now), 1, "EXPIRE 10: removed");
		close_both(md, st);
		unlink(sstate);
		unlink(spool);
	}

	snprintf(buf, sizeof(buf), "rm -rf '%s'", root);
	if (system(buf) != 0)
		printf("could not remove %s\n", root);
	return tap_summary();
}
