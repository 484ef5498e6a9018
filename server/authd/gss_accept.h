/* gss_accept.h - the server side of SASL GSSAPI (RFC 4752) run directly on GSS-API:
 * the accept loop, the wrapped security-layer offer and the client's answer; the
 * established context is exported for whoever applies the layer (PRIVSEP.md). */
#ifndef KP_GSS_ACCEPT_H
#define KP_GSS_ACCEPT_H

#include <stddef.h>
#include "kp_buf.h"
#include "server/conf.h"
#include "server/authd/ssf_parse.h" /* KP_GSS_LAYER_*, the offer and answer rules */

/* An acceptor credential: every key of service c->service ("pop") in the keytab
 * (c->keytab, else KRB5_KTNAME or the default), or only c->server_principal if
 * pinned.  Reusable for any number of exchanges.  Returns 0 and *out, or
 * KP_E_CONFIG after logging the GSS detail. */
struct kp_gss_cred;
int kp_gss_cred_new(const struct kp_conf *c, struct kp_gss_cred **out);
void kp_gss_cred_free(struct kp_gss_cred *cred);

/* One exchange.  cred is not owned and must outlive it.  tls: the session runs
 * over TLS, so no layer is offered unless c->sasl_layers_over_tls.  The layers
 * offered follow c->sasl_min_ssf / c->sasl_max_ssf with the SSF values libsasl2's
 * GSSAPI plugin uses (none 0, integrity 1, privacy the cipher strength, 256 for
 * aes256).  0 and *out, or KP_E_NOMEM. */
struct kp_gss_accept;
int kp_gss_accept_new(const struct kp_conf *c, struct kp_gss_cred *cred, int tls,
		      struct kp_gss_accept **out);
void kp_gss_accept_free(struct kp_gss_accept *g);

enum kp_gss_step {
	KP_GSS_CONTINUE, /* send *out (possibly empty) as a challenge, feed the answer */
	KP_GSS_DONE      /* authenticated; nothing more to send */
};

/* One step.  The first call starts the exchange: has_in says whether the client
 * sent an initial response (in/inlen, possibly empty); without one the answer is
 * an empty challenge, as libsasl2 gives.  Later calls get each client response.
 * Returns 0 with *step_out and the challenge in *out, *outlen (owned by g, valid
 * until the next call), or KP_E_AUTH (the exchange is over; kp_gss_accept_error
 * says why) or KP_E_NOMEM. */
int kp_gss_accept_step(struct kp_gss_accept *g, const void *in, size_t inlen, int has_in,
		       const void **out, size_t *outlen, enum kp_gss_step *step_out);

/* After KP_GSS_DONE.  principal: the client's full name ("alice@KPOP.TEST").
 * authzid: the authorization identity the client sent, as kp_ssf_answer_parse
 * left it (surrounding white space and one trailing NUL removed, no NUL inside),
 * NUL-terminated, NULL if it sent none; *len_out its length.  ssf: 0 no layer, 1 integrity, > 1 privacy.
 * peer_maxbuf: the largest wrapped token the client accepts (0 without a layer). */
const char *kp_gss_accept_principal(const struct kp_gss_accept *g);

/* After KP_GSS_CONTINUE: the next step must be an empty client response (the last
 * accept token is out; the layer offer comes next). */
int kp_gss_accept_awaits_empty(const struct kp_gss_accept *g);
const char *kp_gss_accept_authzid(const struct kp_gss_accept *g, size_t *len_out);
unsigned kp_gss_accept_ssf(const struct kp_gss_accept *g);
unsigned kp_gss_accept_peer_maxbuf(const struct kp_gss_accept *g);

/* After KP_GSS_DONE with ssf > 0: the established context as gss_export_sec_context
 * bytes, appended to ctx_out (a secret kp_buf, see kp_buf_init).  The context then
 * lives only in those bytes: g can export once.  0, KP_E_LAYER (g has no layer or
 * was exported already; GSS detail logged) or the buffer's error. */
int kp_gss_accept_export(struct kp_gss_accept *g, struct kp_buf *ctx_out);

/* Why the exchange failed, with GSS/Kerberos detail: for the log, never the wire. */
const char *kp_gss_accept_error(const struct kp_gss_accept *g);

#endif
