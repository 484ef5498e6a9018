/* kp_buf.c - a growable byte buffer with a hard maximum and a sticky error. */
#include "config.h"
#include "kp_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"

void
kp_buf_init(struct kp_buf *b, size_t max, int secret)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->secret = secret;
}

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static int
grow(struct kp_buf *b, size_t need)
{
	size_t ncap;
	unsigned char *p;

	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secret) {
		/* Never leave a copy of a secret behind in freed memory. */
		p = malloc(ncap);
		if (p == NULL)
			return KP_E_NOMEM;
		if (b->data != NULL) {
			memcpy(p, b->data, b->len + 1);
			wipe(b->data, b->cap);
			free(b->data);
		}
	} else {
		p = realloc(b->data, ncap);
		if (p == NULL)
			return KP_E_NOMEM;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
kp_buf_add(struct kp_buf *b, const void *data, size_t n)
{
	int rc;

	if (b->err != 0)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = KP_E_TOOBIG;
		return b->err;
	}
	if ((rc = grow(b, b->len + n)) != 0) {
		b->err = rc;
		return rc;
	}
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
kp_buf_addstr(struct kp_buf *b, const char *s)
{
	return kp_buf_add(b, s, strlen(s));
}

int
kp_buf_vaddf(struct kp_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	char small[256], *big = NULL;
	int n, rc;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(again);
		b->err = b->err ? b->err : KP_E_INTERNAL;
		return b->err;
	}
	if ((size_t)n < sizeof(small)) {
		va_end(again);
		rc = kp_buf_add(b, small, (size_t)n);
		if (b->secret)
			wipe(small, sizeof(small));
		return rc;
	}
	if ((size_t)n > b->max) {
		va_end(again);
		b->err = b->err ? b->err : KP_E_TOOBIG;
		return b->err;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		va_end(again);
		b->err = b->err ? b->err : KP_E_NOMEM;
		return b->err;
	}
	vsnprintf(big, (size_t)n + 1, fmt, again);
	va_end(again);
	rc = kp_buf_add(b, big, (size_t)n);
	if (b->secret)
		wipe(big, (size_t)n);
	free(big);
	return rc;
}

int
kp_buf_addf(struct kp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = kp_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
kp_buf_reset(struct kp_buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			wipe(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
	b->err = 0;
}

void
kp_buf_free(struct kp_buf *b)
{
	if (b->data != NULL && b->secret)
		wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

char *
kp_buf_steal(struct kp_buf *b, size_t *len_out)
{
	char *p = (char *)b->data;

	if (len_out != NULL)
		*len_out = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
	return p;
}
