/* kp_io.c - one connection's byte stream: read-ahead, capped line reader, buffered
 * writer, optional layer. */
#include "config.h"
#include "kp_io.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kp_err.h"

void
kp_io_sock_timeout(const struct kp_io *io, int timeout_ms)
{
	/* A peer that stops reading (or sending, in the middle of a TLS record or
	 * handshake) must not hold a blocking call forever: it then fails with
	 * EAGAIN and the poll that follows applies the timeout.  (Not a socket:
	 * nothing to set, the call just fails.) */
	struct timeval tv;
	int saved = errno;

	if (timeout_ms <= 0)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (io->wfd >= 0)
		(void)setsockopt(io->wfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (io->rfd >= 0)
		(void)setsockopt(io->rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	errno = saved;
}

void
kp_io_init(struct kp_io *io, int rfd, int wfd, int timeout_ms)
{
	kp_io_init_sock(io, rfd, wfd, timeout_ms, timeout_ms);
}

void
kp_io_init_sock(struct kp_io *io, int rfd, int wfd, int timeout_ms, int sock_ms)
{
	io->rfd = rfd;
	io->wfd = wfd;
	io->timeout_ms = timeout_ms;
	kp_io_sock_timeout(io, sock_ms);
	memset(&io->layer, 0, sizeof(io->layer));
	io->rpos = io->rlen = io->wlen = 0;
	io->err = 0;
	io->bytes_in = io->bytes_out = 0;
}

long long
kp_io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The process's deadline for every wait (0: none); see kp_io_set_deadline. */
static long long io_deadline;

void
kp_io_set_deadline(long long at_ms)
{
	io_deadline = at_ms;
}

int
kp_io_deadline_passed(void)
{
	return io_deadline > 0 && kp_io_now_ms() >= io_deadline;
}

int
kp_io_wait_readable(int fd, int ms)
{
	struct pollfd p;
	int r;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	do
		r = poll(&p, 1, ms < 0 ? -1 : ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return KP_E_IO;
	return r > 0 ? 1 : 0;
}

int
kp_io_wait(int fd, short events, int ms)
{
	struct pollfd p;
	int r;

	if (io_deadline > 0) {
		long long rest = io_deadline - kp_io_now_ms();

		if (rest <= 0)
			return KP_E_TIMEOUT;
		if (ms <= 0 || ms > rest)
			ms = (int)rest;
	}
	p.fd = fd;
	p.events = events;
	p.revents = 0;
	do
		r = poll(&p, 1, ms <= 0 ? -1 : ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return KP_E_IO;
	if (r == 0)
		return KP_E_TIMEOUT;
	return 0;
}

int
kp_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return KP_E_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
kp_io_lower_take(const struct kp_io *io, struct kp_io_lower *out)
{
	out->layer = io->layer;
	out->rfd = io->rfd;
	out->wfd = io->wfd;
	out->timeout_ms = io->timeout_ms;
}

ssize_t
kp_io_lower_read(const struct kp_io_lower *lo, void *buf, size_t n)
{
	for (;;) {
		ssize_t r;
		int rc;

		if (lo->layer.read != NULL)
			return lo->layer.read(lo->layer.ctx, buf, n);
		if ((rc = kp_io_wait(lo->rfd, POLLIN, lo->timeout_ms)) != 0)
			return rc;
		r = read(lo->rfd, buf, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		return r < 0 ? KP_E_IO : r;
	}
}

int
kp_io_lower_write(const struct kp_io_lower *lo, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	/* The timeout bounds the whole buffer, not each write: a peer whose window
	 * stays shut can still have the kernel take a few KB every SO_SNDTIMEO (seen:
	 * 32 KB per 2 s), and a write that makes progress never fails on its own. */
	long long start = lo->timeout_ms > 0 ? kp_io_now_ms() : 0;

	while (n > 0) {
		ssize_t w;
		int rc;

		if (start > 0 && kp_io_now_ms() - start >= lo->timeout_ms)
			return KP_E_TIMEOUT;

		if (lo->layer.write != NULL) {
			w = lo->layer.write(lo->layer.ctx, p, n);
			if (w <= 0)
				return w < 0 ? (int)w : KP_E_IO;
		} else {
			w = write(lo->wfd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				if ((rc = kp_io_wait(lo->wfd, POLLOUT, lo->timeout_ms)) != 0)
					return rc;
				continue;
			}
			if (w <= 0)
				return KP_E_IO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

size_t
kp_io_lower_pending(const struct kp_io_lower *lo)
{
	return lo->layer.pending != NULL ? lo->layer.pending(lo->layer.ctx) : 0;
}

/* Write n bytes from p to the transport, all of them. */
static int
write_raw(struct kp_io *io, const unsigned char *p, size_t n)
{
	struct kp_io_lower lo;
	int rc;

	kp_io_lower_take(io, &lo);
	rc = kp_io_lower_write(&lo, p, n);
	if (rc == 0)
		io->bytes_out += (unsigned long long)n;
	return rc;
}

int
kp_io_flush(struct kp_io *io)
{
	int rc;

	if (io->err != 0)
		return io->err;
	if (io->wlen == 0)
		return 0;
	rc = write_raw(io, io->wbuf, io->wlen);
	io->wlen = 0;
	if (rc != 0)
		io->err = rc;
	return rc;
}

int
kp_io_set_layer(struct kp_io *io, const struct kp_io_layer *layer)
{
	int rc = kp_io_flush(io);

	if (rc != 0)
		return rc;
	if (layer != NULL)
		io->layer = *layer;
	else
		memset(&io->layer, 0, sizeof(io->layer));
	return 0;
}

size_t
kp_io_buffered(const struct kp_io *io)
{
	return io->rlen - io->rpos;
}

size_t
kp_io_discard_input(struct kp_io *io)
{
	size_t n = io->rlen - io->rpos;

	io->rpos = io->rlen = 0;
	return n;
}

/* Read more input into the (empty) read-ahead buffer. */
static int
fill_raw(struct kp_io *io)
{
	ssize_t r;
	int rc;

	/* Answers to everything read so far go out before we wait: this batches
	 * pipelined replies and keeps both sides from waiting on each other. */
	if ((rc = kp_io_flush(io)) != 0)
		return rc;
	io->rpos = io->rlen = 0;
	for (;;) {
		if (io->layer.read == NULL || io->layer.pending == NULL ||
		    io->layer.pending(io->layer.ctx) == 0) {
			if ((rc = kp_io_wait(io->rfd, POLLIN, io->timeout_ms)) != 0)
				return rc;
		}
		if (io->layer.read != NULL) {
			r = io->layer.read(io->layer.ctx, io->rbuf, sizeof(io->rbuf));
			if (r < 0)
				return (int)r;
		} else {
			r = read(io->rfd, io->rbuf, sizeof(io->rbuf));
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
					continue;
				return KP_E_IO;
			}
		}
		if (r == 0)
			return KP_E_EOF;
		io->bytes_in += (unsigned long long)r;
		io->rlen = (size_t)r;
		return 0;
	}
}

int
kp_io_fill(struct kp_io *io)
{
	if (io->rpos < io->rlen)
		return 0;
	return fill_raw(io);
}

ssize_t
kp_io_read_some(struct kp_io *io, void *buf, size_t n)
{
	size_t avail;
	int rc;

	if (io->rpos == io->rlen && (rc = fill_raw(io)) != 0)
		return rc;
	avail = io->rlen - io->rpos;
	if (n > avail)
		n = avail;
	memcpy(buf, io->rbuf + io->rpos, n);
	io->rpos += n;
	return (ssize_t)n;
}

int
kp_io_read_line(struct kp_io *io, char *line, size_t max, size_t *len_out)
{
	size_t n = 0, drained = 0;
	int toolong = 0, nul = 0, rc;

	*len_out = 0;
	line[0] = '\0';
	for (;;) {
		const unsigned char *p, *nl;
		size_t avail, take;

		if (io->rpos == io->rlen && (rc = fill_raw(io)) != 0)
			return rc;
		p = io->rbuf + io->rpos;
		avail = io->rlen - io->rpos;
		nl = memchr(p, '\n', avail);
		take = nl != NULL ? (size_t)(nl - p) + 1 : avail;
		if (memchr(p, '\0', take) != NULL)
			nul = 1;
		if (!toolong && n + take <= max) {
			memcpy(line + n, p, take);
			n += take;
		} else {
			toolong = 1;
		}
		io->rpos += take;
		drained += take;
		if (nl != NULL)
			break;
		if (toolong && drained > KP_LINE_DRAIN_MAX)
			return KP_E_PROTO;
	}
	if (toolong)
		return KP_E_TOOLONG;
	if (nul)
		return KP_E_NUL;
	n--; /* the LF */
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len_out = n;
	return 0;
}

int
kp_io_write(struct kp_io *io, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (io->err != 0)
		return io->err;
	while (n > 0) {
		size_t space = sizeof(io->wbuf) - io->wlen, take;

		if (space == 0) {
			if (kp_io_flush(io) != 0)
				return io->err;
			continue;
		}
		take = n < space ? n : space;
		memcpy(io->wbuf + io->wlen, p, take);
		io->wlen += take;
		p += take;
		n -= take;
	}
	return 0;
}

int
kp_io_puts(struct kp_io *io, const char *s)
{
	return kp_io_write(io, s, strlen(s));
}

int
kp_io_printf(struct kp_io *io, const char *fmt, ...)
{
	char small[1024], *big;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return KP_E_INTERNAL;
	if ((size_t)n < sizeof(small))
		return kp_io_write(io, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (big == NULL)
		return KP_E_NOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = kp_io_write(io, big, (size_t)n);
	free(big);
	return rc;
}
