/* fuzz-client.c - kpop against a hostile server (client/pop3c.c): the input is what
 * the server sends.  The greeting and CAPA are read, then replies, multi-line
 * answers and message bodies in an order drawn from the first byte, as kpop reads
 * them.  Checked: reply lines and listed lines hold no LF and stay within
 * their caps, a body past its bound is refused with nothing past it delivered,
 * and a body whose consumer
 * fails (a full disk) still leaves the stream exactly where a good one would. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "kp_limits.h"
#include "client/pop3c.h"

static struct pop3c cli[2];
static char big[KP_AUTH_LINE_MAX + 1];

FUZZ_QUIET_INIT

static int
on_line(void *arg, const char *line)
{
	unsigned long *n = arg;

	FUZZ_CHECK(strlen(line) <= KP_CLIENT_REPLY_MAX && strchr(line, '\n') == NULL,
		   "pop3c_lines", "a listed line holds LF or is over the cap");
	return ++*n > 5 ? KP_E_TOOBIG : 0; /* the caller may stop taking lines */
}

struct body {
	unsigned long long got;
	int fail;
};

static int
on_body(void *arg, const char *data, size_t n)
{
	struct body *b = arg;

	(void)data;
	b->got += n;
	return b->fail ? KP_E_IO : 0;
}

static void
open_cli(struct pop3c *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_s = 1;
	kp_io_init(&c->io, fd, fuzz_null_fd(), 1000);
	c->state = PC_CONNECTED;
}

/* Where the stream of c is: input consumed, read-ahead not counted. */
static unsigned long long
consumed(const struct pop3c *c)
{
	return c->io.bytes_in - kp_io_buffered(&c->io);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t rng;
	int fd[2], rc, step, i;

	if (size < 1)
		return 0;
	rng = data[0] | 0x100;
	for (i = 0; i < 2; i++) {
		fd[i] = fuzz_input_fd(data + 1, size - 1);
		open_cli(&cli[i], fd[i]);
	}
	rc = pop3c_greeting(&cli[0]);
	if (rc == 0 && (data[0] & 1))
		rc = pop3c_capa(&cli[0]);
	for (step = 0; rc >= 0 && step < 16; step++) {
		uint32_t r = fuzz_rng(&rng);
		unsigned long lines = 0;

		switch (r % 4) {
		case 0:
			rc = pop3c_reply(&cli[0]);
			if (rc > 0)
				FUZZ_CHECK(strchr(cli[0].line, '\n') == NULL &&
					   strlen(cli[0].line) < KP_CLIENT_REPLY_MAX,
					   "pop3c_reply", "a reply with LF or over the cap");
			break;
		case 1:
			rc = pop3c_reply_big(&cli[0], big, KP_AUTH_LINE_MAX);
			break;
		case 2:
			rc = pop3c_lines(&cli[0], on_line, &lines);
			FUZZ_CHECK(rc != 0 || lines <= 5, "pop3c_lines",
				   "the consumer's error was lost");
			break;
		default: {
			/* the same body twice: taken whole, and with a failing consumer */
			unsigned long long max = (r >> 8) % 4096 + 1, at;
			struct body good = { 0, 0 }, bad = { 0, 1 };
			int rc2;

			/* bring the twin to the same place */
			at = consumed(&cli[0]);
			close(fd[1]);
			fd[1] = fuzz_input_fd(data + 1, size - 1);
			open_cli(&cli[1], fd[1]);
			cli[1].state = cli[0].state;
			if (lseek(fd[1], (off_t)at, SEEK_SET) != (off_t)at)
				abort();
			rc = pop3c_body(&cli[0], max, on_body, &good);
			rc2 = pop3c_body(&cli[1], max, on_body, &bad);
			FUZZ_CHECK(rc != 0 || consumed(&cli[0]) - at <= max, "pop3c_body",
				   "a body past its bound was taken");
			FUZZ_CHECK(good.got <= consumed(&cli[0]) - at && good.got <= max,
				   "pop3c_body", "delivered more than it read, or past the bound");
			if (rc == 0) {
				FUZZ_CHECK(rc2 == KP_E_IO || (rc2 == 0 && bad.got == 0),
					   "pop3c_body", "the consumer's error was lost");
				FUZZ_CHECK(consumed(&cli[1]) == consumed(&cli[0]) - at, /* cli[1] counts from at */
					   "pop3c_body", "a failing consumer left the stream "
					   "out of step");
			}
			break;
		}
		}
	}
	for (i = 0; i < 2; i++)
		close(fd[i]);
	return 0;
}
