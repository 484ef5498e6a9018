/* kp_saslio.h - a negotiated SASL security layer (integrity or privacy) as a kp_io
 * layer: every byte both ways goes through sasl_encode / sasl_decode. */
#ifndef KP_SASLIO_H
#define KP_SASLIO_H

#include <sasl/sasl.h>
#include "kp_io.h"

struct kp_saslio;

/* Put the layer of conn (which must have negotiated SASL_SSF > 0) under io, on top
 * of the layer io already has (TLS), if any.  Input
 * already read ahead cannot have been encoded by the peer's layer: the caller
 * discards it first.  Returns 0 and *out (free with kp_saslio_free after the
 * session), or KP_E_LAYER. */
int kp_saslio_start(struct kp_io *io, sasl_conn_t *conn, struct kp_saslio **out);

/* The negotiated strength (SASL_SSF) and the peer's maximum buffer, for logs. */
unsigned kp_saslio_ssf(const struct kp_saslio *l);
unsigned kp_saslio_maxout(const struct kp_saslio *l);

void kp_saslio_free(struct kp_saslio *l);

#endif
