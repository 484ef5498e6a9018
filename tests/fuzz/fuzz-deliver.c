/* fuzz-deliver.c - the client's side of mbox (client/deliver.c): kpop's mbox sink
 * writes each fetched message with a From_ line (envelope sender from Return-Path),
 * mboxrd quoting of ^>*"From " lines and a blank line after it, streaming, in
 * whatever chunks the POP3 reader hands over.  Input: byte 0 seeds the chunk sizes;
 * the rest is up to 8 messages (LF line ends, as pop3c_body gives them) separated by
 * the bytes 00 ff 00.  Checked: the spool is byte for byte what a plain
 * line-by-line model writes (the From_ lines only start with "From " and end the
 * line), whatever the chunking; and kpopd's mbox reader (server/mbox.c) finds
 * exactly as many messages in it as were stored. */
#include "config.h"
#include "fuzz.h"

#include "client/deliver.h"
#include "server/mbox.h"

#define MAXMSG 8

static char spool[4200];

FUZZ_QUIET_INIT

/* Append n bytes to a growing buffer. */
static void
add(struct fuzz_out *o, const void *p, size_t n)
{
	(void)fuzz_out_write(o, p, n);
}

/* The model: message m as the spool must hold it after its From_ line. */
static void
model(struct fuzz_out *o, const uint8_t *m, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *nl = memchr(m + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (m + i)) + 1 : n - i, g = 0;

		while (g < len && m[i + g] == '>')
			g++;
		if (len - g >= 5 && memcmp(m + i + g, "From ", 5) == 0)
			add(o, ">", 1);
		add(o, m + i, len);
		i += len;
	}
	if (n > 0 && m[n - 1] != '\n')
		add(o, "\n", 1);
	add(o, "\n", 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[3] = { 0x00, 0xff, 0x00 };
	struct sink_conf sc;
	struct sink s;
	struct fuzz_out want = { NULL, 0, 0 };
	struct kp_mbox *mb = NULL;
	const uint8_t *msg[MAXMSG], *p, *end;
	size_t mlen[MAXMSG], i, off, k;
	unsigned nmsg = 0;
	uint32_t rng;
	char *got;
	int fd, rc;

	if (size < 1)
		return 0;
	if (spool[0] == '\0')
		snprintf(spool, sizeof(spool), "%s/mbox", fuzz_scratch());
	rng = data[0] * 2654435761u + 1;
	p = data + 1;
	end = data + size;
	while (nmsg < MAXMSG) {
		const uint8_t *q = p;

		while (q + 3 <= end && memcmp(q, sep, 3) != 0)
			q++;
		if (q + 3 > end)
			q = end;
		msg[nmsg] = p;
		mlen[nmsg++] = (size_t)(q - p);
		if (q == end)
			break;
		p = q + 3;
	}
	unlink(spool);
	memset(&sc, 0, sizeof(sc));
	sc.kind = SINK_MBOX;
	sc.path = spool;
	memset(&s, 0, sizeof(s));
	if (sink_open(&s, &sc) != 0)
		abort();
	for (i = 0; i < nmsg; i++) {
		FUZZ_CHECK(sink_begin(&s) == 0, "sink_begin", "cannot start a message");
		for (off = 0; off < mlen[i]; off += k) {
			k = 1 + fuzz_rng(&rng) % (fuzz_rng(&rng) & 1 ? 7 : 4096);
			if (k > mlen[i] - off)
				k = mlen[i] - off;
			FUZZ_CHECK(sink_write(&s, (const char *)msg[i] + off, k) == 0, "sink_write",
				   "a write to the mbox failed");
		}
		FUZZ_CHECK(sink_commit(&s) == 0, "sink_commit", "a message was not stored");
	}
	sink_close(&s);

	/* the spool against the model */
	fd = open(spool, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		abort();
	{
		struct stat st;
		ssize_t r;

		if (fstat(fd, &st) != 0)
			abort();
		got = malloc((size_t)st.st_size + 1);
		if (got == NULL)
			abort();
		r = read(fd, got, (size_t)st.st_size);
		if (r != st.st_size)
			abort();
		close(fd);
		off = 0;
		for (i = 0; i < nmsg; i++) {
			char *nl;

			FUZZ_CHECK(off + 5 <= (size_t)st.st_size && memcmp(got + off, "From ", 5) == 0,
				   "sink_commit", "a message does not start with a From_ line");
			nl = memchr(got + off, '\n', (size_t)st.st_size - off);
			FUZZ_CHECK(nl != NULL, "sink_commit", "an unterminated From_ line");
			off = (size_t)(nl - got) + 1;
			want.len = 0;
			model(&want, msg[i], mlen[i]);
			FUZZ_CHECK(off + want.len <= (size_t)st.st_size &&
				   memcmp(got + off, want.p, want.len) == 0, "mbox_write",
				   "the stored message is not its mboxrd form");
			off += want.len;
		}
		FUZZ_CHECK(off == (size_t)st.st_size, "sink_commit", "bytes after the last message");
	}
	free(got);
	free(want.p);

	/* kpopd reads back as many messages */
	rc = kp_mbox_open(spool, geteuid(), 0, &mb);
	FUZZ_CHECK(rc == 0, "kp_mbox_open", "the spool kpop wrote does not open");
	FUZZ_CHECK(kp_mbox_count(mb) == nmsg, "kp_mbox_open",
		   "kpopd counts other messages than kpop stored");
	kp_mbox_close(mb);
	return 0;
}
