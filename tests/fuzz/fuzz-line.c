/* fuzz-line.c - the line reader (kp_io_read_line) at the command cap (RFC 2449's
 * 255), the AUTH continuation cap (32 KiB) and small caps, fed through a layer that
 * hands the input over in chunks of varying size.  Every result is checked against
 * a model of the contract: the line's bytes, TOOLONG for a line past the cap, NUL
 * for a NUL in it, EOF for an unterminated end, and nothing consumed beyond one
 * line. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"

struct chunks {
	const uint8_t *p;
	size_t left;
	uint32_t rng;
};

static ssize_t
chunk_read(void *ctx, void *buf, size_t n)
{
	struct chunks *c = ctx;
	uint32_t r = fuzz_rng(&c->rng);
	size_t take = 1 + r % (r & 0x100 ? 7 : 4096);

	if (take > n)
		take = n;
	if (take > c->left)
		take = c->left;
	memcpy(buf, c->p, take);
	c->p += take;
	c->left -= take;
	return (ssize_t)take;
}

static ssize_t
chunk_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)n;
}

static size_t
chunk_pending(void *ctx)
{
	return ((struct chunks *)ctx)->left;
}

static struct kp_io io;
static char line[KP_AUTH_LINE_MAX + 1];
static int empty_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	empty_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* readable, at its end */
	return empty_fd < 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunks ch;
	struct kp_io_layer layer;
	const uint8_t *in;
	size_t max, pos = 0, n;

	if (size < 2)
		return 0;
	switch (data[0] % 4) {
	case 0: max = KP_CMD_LINE_MAX; break;
	case 1: max = KP_AUTH_LINE_MAX; break;
	default: max = 1 + data[0] / 4; break; /* small caps: the edges are reachable */
	}
	ch.rng = 0x9e3779b9u ^ data[1];
	in = data + 2;
	size -= 2;
	ch.p = in;
	ch.left = size;
	kp_io_init(&io, empty_fd, fuzz_null_fd(), 1000);
	layer.read = chunk_read;
	layer.write = chunk_write;
	layer.pending = chunk_pending;
	layer.ctx = &ch;
	FUZZ_CHECK(kp_io_set_layer(&io, &layer) == 0, "kp_io_set_layer", "failed");
	for (;;) {
		const uint8_t *nl = pos < size ? memchr(in + pos, '\n', size - pos) : NULL;
		size_t seg = nl != NULL ? (size_t)(nl - (in + pos)) + 1 : 0;
		int rc = kp_io_read_line(&io, line, max, &n);

		if (nl == NULL) {
			FUZZ_CHECK(rc == KP_E_EOF, "kp_io_read_line",
				   "no EOF for input without a line feed");
			break;
		}
		if (seg > max) {
			FUZZ_CHECK(rc == KP_E_TOOLONG, "kp_io_read_line",
				   "a line past the cap was not TOOLONG");
		} else if (memchr(in + pos, '\0', seg) != NULL) {
			FUZZ_CHECK(rc == KP_E_NUL, "kp_io_read_line", "a NUL was let through");
		} else {
			size_t want = seg - 1;

			if (want > 0 && in[pos + want - 1] == '\r')
				want--;
			FUZZ_CHECK(rc == 0, "kp_io_read_line", "a good line was refused");
			FUZZ_CHECK(n == want && memcmp(line, in + pos, n) == 0 && line[n] == '\0',
				   "kp_io_read_line", "the line is not the input's line");
		}
		pos += seg;
		FUZZ_CHECK(kp_io_buffered(&io) + ch.left == size - pos, "kp_io_read_line",
			   "consumed more than one line");
	}
	return 0;
}
