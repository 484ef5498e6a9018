/* test-dot.c - unit tests of kp_dot: stuffing, TOP, wire size, and un-stuffing fed
 * whole, a byte at a time and in random pieces. */
#include "config.h"

#include <stdlib.h>

#include "kp_dot.h"
#include "tap.h"

/* Stuff msg (RETR, or TOP when lines >= 0), fed in pieces of step bytes. */
static size_t
stuff(const char *msg, size_t n, long lines, size_t step, char *out)
{
	struct kp_stuff s;
	size_t i, o = 0;

	kp_stuff_init(&s, lines);
	for (i = 0; i < n; i += step)
		o += kp_stuff_chunk(&s, msg + i, n - i < step ? n - i : step, out + o);
	o += kp_stuff_finish(&s, out + o);
	return o;
}

/* Un-stuff wire fed in pieces of step bytes (0: random); *used_out is how much was
 * consumed when the terminator was seen. */
static size_t
unstuff(const char *wire, size_t n, size_t step, int lf, char *out, size_t *used_out, int *done)
{
	struct kp_unstuff u;
	size_t i = 0, o = 0;

	kp_unstuff_init(&u, lf);
	*done = 0;
	while (i < n && !*done) {
		size_t piece = step ? step : 1 + (size_t)(rand() % 7), used, outlen;

		if (piece > n - i)
			piece = n - i;
		*done = kp_unstuff_feed(&u, wire + i, piece, &used, out + o, &outlen);
		i += used;
		o += outlen;
	}
	*used_out = i;
	return o;
}

static unsigned long long
wire_size(const char *msg, size_t n, size_t step)
{
	struct kp_wire_size w;
	size_t i;

	kp_wire_size_init(&w);
	for (i = 0; i < n; i += step)
		kp_wire_size_feed(&w, msg + i, n - i < step ? n - i : step);
	return kp_wire_size_end(&w);
}

static void
check_stuff(const char *msg, long lines, const char *want, const char *name)
{
	char out[4096];
	size_t steps[] = { 1, 2, 3, 7, 4096 }, k;

	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		size_t n = stuff(msg, strlen(msg), lines, steps[k], out);

		T_EQ_MEM(out, n, want, strlen(want), name);
	}
}

/* For any message: stuffing then un-stuffing (CRLF kept) gives exactly wire_size
 * bytes, the same for every split, and un-stuffing stops right after ".CRLF". */
static void
check_roundtrip(const char *msg, size_t n, const char *name)
{
	char *wire = malloc(2 * n + 16), *back = malloc(2 * n + 16), *back2 = malloc(2 * n + 16);
	size_t wn, bn, bn2, used, k;
	size_t steps[] = { 1, 2, 5, 0, 100000 };
	int done;

	wn = stuff(msg, n, -1, 1000, wire);
	memcpy(wire + wn, "+OK next", 8); /* the next reply must stay unread */
	bn = unstuff(wire, wn + 8, 100000, 0, back, &used, &done);
	T_OK(done, name);
	T_EQ_INT(used, wn, "un-stuffing stops after the terminator");
	T_EQ_INT(bn, wire_size(msg, n, 1), "wire size = bytes delivered");
	T_EQ_INT(wire_size(msg, n, 3), wire_size(msg, n, 100000), "wire size is split-proof");
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		bn2 = unstuff(wire, wn + 8, steps[k], 0, back2, &used, &done);
		T_EQ_MEM(back2, bn2, back, bn, "un-stuffing is split-proof");
	}
	free(wire);
	free(back);
	free(back2);
}

int
main(void)
{
	char out[4096], bin[600];
	size_t n, used, i;
	int done;

	check_stuff("", -1, ".\r\n", "empty message");
	check_stuff("a\n", -1, "a\r\n.\r\n", "one line");
	check_stuff("a", -1, "a\r\n.\r\n", "no final newline gets CRLF");
	check_stuff("a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n", "CRLF kept");
	check_stuff("a\r", -1, "a\r\n.\r\n", "trailing CR completed");
	check_stuff("x\ry\n", -1, "x\ry\r\n.\r\n", "lone CR passed through");
	check_stuff(".\n..\n.x\nx.\n", -1, "..\r\n...\r\n..x\r\nx.\r\n.\r\n", "dots stuffed");
	check_stuff("\n\n", -1, "\r\n\r\n.\r\n", "empty lines");
	check_stuff("H: 1\nH: 2\n\nb1\nb2\nb3\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n", "TOP 0");
	check_stuff("H: 1\nH: 2\n\nb1\nb2\nb3\n", 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n", "TOP 2");
	check_stuff("H: 1\r\n\r\n.b1\r\nb2\r\n", 1, "H: 1\r\n\r\n..b1\r\n.\r\n", "TOP 1, CRLF, dot");
	check_stuff("H: 1\n\nb1", 5, "H: 1\r\n\r\nb1\r\n.\r\n", "TOP past the end");
	check_stuff("H: 1\nH: 2\n", 0, "H: 1\r\nH: 2\r\n.\r\n", "TOP without a body");

	T_EQ_INT(wire_size("", 0, 1), 0, "size of empty");
	T_EQ_INT(wire_size("a\nb", 3, 1), 6, "size counts LF as CRLF and adds the last CRLF");
	T_EQ_INT(wire_size("a\r\n", 3, 1), 3, "CRLF counted once");
	T_EQ_INT(wire_size("a\r", 2, 1), 3, "trailing CR");

	n = unstuff("..\r\n...\r\nx\r\n.\r\n", 16, 1, 1, out, &used, &done);
	T_OK(done, "terminator found");
	T_EQ_MEM(out, n, ".\n..\nx\n", 7, "un-stuffed with LF");
	n = unstuff("a\r\n.\n", 6, 1, 0, out, &used, &done);
	T_OK(done, ".LF terminates too");
	T_EQ_MEM(out, n, "a\r\n", 3, "CRLF kept");
	n = unstuff("a\r\n.x\r\n", 7, 1, 1, out, &used, &done);
	T_OK(!done, "no terminator yet");
	T_EQ_MEM(out, n, "a\nx\n", 4, "stray leading dot dropped");

	check_roundtrip("", 0, "roundtrip empty");
	check_roundtrip(".\n", 2, "roundtrip dot");
	check_roundtrip("a\r\r\n.\r\r\n", 8, "roundtrip CR CR LF");
	check_roundtrip("no newline", 10, "roundtrip no newline");
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7 + (i % 5 == 0 ? '\n' : 0));
	check_roundtrip(bin, sizeof(bin), "roundtrip binary");
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = "\r\n.x"[rand() % 4];
	check_roundtrip(bin, sizeof(bin), "roundtrip CR/LF/dot soup");
	return tap_summary();
}
