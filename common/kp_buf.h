/* kp_buf.h - a growable byte buffer with a hard maximum and a sticky error. */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kp_buf {
	unsigned char *data; /* owned; NUL-terminated after every successful add */
	size_t len;          /* bytes used (without the terminating NUL) */
	size_t cap;          /* bytes allocated */
	size_t max;          /* hard maximum for len, fixed at init */
	int err;             /* sticky: first error of any add, 0 if none */
	int secret;          /* zero memory on reset, growth and free */
};

/* Initialise an empty buffer that may grow to max bytes.  secret != 0 zeroes every
 * copy before release (passwords, tokens). */
void kp_buf_init(struct kp_buf *b, size_t max, int secret);

/* Append n bytes.  Returns 0, KP_E_TOOBIG (len would pass max) or KP_E_NOMEM; on error
 * the buffer is unchanged and b->err is set (and stays set until reset). */
int kp_buf_add(struct kp_buf *b, const void *data, size_t n);
int kp_buf_addstr(struct kp_buf *b, const char *s);
int kp_buf_addf(struct kp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kp_buf_vaddf(struct kp_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Drop the contents (zeroed if secret) and clear the sticky error; keeps memory. */
void kp_buf_reset(struct kp_buf *b);

/* Release memory (zeroed first if secret); the buffer is empty and reusable. */
void kp_buf_free(struct kp_buf *b);

/* Hand the contents to the caller (NUL-terminated, caller frees); buffer is empty.
 * Returns NULL if the buffer is empty and never allocated. */
char *kp_buf_steal(struct kp_buf *b, size_t *len_out);

#endif
