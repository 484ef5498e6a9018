/* kp_saslio.c - a negotiated SASL security layer as a kp_io layer. */
#include "config.h"
#include "kp_saslio.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_log.h"

struct kp_saslio {
	sasl_conn_t *conn;     /* not owned */
	struct kp_io_lower lower; /* TLS under the SASL layer, or the descriptors */
	unsigned ssf, maxout;
	const char *dec;       /* decoded bytes not yet handed out (owned by libsasl2) */
	unsigned declen, decpos;
	char raw[16384];
};

static ssize_t
layer_read(void *ctx, void *buf, size_t n)
{
	struct kp_saslio *l = ctx;
	size_t take;

	while (l->decpos == l->declen) {
		ssize_t r;
		int sr;

		r = kp_io_lower_read(&l->lower, l->raw, sizeof(l->raw));
		if (r <= 0)
			return r;
		/* sasl_decode buffers partial packets; it returns data when one is whole */
		if ((sr = sasl_decode(l->conn, l->raw, (unsigned)r, &l->dec, &l->declen)) !=
		    SASL_OK) {
			/* sasl_errdetail would repeat a stale message from the
			 * authentication; the cause is this packet */
			kp_log(KP_LOG_WARN, "security layer: could not decode the peer's data "
			       "(%s; the peer sent unprotected bytes, or a corrupted or "
			       "oversized packet?)", sasl_errstring(sr, NULL, NULL));
			l->declen = l->decpos = 0;
			return KP_E_LAYER;
		}
		l->decpos = 0;
	}
	take = l->declen - l->decpos;
	if (take > n)
		take = n;
	memcpy(buf, l->dec + l->decpos, take);
	l->decpos += (unsigned)take;
	return (ssize_t)take;
}

static ssize_t
layer_write(void *ctx, const void *buf, size_t n)
{
	struct kp_saslio *l = ctx;
	const char *out;
	unsigned outlen, chunk = n > l->maxout ? l->maxout : (unsigned)n;
	int rc;

	if (sasl_encode(l->conn, buf, chunk, &out, &outlen) != SASL_OK) {
		kp_log(KP_LOG_WARN, "security layer: encode failed: %s", sasl_errdetail(l->conn));
		return KP_E_LAYER;
	}
	if ((rc = kp_io_lower_write(&l->lower, out, outlen)) != 0)
		return rc;
	return (ssize_t)chunk;
}

static size_t
layer_pending(void *ctx)
{
	struct kp_saslio *l = ctx;

	/* bytes TLS already decrypted count too: no poll() is needed to get them */
	if (l->declen - l->decpos > 0)
		return l->declen - l->decpos;
	return kp_io_lower_pending(&l->lower);
}

int
kp_saslio_start(struct kp_io *io, sasl_conn_t *conn, struct kp_saslio **out)
{
	struct kp_saslio *l;
	struct kp_io_layer layer;
	const void *p;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return KP_E_NOMEM;
	l->conn = conn;
	kp_io_lower_take(io, &l->lower); /* stacked on TLS when TLS is active */
	if (sasl_getprop(conn, SASL_SSF, &p) == SASL_OK && p != NULL)
		l->ssf = *(const unsigned *)p;
	if (sasl_getprop(conn, SASL_MAXOUTBUF, &p) == SASL_OK && p != NULL)
		l->maxout = *(const unsigned *)p;
	if (l->ssf == 0 || l->maxout == 0) {
		free(l);
		return KP_E_LAYER;
	}
	if (l->maxout > 65536)
		l->maxout = 65536;
	memset(&layer, 0, sizeof(layer));
	layer.read = layer_read;
	layer.write = layer_write;
	layer.pending = layer_pending;
	layer.ctx = l;
	if (kp_io_set_layer(io, &layer) != 0) {
		free(l);
		return KP_E_LAYER;
	}
	*out = l;
	return 0;
}

unsigned
kp_saslio_ssf(const struct kp_saslio *l)
{
	return l->ssf;
}

unsigned
kp_saslio_maxout(const struct kp_saslio *l)
{
	return l->maxout;
}

void
kp_saslio_free(struct kp_saslio *l)
{
	free(l);
}
