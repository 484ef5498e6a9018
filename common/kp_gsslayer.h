/* kp_gsslayer.h - the SASL GSSAPI security layer (RFC 4752 section 3.3: integrity or
 * privacy) over an imported GSS-API context, as a kp_io layer: every byte both ways
 * travels as a 4-byte big-endian length and a gss_wrap token. */
#ifndef KP_GSSLAYER_H
#define KP_GSSLAYER_H

#include <stddef.h>
#include "kp_io.h"

struct kp_gsslayer;

/* Import ctx (ctxlen bytes from gss_export_sec_context, at most KP_IPC_GSSCTX_MAX)
 * and put its layer under io, on top of the layer io already has (TLS), if any.
 * ssf: what was negotiated, > 1 privacy (tokens encrypted), 1 integrity.
 * peer_maxbuf: the largest token the peer accepts; output is split to fit it (0 or
 * too small for any wrapped byte: our own KP_SASL_MAXBUF, as libsasl2 did).  Input
 * tokens larger than KP_SASL_MAXBUF (what we offered) are refused.  Input already
 * read ahead cannot have been wrapped by the peer: the caller discards it first.
 * The caller keeps ctx and should wipe it once this returns.  Returns 0 and *out
 * (free with kp_gsslayer_free after the session), or KP_E_LAYER / KP_E_NOMEM (the
 * GSS detail is logged). */
int kp_gsslayer_start(struct kp_io *io, const void *ctx, size_t ctxlen, unsigned ssf,
		      unsigned peer_maxbuf, struct kp_gsslayer **out);

/* The negotiated strength, and the most plaintext one output packet carries. */
unsigned kp_gsslayer_ssf(const struct kp_gsslayer *l);
size_t kp_gsslayer_maxout(const struct kp_gsslayer *l);

/* Delete the context (its keys are wiped) and free l; NULL is fine. */
void kp_gsslayer_free(struct kp_gsslayer *l);

#endif
