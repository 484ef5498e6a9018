/* ssf_parse.h - the security-layer negotiation of SASL GSSAPI (RFC 4752 section 3.1)
 * as pure functions over bytes, with no GSS-API call (gss_accept.c wraps and
 * unwraps): the layers the server offers and its buffer size, and the client's
 * unwrapped answer: the layer it chose, the largest buffer it accepts and its
 * authorization identity.  The rules are libsasl2 2.1.28's GSSAPI server plugin's,
 * so that clients see the same server they did (DESIGN.md, AUTH GSSAPI). */
#ifndef KP_SSF_PARSE_H
#define KP_SSF_PARSE_H

#include <stddef.h>

#include "kp_limits.h"

/* RFC 4752 section 3.3: the security-layer bits of the offer and of the answer. */
#define KP_GSS_LAYER_NONE 1
#define KP_GSS_LAYER_INTEGRITY 2
#define KP_GSS_LAYER_PRIVACY 4

/* The longest authorization identity taken (libsasl2's canon_user buffer). */
#define KP_SSF_AUTHZID_MAX (KP_NAME_MAX * 4 - 1)

/* The offer.  qop: the layers the context can carry (NONE, plus INTEGRITY with
 * integ_avail, plus PRIVACY with conf_avail too); min_ssf..max_ssf: what the
 * configuration allows (0 = no layer, 1 = integrity, privacy counts as strength,
 * the cipher's key bits); 0..0 over TLS without sasl_layers_over_tls.  Returns the
 * layer bits offered (possibly none at all: min_ssf above what the context can do)
 * and *maxbuf_out, KP_SASL_MAXBUF when a layer is offered, else 0 (RFC 4752). */
unsigned kp_ssf_offer(unsigned qop, unsigned min_ssf, unsigned max_ssf, unsigned strength,
		      unsigned *maxbuf_out);

/* The 4 bytes of an offer or an answer: the layer bits, then the buffer size in
 * network order (24 bits: larger values are cut to 0xffffff). */
void kp_ssf_encode(unsigned layers, unsigned maxbuf, unsigned char out[4]);

/* The client's answer, parsed. */
struct kp_ssf_answer {
	unsigned layer;               /* exactly one KP_GSS_LAYER_* bit: what is used */
	unsigned maxbuf;              /* its largest token (0 with no layer; with a
	                               * layer 0 is kept: kp_gsslayer then uses ours) */
	int has_authzid;              /* bytes followed the first four */
	const unsigned char *authzid; /* into the input: white space around it and one
	                               * trailing NUL removed; no NUL inside */
	size_t authzid_len;           /* 0..KP_SSF_AUTHZID_MAX */
};

/* Parse the client's unwrapped answer in[n] to an offer of the layer bits offered.
 * The rules:
 * - at least 4 bytes;
 * - the choice, tested in libsasl2's order: no integrity or privacy bit and NONE
 *   offered is no layer; the integrity bit with INTEGRITY offered is integrity
 *   (also when the privacy bit is set too); an integrity or privacy bit with
 *   PRIVACY offered is privacy; anything else was not offered: refused;
 * - the buffer size counts only with a layer (fetchmail sends 0xffffff without);
 * - the authzid (RFC 4752: UTF-8, no terminating NUL) has white space around it
 *   removed as libsasl2's canon_user did; exactly one trailing NUL (older clients)
 *   is tolerated, any other NUL refused; longer than KP_SSF_AUTHZID_MAX refused;
 *   nothing left is an empty authzid (has_authzid set, length 0).
 * Returns 0 with *out filled, or KP_E_AUTH with why (for the log) and *out zeroed. */
int kp_ssf_answer_parse(const void *in, size_t n, unsigned offered,
			struct kp_ssf_answer *out, char *why, size_t whycap);

#endif
