/* ssf_parse.c - RFC 4752 section 3.1 security-layer offer and answer, as bytes. */
#include "config.h"
#include "server/authd/ssf_parse.h"

#include <stdio.h>
#include <string.h>

#include "kp_err.h"

unsigned
kp_ssf_offer(unsigned qop, unsigned min_ssf, unsigned max_ssf, unsigned strength,
	     unsigned *maxbuf_out)
{
	unsigned offered = 0, maxbuf = max_ssf > 0 ? KP_SASL_MAXBUF : 0;

	if (min_ssf == 0)
		offered |= KP_GSS_LAYER_NONE;
	if ((qop & KP_GSS_LAYER_INTEGRITY) && min_ssf <= 1 && max_ssf >= 1 && maxbuf > 0)
		offered |= KP_GSS_LAYER_INTEGRITY;
	if ((qop & KP_GSS_LAYER_PRIVACY) && min_ssf <= strength && max_ssf >= strength && maxbuf > 0)
		offered |= KP_GSS_LAYER_PRIVACY;
	/* RFC 4752: the maximum is 0 when no layer is offered */
	if ((offered & ~(unsigned)KP_GSS_LAYER_NONE) == 0)
		maxbuf = 0;
	*maxbuf_out = maxbuf;
	return offered;
}

void
kp_ssf_encode(unsigned layers, unsigned maxbuf, unsigned char out[4])
{
	if (maxbuf > 0xffffffu)
		maxbuf = 0xffffffu;
	out[0] = (unsigned char)layers;
	out[1] = (unsigned char)(maxbuf >> 16);
	out[2] = (unsigned char)(maxbuf >> 8);
	out[3] = (unsigned char)maxbuf;
}

/* isspace() of the C locale, without the locale (the auth service never sets one,
 * but the rule must not depend on it). */
static int
is_ws(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The answer is refused: nothing of it is kept. */
static int
refuse(struct kp_ssf_answer *out)
{
	memset(out, 0, sizeof(*out));
	return KP_E_AUTH;
}

int
kp_ssf_answer_parse(const void *in, size_t n, unsigned offered,
		    struct kp_ssf_answer *out, char *why, size_t whycap)
{
	const unsigned char *p = in, *nul;
	unsigned choice;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (whycap > 0)
		why[0] = '\0';
	if (n < 4) {
		snprintf(why, whycap, "security-layer answer too short (%zu bytes)", n);
		return refuse(out);
	}
	choice = p[0];
	if (!(choice & (KP_GSS_LAYER_INTEGRITY | KP_GSS_LAYER_PRIVACY)) &&
	    (offered & KP_GSS_LAYER_NONE))
		out->layer = KP_GSS_LAYER_NONE;
	else if ((choice & KP_GSS_LAYER_INTEGRITY) && (offered & KP_GSS_LAYER_INTEGRITY))
		out->layer = KP_GSS_LAYER_INTEGRITY;
	else if ((choice & (KP_GSS_LAYER_INTEGRITY | KP_GSS_LAYER_PRIVACY)) &&
		 (offered & KP_GSS_LAYER_PRIVACY))
		out->layer = KP_GSS_LAYER_PRIVACY;
	else {
		snprintf(why, whycap, "protocol violation: the client chose layer 0x%02x, not "
			 "offered (offer 0x%02x)", choice, offered);
		return refuse(out);
	}
	if (out->layer != KP_GSS_LAYER_NONE)
		out->maxbuf = (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
	p += 4;
	n -= 4;
	if (n == 0)
		return 0;
	for (i = 0; i < n && is_ws(p[i]); i++)
		;
	p += i;
	n -= i;
	while (n > 0 && is_ws(p[n - 1]))
		n--;
	if (n > 0 && p[n - 1] == '\0')
		n--;
	nul = memchr(p, '\0', n);
	if (nul != NULL) {
		snprintf(why, whycap, "NUL inside the authorization identity (byte %zu of %zu)",
			 (size_t)(nul - p), n);
		return refuse(out);
	}
	if (n > KP_SSF_AUTHZID_MAX) {
		snprintf(why, whycap, "authorization identity too long (%zu bytes, at most %d)",
			 n, KP_SSF_AUTHZID_MAX);
		return refuse(out);
	}
	out->has_authzid = 1;
	out->authzid = p;
	out->authzid_len = n;
	return 0;
}
