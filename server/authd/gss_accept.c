/* gss_accept.c - SASL GSSAPI (RFC 4752) acceptor on GSS-API, step for step what
 * libsasl2 2.1.28's GSSAPI server plugin and its core did for kpopd, so that the
 * wire and the meaning of sasl_min_ssf / sasl_max_ssf stay the same. */
#include "config.h"
#include "server/authd/gss_accept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authd/ticket_diag.h"

struct kp_gss_cred {
	gss_cred_id_t cred;
};

enum state {
	ST_START,    /* nothing received yet */
	ST_AUTHNEG,  /* gss_accept_sec_context until complete */
	ST_SSFCAP,   /* final accept token sent; the client answers with nothing */
	ST_SSFREQ,   /* offer sent; the client answers with its choice and authzid */
	ST_DONE,
	ST_FAILED
};

struct kp_gss_accept {
	const struct kp_conf *conf;
	struct kp_gss_cred *cred;
	int tls;
	enum state state;
	gss_ctx_id_t ctx;
	unsigned qop;           /* layers the context can carry (from its flags) */
	unsigned offered;       /* the layer bits of our offer */
	unsigned ssf, peer_maxbuf;
	int has_authzid;
	size_t authzid_len;
	char authzid[KP_SSF_AUTHZID_MAX + 1];
	char principal[KP_NAME_MAX];
	unsigned char *out;     /* the last challenge (owned) */
	size_t outlen;
	char error[1024];
};

/* libsasl2's plugin when the mechanism cannot tell the strength (never with MIT). */
#define K5_MIN_SSF 56

static void
seterr(struct kp_gss_accept *g, const char *what, OM_uint32 maj, OM_uint32 min)
{
	char text[512];
	const char *hint;

	kp_gss_status_text(maj, min, text, sizeof(text));
	hint = kp_krb_why_text(kp_krb5_classify((long)min));
	if (hint == NULL)
		hint = kp_krb_why_text(kp_krb5_classify_text(text));
	snprintf(g->error, sizeof(g->error), "%s: %s%s%s", what, text, hint != NULL ? " -- " : "",
		 hint != NULL ? hint : "");
}

static int
fail(struct kp_gss_accept *g, const char *why)
{
	if (why != NULL)
		snprintf(g->error, sizeof(g->error), "%s", why);
	g->state = ST_FAILED;
	return KP_E_AUTH;
}

/* Keep a GSS output token as the step's challenge. */
static int
keep_token(struct kp_gss_accept *g, gss_buffer_t tok)
{
	OM_uint32 min;

	free(g->out);
	g->out = NULL;
	g->outlen = 0;
	if (tok->length > 0) {
		g->out = malloc(tok->length);
		if (g->out == NULL) {
			gss_release_buffer(&min, tok);
			return KP_E_NOMEM;
		}
		memcpy(g->out, tok->value, tok->length);
		g->outlen = tok->length;
	}
	gss_release_buffer(&min, tok);
	return 0;
}

int
kp_gss_cred_new(const struct kp_conf *c, struct kp_gss_cred **out)
{
	OM_uint32 maj, min;
	gss_buffer_desc nb;
	gss_name_t name = GSS_C_NO_NAME;
	gss_key_value_element_desc el;
	gss_key_value_set_desc store;
	gss_OID_set_desc mechs = { 1, (gss_OID)gss_mech_krb5 };
	struct kp_gss_cred *cred;
	char text[512];

	*out = NULL;
	cred = calloc(1, sizeof(*cred));
	if (cred == NULL)
		return KP_E_NOMEM;
	/* A host-based name with no host part ("pop") matches pop/ANYHOST (MIT krb5
	 * >= 1.10): any key of our service, unless one principal is pinned. */
	if (c->server_principal != NULL) {
		nb.value = c->server_principal;
		nb.length = strlen(c->server_principal);
		maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
	} else {
		nb.value = c->service;
		nb.length = strlen(c->service);
		maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &name);
	}
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "gss_import_name: %s", text);
		free(cred);
		return KP_E_CONFIG;
	}
	el.key = "keytab";
	el.value = c->keytab;
	store.count = c->keytab != NULL ? 1 : 0;
	store.elements = &el;
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT, &store,
				    &cred->cred, NULL, NULL);
	gss_release_name(&min, &name);
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "cannot use the keytab %s for service %s: %s",
		       c->keytab != NULL ? c->keytab : "(default)", c->service, text);
		free(cred);
		return KP_E_CONFIG;
	}
	*out = cred;
	return 0;
}

