/* test-io.c - unit tests of kp_io: the capped line reader (whole and a byte at a
 * time), NUL, over-long lines, drain limit, EOF, timeout, flush before read. */
#include "config.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "tap.h"

/* A layer that hands out input one byte per read, from a fixed string. */
struct drip {
	const char *data;
	size_t len, pos;
};

static ssize_t
drip_read(void *ctx, void *buf, size_t n)
{
	struct drip *d = ctx;

	(void)n;
	if (d->pos == d->len)
		return 0;
	((char *)buf)[0] = d->data[d->pos++];
	return 1;
}

/* Never blocks: at the end, read reports end of stream. */
static size_t
drip_pending(void *ctx)
{
	(void)ctx;
	return 1;
}

static ssize_t
drip_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)n;
}

/* Read every line of input; record "line|" or "<ERR n>|" into log. */
static void
read_all(const char *input, size_t len, int one_byte, size_t max, char *log, size_t cap)
{
	struct kp_io *io = malloc(sizeof(*io));
	struct drip d = { input, len, 0 };
	struct kp_io_layer layer = { drip_read, drip_write, drip_pending, &d };
	char *line = malloc(max + 1);
	int p[2] = { -1, -1 };

	log[0] = '\0';
	if (one_byte) {
		kp_io_init(io, -1, -1, 1000);
		kp_io_set_layer(io, &layer);
	} else {
		if (pipe(p) != 0)
			abort();
		/* everything fits in the pipe buffer for these tests */
		if (write(p[1], input, len) != (ssize_t)len)
			abort();
		close(p[1]);
		kp_io_init(io, p[0], -1, 1000);
	}
	for (;;) {
		size_t n;
		int rc = kp_io_read_line(io, line, max, &n);
		size_t used = strlen(log);

		if (rc == KP_E_EOF)
			break;
		if (rc == 0)
			snprintf(log + used, cap - used, "%s|", line);
		else
			snprintf(log + used, cap - used, "<%d>|", rc);
		if (rc == KP_E_PROTO || rc == KP_E_IO || rc == KP_E_TIMEOUT)
			break;
	}
	if (p[0] >= 0)
		close(p[0]);
	free(line);
	free(io);
}

static void
lines(const char *input, size_t len, size_t max, const char *want, const char *name)
{
	char log[4096];

	read_all(input, len, 0, max, log, sizeof(log));
	T_EQ_STR(log, want, name);
	read_all(input, len, 1, max, log, sizeof(log));
	T_EQ_STR(log, want, name);
}

int
main(void)
{
	char buf[600], want[700], *huge;
	struct kp_io *io = malloc(sizeof(*io));
	int sv[2], p[2];
	size_t n;
	ssize_t r;

	lines("A\r\nB\nC\r\n", 9, 255, "A|B|C|", "CRLF and LF");
	lines("\r\n\n", 3, 255, "||", "empty lines");
	lines("A\r\nB", 4, 255, "A|", "EOF in a line loses it");
	lines("A\0B\r\nC\r\n", 8, 255, "<-4>|C|", "NUL rejected, next line read");
	lines("a\rb\r\n", 5, 255, "a\rb|", "lone CR kept");
	/* 255-octet cap including CRLF: 253 + CRLF fits, 254 + CRLF does not */
	memset(buf, 'x', 254);
	memcpy(buf + 253, "\r\nok\r\n", 6);
	snprintf(want, sizeof(want), "%.253s|ok|", buf);
	lines(buf, 259, KP_CMD_LINE_MAX, want, "253 + CRLF accepted");
	memset(buf, 'x', 254);
	memcpy(buf + 254, "\r\nok\r\n", 6);
	lines(buf, 260, KP_CMD_LINE_MAX, "<-3>|ok|", "254 + CRLF refused, next line read");
	memset(buf, 'x', 254);
	memcpy(buf + 254, "\nok\r\n", 5);
	snprintf(want, sizeof(want), "%.254s|ok|", buf);
	lines(buf, 259, KP_CMD_LINE_MAX, want, "254 + LF accepted");

	/* more than KP_LINE_DRAIN_MAX without LF: the peer is dropped */
	huge = malloc(KP_LINE_DRAIN_MAX + 100);
	memset(huge, 'y', KP_LINE_DRAIN_MAX + 100);
	{
		struct drip d = { huge, KP_LINE_DRAIN_MAX + 100, 0 };
		struct kp_io_layer layer = { drip_read, drip_write, drip_pending, &d };
		char line[KP_CMD_LINE_MAX + 1];
		int rc;

		kp_io_init(io, -1, -1, 1000);
		kp_io_set_layer(io, &layer);
		rc = kp_io_read_line(io, line, KP_CMD_LINE_MAX, &n);
		T_EQ_INT(rc, KP_E_PROTO, "endless line dropped");
	}
	free(huge);

	/* a long AUTH-style line with a bigger cap */
	huge = malloc(KP_AUTH_LINE_MAX + 10);
	memset(huge, 'Q', 20000);
	memcpy(huge + 20000, "\r\n", 2);
	{
		char *biglog = malloc(40000);

		read_all(huge, 20002, 1, KP_AUTH_LINE_MAX, biglog, 40000);
		T_EQ_INT(strlen(biglog), 20001, "20000-byte AUTH line read a byte at a time");
		free(biglog);
	}
	free(huge);

	/* timeout */
	if (pipe(p) != 0)
		abort();
	kp_io_init(io, p[0], -1, 50);
	T_EQ_INT(kp_io_read_line(io, buf, 255, &n), KP_E_TIMEOUT, "timeout");
	close(p[0]);
	close(p[1]);

	/* pending output is flushed before the reader waits */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	kp_io_init(io, sv[0], sv[0], 200);
	kp_io_puts(io, "+OK hi\r\n");
	T_EQ_INT(kp_io_read_line(io, buf, 255, &n), KP_E_TIMEOUT, "nothing to read");
	r = read(sv[1], buf, sizeof(buf));
	T_EQ_MEM(buf, r < 0 ? 0 : (size_t)r, "+OK hi\r\n", 8, "flushed before waiting");
	T_EQ_INT(io->bytes_out, 8, "bytes_out counted");
	/* read_some takes the read-ahead first and leaves the rest */
	if (write(sv[1], "L1\r\nREST", 8) != 8)
		abort();
	T_EQ_INT(kp_io_read_line(io, buf, 255, &n), 0, "line before raw bytes");
	r = kp_io_read_some(io, buf, 2);
	T_EQ_MEM(buf, (size_t)r, "RE", 2, "read_some from read-ahead");
	T_EQ_INT(kp_io_buffered(io), 2, "two bytes left");
	T_EQ_INT(kp_io_discard_input(io), 2, "discard drops them");
	close(sv[1]);
	T_EQ_INT(kp_io_read_line(io, buf, 255, &n), KP_E_EOF, "EOF");
	close(sv[0]);
	free(io);
	return tap_summary();
}
