/* kp_gsslayer.c - the RFC 4752 security layer over an imported GSS-API context. */
#include "config.h"
#include "kp_gsslayer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gssapi/gssapi.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"

/* Every log line about the peer's packets starts like this (tests grep it). */
#define PEER_DATA "security layer: could not decode the peer's data"
#define PEER_HINT "the peer sent unprotected bytes, or a corrupted or oversized packet?"

struct kp_gsslayer {
	gss_ctx_id_t ctx;
	struct kp_io_lower lower; /* TLS under this layer, or the descriptors */
	int conf;                 /* privacy: tokens are encrypted both ways */
	unsigned ssf;
	size_t maxtok;            /* largest token the peer accepts */
	size_t maxout;            /* most plaintext per output packet */
	/* input: raw[rpos .. rlen) holds received bytes not yet unwrapped */
	unsigned char raw[4 + KP_SASL_MAXBUF];
	size_t rpos, rlen;
	gss_buffer_desc dec;      /* the unwrapped packet being handed out */
	size_t decpos;
	/* output over TLS: length and token in one write, so one TLS record */
	unsigned char *wbuf;
	size_t wcap;
};

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
release_dec(struct kp_gsslayer *l)
{
	OM_uint32 min;

	if (l->dec.value != NULL) {
		explicit_bzero(l->dec.value, l->dec.length);
		gss_release_buffer(&min, &l->dec);
	}
	l->dec.value = NULL;
	l->dec.length = 0;
	l->decpos = 0;
}

/* Unwrap the packet at raw[rpos] if it is complete.  Returns 1 unwrapped, 0 more
 * bytes needed, KP_E_LAYER for a packet we must refuse (logged). */
static int
unwrap_one(struct kp_gsslayer *l)
{
	gss_buffer_desc in;
	OM_uint32 maj, min;
	uint32_t len;
	int conf = 0;

	if (l->rlen - l->rpos < 4)
		return 0;
	len = be32(l->raw + l->rpos);
	if (len == 0 || len > KP_SASL_MAXBUF) {
		kp_log(KP_LOG_WARN, PEER_DATA " (a packet of %lu bytes, we accept 1 to %u; "
		       PEER_HINT ")", (unsigned long)len, (unsigned)KP_SASL_MAXBUF);
		return KP_E_LAYER;
	}
	if (l->rlen - l->rpos - 4 < len)
		return 0;
	in.value = l->raw + l->rpos + 4;
	in.length = len;
	maj = gss_unwrap(&min, l->ctx, &in, &l->dec, &conf, NULL);
	l->rpos += 4 + (size_t)len;
	if (GSS_ERROR(maj)) {
		char text[512];

		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_WARN, PEER_DATA " (could not unwrap a packet of %lu bytes: %s; "
		       PEER_HINT ")", (unsigned long)len, text);
		gss_release_buffer(&min, &l->dec);
		l->dec.value = NULL;
		l->dec.length = 0;
		return KP_E_LAYER;
	}
	if (l->conf && !conf) {
		/* libsasl2 did not check: a privacy layer carries only encrypted data */
		kp_log(KP_LOG_WARN, PEER_DATA " (a packet without encryption inside the privacy "
		       "layer)");
		release_dec(l);
		return KP_E_LAYER;
	}
	l->decpos = 0;
	return 1;
}

/* Read more raw input after what raw holds.  Returns bytes (> 0), 0 at end of
 * stream, or a negative KP_E_*. */
static ssize_t
read_raw(struct kp_gsslayer *l)
{
	size_t room;

	if (l->rpos > 0) {
		memmove(l->raw, l->raw + l->rpos, l->rlen - l->rpos);
		l->rlen -= l->rpos;
		l->rpos = 0;
	}
	room = sizeof(l->raw) - l->rlen;
	/* a partial packet waits here for the rest, within the timeout and the process
	 * deadline */
	return kp_io_lower_read(&l->lower, l->raw + l->rlen, room);
}

static ssize_t
layer_read(void *ctx, void *buf, size_t n)
{
	struct kp_gsslayer *l = ctx;
	size_t take;

	while (l->decpos >= l->dec.length) {
		ssize_t r;
		int rc;

		release_dec(l);
		if ((rc = unwrap_one(l)) < 0)
			return rc;
		if (rc == 1)
			continue; /* (an empty packet is legal: read on) */
		r = read_raw(l);
		if (r < 0)
			return r;
		if (r == 0) {
			if (l->rlen > l->rpos)
				kp_log(KP_LOG_INFO, "security layer: the peer closed in the middle "
				       "of a packet");
			return 0;
		}
		l->rlen += (size_t)r;
	}
	take = l->dec.length - l->decpos;
	if (take > n)
		take = n;
	memcpy(buf, (const unsigned char *)l->dec.value + l->decpos, take);
	l->decpos += take;
	return (ssize_t)take;
}

static size_t
layer_pending(void *ctx)
{
	struct kp_gsslayer *l = ctx;
	size_t have = l->rlen - l->rpos;

	if (l->dec.length > l->decpos)
		return l->dec.length - l->decpos;
	/* a whole packet already read, or a header we will refuse: no poll() needed */
	if (have >= 4) {
		uint32_t len = be32(l->raw + l->rpos);

		if (len == 0 || len > KP_SASL_MAXBUF || have - 4 >= len)
			return 1;
	}
	return kp_io_lower_pending(&l->lower);
}