void
kp_gss_cred_free(struct kp_gss_cred *cred)
{
	OM_uint32 min;

	if (cred == NULL)
		return;
	if (cred->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred->cred);
	free(cred);
}

int
kp_gss_accept_new(const struct kp_conf *c, struct kp_gss_cred *cred, int tls,
		  struct kp_gss_accept **out)
{
	struct kp_gss_accept *g;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return KP_E_NOMEM;
	g->conf = c;
	g->cred = cred;
	g->tls = tls;
	g->ctx = GSS_C_NO_CONTEXT;
	g->state = ST_START;
	*out = g;
	return 0;
}

void
kp_gss_accept_free(struct kp_gss_accept *g)
{
	OM_uint32 min;

	if (g == NULL)
		return;
	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &g->ctx, GSS_C_NO_BUFFER);
	free(g->out);
	explicit_bzero(g, sizeof(*g));
	free(g);
}

/* The strength of the context's privacy layer as libsasl2 reports it: the krb5
 * mechanism's GSS_C_SEC_CONTEXT_SASL_SSF (the cipher's key bits), else 56. */
static int
mech_ssf(struct kp_gss_accept *g, unsigned *ssf_out)
{
	OM_uint32 maj, min;
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	const unsigned char *p;

	*ssf_out = K5_MIN_SSF;
	maj = gss_inquire_sec_context_by_oid(&min, g->ctx, GSS_C_SEC_CONTEXT_SASL_SSF, &set);
	if (maj == GSS_S_UNAVAILABLE || (maj == GSS_S_FAILURE && min == 0))
		return 0;
	if (GSS_ERROR(maj)) {
		seterr(g, "gss_inquire_sec_context_by_oid", maj, min);
		return KP_E_AUTH;
	}
	if (set == GSS_C_NO_BUFFER_SET || set->count != 1 || set->elements[0].length != 4) {
		gss_release_buffer_set(&min, &set);
		snprintf(g->error, sizeof(g->error), "malformed SSF from the GSS mechanism");
		return KP_E_AUTH;
	}
	p = set->elements[0].value;
	*ssf_out = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
	gss_release_buffer_set(&min, &set);
	return 0;
}

/* The wrapped 4-byte offer: the layers sasl_min_ssf..sasl_max_ssf allow (none at
 * all over TLS unless sasl_layers_over_tls) and our largest acceptable packet. */
static int
make_offer(struct kp_gss_accept *g)
{
	unsigned maxbuf, strength;
	unsigned char offer[4];
	gss_buffer_desc in, tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	int none = g->tls && !g->conf->sasl_layers_over_tls, rc;

	if ((rc = mech_ssf(g, &strength)) != 0)
		return fail(g, NULL);
	/* (an offer with no bit at all, min_ssf above what the context can do, still
	 * goes out, as libsasl2 sent it: the client cannot answer it) */
	g->offered = kp_ssf_offer(g->qop, none ? 0 : (unsigned)g->conf->sasl_min_ssf,
				  none ? 0 : (unsigned)g->conf->sasl_max_ssf, strength, &maxbuf);
	kp_ssf_encode(g->offered, maxbuf, offer);
	in.value = offer;
	in.length = sizeof(offer);
	maj = gss_wrap(&min, g->ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL, &tok);
	if (GSS_ERROR(maj)) {
		seterr(g, "gss_wrap", maj, min);
		gss_release_buffer(&min, &tok);
		return fail(g, NULL);
	}
	if ((rc = keep_token(g, &tok)) != 0)
		return rc;
	kp_log(KP_LOG_DEBUG, "GSSAPI: offered layers 0x%02x, max buffer %u (context ssf %u)",
	       g->offered, maxbuf, strength);
	g->state = ST_SSFREQ;
	return 0;
}

