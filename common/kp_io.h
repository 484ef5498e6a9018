/* kp_io.h - one connection's byte stream: read-ahead, capped line reader, buffered
 * writer, and an optional layer (TLS, SASL security layer) under both. */
#ifndef KP_IO_H
#define KP_IO_H

#include <stddef.h>
#include <sys/types.h>
#include "kp_limits.h"

/* A layer wraps the raw descriptors (TLS, a SASL security layer).  read returns the
 * number of bytes (> 0), 0 at end of stream, or a negative KP_E_*; write returns the
 * number of bytes written (> 0) or a negative KP_E_*.  pending tells how many
 * decoded bytes the layer already holds (so no poll() is needed before read). */
struct kp_io_layer {
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	ssize_t (*write)(void *ctx, const void *buf, size_t n);
	size_t (*pending)(void *ctx);
	void *ctx;
};

/* What lies below a layer that is being stacked: the layer in place before it (TLS),
 * or the descriptors themselves.  The one place that reads and writes the
 * descriptors of a layered stream, with EINTR, EAGAIN and the timeout handled. */
struct kp_io_lower {
	struct kp_io_layer layer; /* layer.read == NULL: the descriptors */
	int rfd, wfd, timeout_ms;
};

struct kp_io {
	int rfd, wfd;         /* not owned: the caller closes them */
	int timeout_ms;       /* each wait for input or output; <= 0 waits forever */
	struct kp_io_layer layer; /* layer.read == NULL: plain descriptors */
	unsigned char rbuf[KP_IO_RBUF];
	size_t rpos, rlen;    /* unread input is rbuf[rpos .. rlen) */
	unsigned char wbuf[KP_IO_WBUF];
	size_t wlen;
	int err;              /* sticky write error; later writes are dropped */
	unsigned long long bytes_in, bytes_out; /* counted at the descriptor level */
};

void kp_io_init(struct kp_io *io, int rfd, int wfd, int timeout_ms);
/* The same with the sockets' own timeouts (kp_io_sock_timeout) at sock_ms. */
void kp_io_init_sock(struct kp_io *io, int rfd, int wfd, int timeout_ms, int sock_ms);

/* Bound each blocking read or write of the descriptors (SO_RCVTIMEO, SO_SNDTIMEO)
 * to timeout_ms; kp_io_init sets it to its timeout.  Ignored for non-sockets. */
void kp_io_sock_timeout(const struct kp_io *io, int timeout_ms);

/* A deadline for every wait of this process (kp_io_wait and all that use it: the
 * line reader, TLS, the SASL layer), on the kp_io_now_ms clock; 0 clears it.  Past
 * it, waits fail with KP_E_TIMEOUT at once.  One session per process: the server
 * uses it for "logged in within login_timeout, whatever was sent". */
void kp_io_set_deadline(long long at_ms);
int kp_io_deadline_passed(void);
long long kp_io_now_ms(void);

/* Put a layer under the stream from now on.  Unread input in the read-ahead buffer is
 * kept (call kp_io_discard_input first where it must not survive, e.g. after STLS);
 * buffered output is flushed through the old transport first. */
int kp_io_set_layer(struct kp_io *io, const struct kp_io_layer *layer);

/* The transport under io as it is now (for a layer about to be stacked on it). */
void kp_io_lower_take(const struct kp_io *io, struct kp_io_lower *out);

/* Read up to n bytes from the lower transport, waiting up to its timeout: bytes
 * (> 0), 0 at end of stream, or a negative KP_E_*. */
ssize_t kp_io_lower_read(const struct kp_io_lower *lo, void *buf, size_t n);

/* Write all n bytes to the lower transport.  0 or a negative KP_E_*. */
int kp_io_lower_write(const struct kp_io_lower *lo, const void *buf, size_t n);

/* Decoded bytes the lower layer already holds (0 for the descriptors). */
size_t kp_io_lower_pending(const struct kp_io_lower *lo);

/* Bytes of input already read ahead (not yet consumed). */
size_t kp_io_buffered(const struct kp_io *io);

/* Drop all read-ahead input (STARTTLS command-injection defence). Returns bytes dropped. */
size_t kp_io_discard_input(struct kp_io *io);

/* Read one line terminated by LF (a preceding CR is removed too).  max is the most
 * octets the line may take including its CRLF; line must hold max + 1 bytes.  On
 * success line is NUL-terminated without the line end and *len_out is its length.
 * Returns 0; KP_E_TOOLONG or KP_E_NUL after draining the rest of the bad line (the
 * stream stays usable); KP_E_PROTO if more than KP_LINE_DRAIN_MAX bytes arrive
 * without a line feed; KP_E_EOF (also for a final line without LF); KP_E_TIMEOUT;
 * KP_E_IO.  Pending output is flushed before waiting for input. */
int kp_io_read_line(struct kp_io *io, char *line, size_t max, size_t *len_out);

/* Read up to n bytes: from the read-ahead first, else one read of the transport.
 * Returns bytes (> 0), or KP_E_EOF / KP_E_TIMEOUT / KP_E_IO.  Flushes output first. */
ssize_t kp_io_read_some(struct kp_io *io, void *buf, size_t n);

/* Make sure at least one byte is read ahead (waiting at most timeout_ms).
 * Returns 0, KP_E_EOF, KP_E_TIMEOUT or KP_E_IO. Flushes output first. */
int kp_io_fill(struct kp_io *io);

/* Buffered writes; the buffer is flushed when full.  Return 0 or the sticky error. */
int kp_io_write(struct kp_io *io, const void *data, size_t n);
int kp_io_puts(struct kp_io *io, const char *s);
int kp_io_printf(struct kp_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kp_io_flush(struct kp_io *io);

/* Wait up to ms for the descriptor to become readable (ignores read-ahead and layer).
 * Returns 1 readable, 0 timed out, KP_E_IO. */
int kp_io_wait_readable(int fd, int ms);

/* Wait for events (POLLIN / POLLOUT) on fd, up to ms (<= 0: forever), retrying on
 * EINTR.  Returns 0 ready, KP_E_TIMEOUT or KP_E_IO.  Used by the layers too. */
int kp_io_wait(int fd, short events, int ms);

/* Write all n bytes to a blocking descriptor (EINTR retried).  0 or KP_E_IO. */
int kp_write_all(int fd, const void *buf, size_t n);

#endif