/* Write the length and the token in one piece, to TLS or the descriptor. */
static int
send_packet(struct kp_gsslayer *l, const unsigned char hdr[4], const gss_buffer_desc *tok)
{
	size_t total = 4 + tok->length;

	/* one write a packet: its length and token apart would meet Nagle */
	if (l->wcap < total) {
		unsigned char *nb = realloc(l->wbuf, total);

		if (nb == NULL)
			return KP_E_NOMEM;
		l->wbuf = nb;
		l->wcap = total;
	}
	memcpy(l->wbuf, hdr, 4);
	memcpy(l->wbuf + 4, tok->value, tok->length);
	return kp_io_lower_write(&l->lower, l->wbuf, total);
}

static ssize_t
layer_write(void *ctx, const void *buf, size_t n)
{
	struct kp_gsslayer *l = ctx;
	size_t chunk = n > l->maxout ? l->maxout : n;
	gss_buffer_desc in, tok = GSS_C_EMPTY_BUFFER;
	unsigned char hdr[4];
	OM_uint32 maj, min;
	int rc;

	in.value = (void *)buf;
	in.length = chunk;
	maj = gss_wrap(&min, l->ctx, l->conf, GSS_C_QOP_DEFAULT, &in, NULL, &tok);
	if (GSS_ERROR(maj) || tok.length > l->maxtok) {
		char text[512];

		if (GSS_ERROR(maj))
			kp_gss_status_text(maj, min, text, sizeof(text));
		else
			snprintf(text, sizeof(text), "a %zu-byte token, the peer accepts %zu",
				 tok.length, l->maxtok);
		kp_log(KP_LOG_WARN, "security layer: could not wrap our data: %s", text);
		gss_release_buffer(&min, &tok);
		return KP_E_LAYER;
	}
	hdr[0] = (unsigned char)(tok.length >> 24);
	hdr[1] = (unsigned char)(tok.length >> 16);
	hdr[2] = (unsigned char)(tok.length >> 8);
	hdr[3] = (unsigned char)tok.length;
	rc = send_packet(l, hdr, &tok);
	gss_release_buffer(&min, &tok);
	return rc != 0 ? rc : (ssize_t)chunk;
}

int
kp_gsslayer_start(struct kp_io *io, const void *ctx, size_t ctxlen, unsigned ssf,
		  unsigned peer_maxbuf, struct kp_gsslayer **out)
{
	struct kp_gsslayer *l;
	struct kp_io_layer layer;
	gss_buffer_desc in;
	OM_uint32 maj, min, maxin = 0;
	long long t0;
	char text[512];

	*out = NULL;
	if (ssf == 0 || ctx == NULL || ctxlen == 0 || ctxlen > KP_IPC_GSSCTX_MAX) {
		kp_log(KP_LOG_ERR, "security layer: no usable context (%zu bytes, ssf %u)",
		       ctxlen, ssf);
		return KP_E_LAYER;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return KP_E_NOMEM;
	l->ctx = GSS_C_NO_CONTEXT;
	in.value = (void *)ctx;
	in.length = ctxlen;
	t0 = now_us();
	maj = gss_import_sec_context(&min, &in, &l->ctx);
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "security layer: gss_import_sec_context: %s", text);
		free(l);
		return KP_E_LAYER;
	}
	kp_log(KP_LOG_DEBUG, "security layer: GSS context imported (%zu bytes) in %lld us",
	       ctxlen, now_us() - t0);
	l->conf = ssf > 1;
	l->ssf = ssf;
	/* The peer's limit counts the token (RFC 4752 3.3: the largest "cipher-text"
	 * buffer), so the plaintext per packet is what gss_wrap_size_limit allows.  A
	 * limit no wrapped byte fits in gets ours, as libsasl2 did. */
	l->maxtok = peer_maxbuf;
	if (l->maxtok > 0)
		maj = gss_wrap_size_limit(&min, l->ctx, l->conf, GSS_C_QOP_DEFAULT,
					  (OM_uint32)l->maxtok, &maxin);
	if (l->maxtok == 0 || GSS_ERROR(maj) || maxin == 0) {
		if (l->maxtok > 0)
			kp_log(KP_LOG_DEBUG, "security layer: the peer's max buffer %zu holds no "
			       "wrapped byte: using %u", l->maxtok, (unsigned)KP_SASL_MAXBUF);
		l->maxtok = KP_SASL_MAXBUF;
		maj = gss_wrap_size_limit(&min, l->ctx, l->conf, GSS_C_QOP_DEFAULT,
					  (OM_uint32)l->maxtok, &maxin);
		if (GSS_ERROR(maj) || maxin == 0) {
			kp_gss_status_text(maj, min, text, sizeof(text));
			kp_log(KP_LOG_ERR, "security layer: gss_wrap_size_limit: %s", text);
			kp_gsslayer_free(l);
			return KP_E_LAYER;
		}
	}
	l->maxout = maxin;
	kp_io_lower_take(io, &l->lower); /* stacked on TLS when TLS is active */
	memset(&layer, 0, sizeof(layer));
	layer.read = layer_read;
	layer.write = layer_write;
	layer.pending = layer_pending;
	layer.ctx = l;
	if (kp_io_set_layer(io, &layer) != 0) {
		kp_gsslayer_free(l);
		return KP_E_LAYER;
	}
	*out = l;
	return 0;
}

unsigned
kp_gsslayer_ssf(const struct kp_gsslayer *l)
{
	return l->ssf;
}

size_t
kp_gsslayer_maxout(const struct kp_gsslayer *l)
{
	return l->maxout;
}

void
kp_gsslayer_free(struct kp_gsslayer *l)
{
	OM_uint32 min;

	if (l == NULL)
		return;
	release_dec(l);
	if (l->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &l->ctx, GSS_C_NO_BUFFER);
	explicit_bzero(l->raw, sizeof(l->raw));
	if (l->wbuf != NULL)
		explicit_bzero(l->wbuf, l->wcap);
	free(l->wbuf);
	free(l);
}