static int
authneg(struct kp_gss_accept *g, const void *in, size_t inlen)
{
	gss_buffer_desc itok, otok = GSS_C_EMPTY_BUFFER, name = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min, flags = 0;
	int first = g->ctx == GSS_C_NO_CONTEXT; /* the token with the AP-REQ */
	int rc;

	itok.value = (void *)in;
	itok.length = inlen;
	/* never channel bindings: libsasl2 2.1.28 with them broke clients */
	maj = gss_accept_sec_context(&min, &g->ctx, g->cred->cred, &itok,
				     GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &otok, &flags, NULL,
				     NULL);
	if (GSS_ERROR(maj)) {
		char text[512];

		/* the first token carries the ticket: its cause, from the ticket and the
		 * keytab, goes into the log at info (as Dovecot's auth_verbose says it) */
		kp_gss_status_text(maj, min, text, sizeof(text));
		if (first)
			kp_ticket_why(g->conf, in, inlen, (long)(int32_t)min,
				      "gss_accept_sec_context", text, g->error, sizeof(g->error));
		else
			seterr(g, "gss_accept_sec_context", maj, min);
		gss_release_buffer(&min, &otok);
		if (src != GSS_C_NO_NAME)
			gss_release_name(&min, &src);
		return fail(g, NULL);
	}
	if ((rc = keep_token(g, &otok)) != 0)
		goto cleanup;
	if (maj & GSS_S_CONTINUE_NEEDED) {
		rc = 0;
		goto cleanup;
	}
	/* RFC 4752 3.1: no layer without integ_avail, no privacy without conf_avail */
	g->qop = KP_GSS_LAYER_NONE;
	if (flags & GSS_C_INTEG_FLAG)
		g->qop |= KP_GSS_LAYER_INTEGRITY;
	if ((flags & GSS_C_INTEG_FLAG) && (flags & GSS_C_CONF_FLAG))
		g->qop |= KP_GSS_LAYER_PRIVACY;
	maj = gss_display_name(&min, src, &name, NULL);
	if (GSS_ERROR(maj)) {
		seterr(g, "gss_display_name", maj, min);
		rc = fail(g, NULL);
		goto cleanup;
	}
	if (name.length == 0 || name.length >= sizeof(g->principal) ||
	    memchr(name.value, '\0', name.length) != NULL) {
		rc = fail(g, "client principal name of bad length");
		goto cleanup;
	}
	memcpy(g->principal, name.value, name.length);
	g->principal[name.length] = '\0';
	/* The client asked for no mutual authentication (curl): no token to send,
	 * so the offer goes out now, never an empty challenge first. */
	if (g->outlen > 0) {
		g->state = ST_SSFCAP;
		rc = 0;
	} else {
		rc = make_offer(g);
	}
cleanup:
	gss_release_buffer(&min, &name);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
	return rc;
}

/* The client's choice: 4 bytes (layer, max buffer) and an optional authzid, unwrapped
 * here and parsed by kp_ssf_answer_parse (ssf_parse.c has the rules). */
static int
ssfreq(struct kp_gss_accept *g, const void *in, size_t inlen)
{
	gss_buffer_desc itok, otok = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	struct kp_ssf_answer ans;
	unsigned strength;
	int rc = KP_E_AUTH;

	itok.value = (void *)in;
	itok.length = inlen;
	maj = gss_unwrap(&min, g->ctx, &itok, &otok, NULL, NULL);
	if (GSS_ERROR(maj)) {
		seterr(g, "gss_unwrap of the security-layer answer", maj, min);
		gss_release_buffer(&min, &otok);
		return fail(g, NULL);
	}
	if (kp_ssf_answer_parse(otok.value, otok.length, g->offered, &ans, g->error,
				sizeof(g->error)) != 0) {
		rc = fail(g, NULL);
		goto cleanup;
	}
	if (ans.layer == KP_GSS_LAYER_PRIVACY) {
		if (mech_ssf(g, &strength) != 0) {
			rc = fail(g, NULL);
			goto cleanup;
		}
		g->ssf = strength;
	} else {
		g->ssf = ans.layer == KP_GSS_LAYER_INTEGRITY ? 1 : 0;
	}
	g->peer_maxbuf = ans.maxbuf;
	if (ans.has_authzid) {
		memcpy(g->authzid, ans.authzid, ans.authzid_len);
		g->authzid[ans.authzid_len] = '\0';
		g->authzid_len = ans.authzid_len;
		g->has_authzid = 1;
	}
	g->state = ST_DONE;
	rc = 0;
cleanup:
	gss_release_buffer(&min, &otok);
	return rc;
}

