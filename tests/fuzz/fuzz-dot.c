/* fuzz-dot.c - POP3 multi-line encoding (common/kp_dot.c).  Un-stuffing: the same
 * input fed whole and in chunks of any size gives the same bytes and stops at the
 * same terminator, never writing past n + 2.  Stuffing: what the server sends
 * un-stuffs back to the message with CRLF line ends, its length is what
 * kp_wire_size counts, and TOP's line limit never grows the output. */
#include "config.h"
#include "fuzz.h"

#include "kp_dot.h"

static uint32_t rng;

static size_t
next_chunk(size_t left)
{
	uint32_t r = fuzz_rng(&rng);
	size_t n = 1 + r % (r & 0x100 ? 3 : 300);

	return n < left ? n : left;
}

/* Un-stuff in[0..n) in chunks (whole if whole); *used_out: bytes consumed. */
static size_t
unstuff(const char *in, size_t n, int crlf_to_lf, int whole, char *out, size_t *used_out,
	int *done_out)
{
	struct kp_unstuff u;
	size_t pos = 0, olen = 0;
	int done = 0;

	kp_unstuff_init(&u, crlf_to_lf);
	while (pos < n && !done) {
		size_t take = whole ? n - pos : next_chunk(n - pos), used = 0, got = 0;

		done = kp_unstuff_feed(&u, in + pos, take, &used, out + olen, &got);
		FUZZ_CHECK(used <= take && got <= take + 2, "kp_unstuff_feed",
			   "consumed or produced more than allowed");
		FUZZ_CHECK(done || used == take, "kp_unstuff_feed",
			   "stopped early without the terminator");
		FUZZ_CHECK(done == u.done, "kp_unstuff_feed", "done flag");
		pos += used;
		olen += got;
	}
	*used_out = pos;
	*done_out = done;
	return olen;
}

FUZZ_QUIET_INIT

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *a, *b, *wire, *want, *back;
	size_t alen, blen, aused, bused, wlen = 0, wantlen = 0, backlen, bu, i;
	struct kp_stuff st;
	struct kp_wire_size ws;
	int adone, bdone, bd, crlf = size > 0 && data[0] & 1;

	rng = 0x1234567u ^ (uint32_t)size;
	a = malloc(size + 3);
	b = malloc(size + 3);
	wire = malloc(2 * size + 8);
	want = malloc(2 * size + 3);
	back = malloc(2 * size + 8);
	if (a == NULL || b == NULL || wire == NULL || want == NULL || back == NULL)
		abort();
	/* 1. un-stuffing arbitrary wire bytes, whole and chunked */
	alen = unstuff(in, size, crlf, 1, a, &aused, &adone);
	blen = unstuff(in, size, crlf, 0, b, &bused, &bdone);
	FUZZ_CHECK(adone == bdone && aused == bused && alen == blen && memcmp(a, b, alen) == 0,
		   "kp_unstuff_feed", "chunk boundaries change the result");

	/* 2. stuffing a message (RETR), then un-stuffing it */
	kp_stuff_init(&st, -1);
	for (i = 0; i < size;) {
		size_t take = next_chunk(size - i);

		wlen += kp_stuff_chunk(&st, in + i, take, wire + wlen);
		i += take;
	}
	wlen += kp_stuff_finish(&st, wire + wlen);
	FUZZ_CHECK(wlen <= 2 * size + 5, "kp_stuff_chunk", "output past 2n + 2 per chunk");
	/* the message with bare LF as CRLF and a final CRLF if unterminated (a final
	 * CR only gets its LF) */
	for (i = 0; i < size; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			want[wantlen++] = '\r';
		want[wantlen++] = in[i];
	}
	if (size > 0 && in[size - 1] != '\n') {
		if (in[size - 1] != '\r')
			want[wantlen++] = '\r';
		want[wantlen++] = '\n';
	}
	kp_wire_size_init(&ws);
	for (i = 0; i < size;) {
		size_t take = next_chunk(size - i);

		kp_wire_size_feed(&ws, in + i, take);
		i += take;
	}
	FUZZ_CHECK(kp_wire_size_end(&ws) == wantlen, "kp_wire_size_end",
		   "size differs from the CRLF message");
	backlen = unstuff(wire, wlen, 0, 0, back, &bu, &bd);
	FUZZ_CHECK(bd && bu == wlen, "kp_stuff_finish", "stuffed message has no terminator "
		   "at its end");
	FUZZ_CHECK(backlen == wantlen && memcmp(back, want, wantlen) == 0, "kp_stuff_chunk",
		   "un-stuffing what was stuffed does not give the message back");

	/* 3. TOP n: never more than RETR, always terminated */
	kp_stuff_init(&st, size > 1 ? data[1] % 8 : 0);
	blen = kp_stuff_chunk(&st, in, size, wire);
	blen += kp_stuff_finish(&st, wire + blen);
	FUZZ_CHECK(blen <= wlen, "kp_stuff_chunk", "TOP sent more than RETR");
	backlen = unstuff(wire, blen, 0, 1, back, &bu, &bd);
	FUZZ_CHECK(bd && bu == blen, "kp_stuff_finish", "TOP output has no terminator at its end");
	free(a);
	free(b);
	free(wire);
	free(want);
	free(back);
	return 0;
}
