/* fuzz-mbox.c - an mbox spool as a maildrop (server/mbox.c): the input is the spool.
 * Every message is sent (RETR and TOP) and checked: the wire form un-stuffs to
 * exactly as many octets as LIST says.  Then a deletion pattern from the first
 * byte is committed (UPDATE) and the spool reopened: the kept messages must all
 * be there, in order, byte for byte, with the same UIDLs; nothing else may be. */
#include "config.h"
#include "fuzz.h"

#include "kp_dot.h"
#include "kp_err.h"
#include "server/mbox.h"

#define MAXMSG 64

struct msg {
	char *body;      /* un-stuffed with CRLF line ends */
	size_t len;
	char uidl[80];
};

static char spool[4200];
static struct fuzz_out fo;

FUZZ_QUIET_INIT

/* RETR n (or TOP n lines): the message as the client gets it. */
static char *
retr(struct kp_mbox *mb, unsigned long n, long lines, size_t *len_out)
{
	static struct kp_io io;
	struct kp_unstuff u;
	unsigned long long oct;
	size_t used = 0, got = 0;
	char *body;
	int rc;

	fuzz_capture(&io, &fo);
	rc = kp_mbox_send(mb, n, lines, &io, NULL, NULL, &oct);
	FUZZ_CHECK(rc == 0, "kp_mbox_send", "cannot send a message of an unchanged spool");
	kp_io_flush(&io);
	body = malloc(fo.len + 3);
	if (body == NULL)
		abort();
	kp_unstuff_init(&u, 0);
	FUZZ_CHECK(kp_unstuff_feed(&u, (const char *)fo.p, fo.len, &used, body, &got) == 1 &&
		   used == fo.len, "kp_mbox_send", "the message's wire form is not terminated "
		   "at its end");
	*len_out = got;
	return body;
}

static unsigned long
load(struct kp_mbox *mb, struct msg *m)
{
	unsigned long n = kp_mbox_count(mb), i;

	if (n > MAXMSG)
		n = MAXMSG;
	for (i = 0; i < n; i++) {
		m[i].body = retr(mb, i + 1, -1, &m[i].len);
		FUZZ_CHECK(m[i].len == kp_mbox_size(mb, i + 1), "kp_mbox_size",
			   "LIST size differs from what RETR sends");
		snprintf(m[i].uidl, sizeof(m[i].uidl), "%s", kp_mbox_uidl(mb, i + 1));
	}
	return n;
}

static void
drop(struct msg *m, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		free(m[i].body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg before[MAXMSG], after[MAXMSG];
	struct kp_mbox *mb = NULL;
	unsigned long n, n2, i, j, removed = 0;
	uint32_t pat;
	size_t len;
	char *top;
	int rc;

	if (size < 1)
		return 0;
	if (spool[0] == '\0')
		snprintf(spool, sizeof(spool), "%s/spool", fuzz_scratch());
	pat = data[0];
	fuzz_write_file(spool, data + 1, size - 1);
	rc = kp_mbox_open(spool, geteuid(), data[0] & 0x80 ? 3 : 0, &mb);
	FUZZ_CHECK(rc == 0 || rc == KP_E_IO, "kp_mbox_open", "unexpected return code");
	if (rc != 0)
		return 0;
	n = load(mb, before);
	if (kp_mbox_count(mb) > MAXMSG) {
		kp_mbox_close(mb);
		drop(before, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		top = retr(mb, i + 1, (long)(pat % 3), &len);
		FUZZ_CHECK(len <= before[i].len, "kp_mbox_send", "TOP sent more than RETR");
		free(top);
		if (fuzz_rng(&pat) & 1)
			kp_mbox_mark(mb, i + 1);
	}
	rc = kp_mbox_commit(mb, &removed);
	FUZZ_CHECK(rc == 0, "kp_mbox_commit", "UPDATE of an unchanged spool failed");
	for (i = 0, j = 0; i < n; i++)
		j += kp_mbox_deleted(mb, i + 1) != 0;
	FUZZ_CHECK(j == removed, "kp_mbox_commit", "removed count differs from DELE marks");
	kp_mbox_close(mb);

	mb = NULL;
	rc = kp_mbox_open(spool, geteuid(), 0, &mb);
	FUZZ_CHECK(rc == 0, "kp_mbox_open", "the spool UPDATE left does not open");
	n2 = load(mb, after);
	/* messages past max_messages were not served: they are kept too, after ours */
	FUZZ_CHECK(n2 >= n - removed, "kp_mbox_commit", "messages lost");
	pat = data[0];
	for (i = 0, j = 0; i < n; i++) {
		if (fuzz_rng(&pat) & 1)
			continue;
		FUZZ_CHECK(j < n2 && after[j].len == before[i].len &&
			   memcmp(after[j].body, before[i].body, before[i].len) == 0,
			   "kp_mbox_commit", "a kept message changed or vanished");
		/* the hash ("mb" and 16 hex digits) never changes; byte-identical
		 * messages are told apart by "-2", "-3"... in spool order, which
		 * deleting one of them can renumber (among UIDLs already seen) */
		FUZZ_CHECK(strncmp(after[j].uidl, before[i].uidl, 18) == 0, "kp_mbox_uidl",
			   "a kept message's UIDL changed");
		FUZZ_CHECK(strcmp(after[j].uidl, before[i].uidl) == 0 ||
			   strchr(before[i].uidl, '-') != NULL || strchr(after[j].uidl, '-') != NULL,
			   "kp_mbox_uidl", "a kept message without a twin changed its UIDL");
		j++;
	}
	if (!(data[0] & 0x80))
		FUZZ_CHECK(n2 == j, "kp_mbox_commit", "a deleted message is still there");
	kp_mbox_close(mb);
	drop(before, n);
	drop(after, n2);
	return 0;
}