int
kp_gss_accept_step(struct kp_gss_accept *g, const void *in, size_t inlen, int has_in,
		   const void **out, size_t *outlen, enum kp_gss_step *step_out)
{
	int rc;

	*out = NULL;
	*outlen = 0;
	*step_out = KP_GSS_CONTINUE;
	if (inlen > KP_AUTH_TOKEN_MAX)
		return fail(g, "client token too large");
	switch (g->state) {
	case ST_START:
		g->state = ST_AUTHNEG;
		/* the client speaks first in GSSAPI: without an initial response it is
		 * asked for one with an empty challenge */
		if (!has_in)
			return 0;
		/* fall through */
	case ST_AUTHNEG:
		free(g->out);
		g->out = NULL;
		g->outlen = 0;
		rc = authneg(g, in, inlen);
		break;
	case ST_SSFCAP:
		if (inlen != 0)
			return fail(g, "GSSAPI server is not expecting data at this stage");
		rc = make_offer(g);
		break;
	case ST_SSFREQ:
		free(g->out);
		g->out = NULL;
		g->outlen = 0;
		rc = ssfreq(g, in, inlen);
		if (rc == 0)
			*step_out = KP_GSS_DONE;
		return rc;
	default:
		return fail(g, g->state == ST_DONE ? "exchange already complete" : NULL);
	}
	if (rc != 0)
		return rc;
	*out = g->out;
	*outlen = g->outlen;
	return 0;
}

int
kp_gss_accept_awaits_empty(const struct kp_gss_accept *g)
{
	return g->state == ST_SSFCAP;
}

const char *
kp_gss_accept_principal(const struct kp_gss_accept *g)
{
	return g->state == ST_DONE ? g->principal : NULL;
}

const char *
kp_gss_accept_authzid(const struct kp_gss_accept *g, size_t *len_out)
{
	*len_out = 0;
	if (g->state != ST_DONE || !g->has_authzid)
		return NULL;
	*len_out = g->authzid_len;
	return g->authzid;
}

unsigned
kp_gss_accept_ssf(const struct kp_gss_accept *g)
{
	return g->state == ST_DONE ? g->ssf : 0;
}

unsigned
kp_gss_accept_peer_maxbuf(const struct kp_gss_accept *g)
{
	return g->state == ST_DONE ? g->peer_maxbuf : 0;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
kp_gss_accept_export(struct kp_gss_accept *g, struct kp_buf *ctx_out)
{
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	long long t0;
	int rc;

	if (g->state != ST_DONE || g->ssf == 0 || g->ctx == GSS_C_NO_CONTEXT)
		return KP_E_LAYER;
	t0 = now_us();
	/* MIT exports the keys and sequence state and deactivates ours: from now on
	 * exactly one process owns the context */
	maj = gss_export_sec_context(&min, &g->ctx, &tok);
	if (GSS_ERROR(maj)) {
		char text[512];

		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "gss_export_sec_context: %s", text);
		return KP_E_LAYER;
	}
	rc = kp_buf_add(ctx_out, tok.value, tok.length);
	kp_log(KP_LOG_DEBUG, "GSSAPI context exported for the security layer: %zu bytes in "
	       "%lld us", tok.length, now_us() - t0);
	explicit_bzero(tok.value, tok.length);
	gss_release_buffer(&min, &tok);
	return rc;
}

const char *
kp_gss_accept_error(const struct kp_gss_accept *g)
{
	return g->error[0] != '\0' ? g->error : "unknown error";
}
