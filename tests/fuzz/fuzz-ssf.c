/* fuzz-ssf.c - the RFC 4752 security-layer negotiation (server/authd/ssf_parse.c):
 * the offer kpopd makes for a context and sasl_min_ssf / sasl_max_ssf, and the
 * client's unwrapped answer that kp_ssf_answer_parse reads (the bytes gss_unwrap
 * gives in ssfreq(); no GSS-API here).  Input: byte 0 the context's qop (bits 0-2)
 * and whether the answer is read against the computed offer (bit 3 clear) or
 * against byte 0's bits 4-7 as a raw offer; byte 1 sasl_min_ssf, byte 2
 * sasl_max_ssf, byte 3 the cipher's strength (each x 2, so up to 510); byte 4 the
 * size of the reason buffer; the rest is the answer.  Checked: the offer's bits
 * and buffer size agree (RFC 4752: 0 without a layer) and follow the limits; an
 * accepted answer names one offered layer, its size only with a layer, an authzid
 * inside the input, within its cap, with no NUL and no leading white space; a
 * refused one keeps nothing and says why; only white space and one NUL are dropped;
 * an accepted answer written back in canonical form parses to the same result. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "kp_limits.h"
#include "server/authd/ssf_parse.h"

FUZZ_QUIET_INIT

#define ANY_LAYER (KP_GSS_LAYER_INTEGRITY | KP_GSS_LAYER_PRIVACY)

static void
check_offer(unsigned qop, unsigned min_ssf, unsigned max_ssf, unsigned strength,
	    unsigned offered, unsigned maxbuf)
{
	unsigned char b[4];

	FUZZ_CHECK((offered & ~7u) == 0, "kp_ssf_offer", "unknown bits offered");
	FUZZ_CHECK((offered & ANY_LAYER & ~qop) == 0, "kp_ssf_offer",
		   "a layer the context cannot carry");
	FUZZ_CHECK(((offered & KP_GSS_LAYER_NONE) != 0) == (min_ssf == 0), "kp_ssf_offer",
		   "no-layer offered against sasl_min_ssf");
	FUZZ_CHECK(max_ssf > 0 || (offered & ANY_LAYER) == 0, "kp_ssf_offer",
		   "a layer with sasl_max_ssf 0");
	FUZZ_CHECK(!(offered & KP_GSS_LAYER_INTEGRITY) || (min_ssf <= 1 && max_ssf >= 1),
		   "kp_ssf_offer", "integrity outside min..max");
	FUZZ_CHECK(!(offered & KP_GSS_LAYER_PRIVACY) ||
		   (min_ssf <= strength && max_ssf >= strength), "kp_ssf_offer",
		   "privacy outside min..max");
	FUZZ_CHECK((maxbuf == 0) == ((offered & ANY_LAYER) == 0), "kp_ssf_offer",
		   "buffer size and layers disagree (RFC 4752: 0 without a layer)");
	FUZZ_CHECK(maxbuf == 0 || maxbuf == KP_SASL_MAXBUF, "kp_ssf_offer", "odd buffer size");
	kp_ssf_encode(offered, maxbuf, b);
	FUZZ_CHECK(b[0] == offered && ((unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3]) ==
		   maxbuf, "kp_ssf_encode", "bytes do not say the offer");
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_ssf_answer a, b;
	unsigned qop, min_ssf, max_ssf, strength, offered, maxbuf, against;
	const uint8_t *in;
	size_t n, whycap;
	unsigned char *canon;
	char why[300];
	int rc;

	if (size < 5)
		return 0;
	qop = data[0] & 7u;
	min_ssf = data[1] * 2u;
	max_ssf = data[2] * 2u;
	strength = data[3] * 2u;
	whycap = data[4] % (sizeof(why) + 1);
	in = data + 5;
	n = size - 5;

	offered = kp_ssf_offer(qop, min_ssf, max_ssf, strength, &maxbuf);
	check_offer(qop, min_ssf, max_ssf, strength, offered, maxbuf);
	against = data[0] & 8u ? (unsigned)data[0] >> 4 : offered;

	memset(why, 0x7f, sizeof(why));
	rc = kp_ssf_answer_parse(in, n, against, &a, whycap > 0 ? why : NULL, whycap);
	FUZZ_CHECK(rc == 0 || rc == KP_E_AUTH, "kp_ssf_answer_parse", "unexpected return code");
	FUZZ_CHECK(whycap == 0 || memchr(why, '\0', whycap) != NULL, "kp_ssf_answer_parse",
		   "reason not terminated within its buffer");
	FUZZ_CHECK(whycap == sizeof(why) || why[whycap] == 0x7f, "kp_ssf_answer_parse",
		   "wrote past the reason buffer");
	if (rc != 0) {
		FUZZ_CHECK(a.layer == 0 && a.maxbuf == 0 && !a.has_authzid && a.authzid == NULL &&
			   a.authzid_len == 0, "kp_ssf_answer_parse", "kept part of a refused answer");
		FUZZ_CHECK(whycap < 2 || why[0] != '\0', "kp_ssf_answer_parse", "refused, no reason");
		return 0;
	}
	FUZZ_CHECK(n >= 4, "kp_ssf_answer_parse", "accepted a short answer");
	FUZZ_CHECK(a.layer == KP_GSS_LAYER_NONE || a.layer == KP_GSS_LAYER_INTEGRITY ||
		   a.layer == KP_GSS_LAYER_PRIVACY, "kp_ssf_answer_parse", "not one layer");
	FUZZ_CHECK((a.layer & against) != 0, "kp_ssf_answer_parse", "a layer not offered");
	FUZZ_CHECK(a.layer == KP_GSS_LAYER_NONE || (in[0] & ANY_LAYER) != 0,
		   "kp_ssf_answer_parse", "a layer the client did not ask for");
	FUZZ_CHECK(a.layer != KP_GSS_LAYER_NONE || (in[0] & ANY_LAYER) == 0,
		   "kp_ssf_answer_parse", "no layer though the client asked for one");
	FUZZ_CHECK(a.maxbuf == (a.layer == KP_GSS_LAYER_NONE ? 0 :
		   ((unsigned)in[1] << 16 | (unsigned)in[2] << 8 | in[3])), "kp_ssf_answer_parse",
		   "wrong buffer size");
	FUZZ_CHECK((a.has_authzid != 0) == (n > 4), "kp_ssf_answer_parse",
		   "authzid presence differs from the input");
	if (a.has_authzid) {
		FUZZ_CHECK(a.authzid >= in + 4 && a.authzid + a.authzid_len <= in + n,
			   "kp_ssf_answer_parse", "authzid outside the input");
		FUZZ_CHECK(a.authzid_len <= KP_SSF_AUTHZID_MAX, "kp_ssf_answer_parse",
			   "authzid over its cap");
		FUZZ_CHECK(memchr(a.authzid, '\0', a.authzid_len) == NULL, "kp_ssf_answer_parse",
			   "NUL inside an accepted authzid");
		FUZZ_CHECK(a.authzid_len == 0 || !is_ws(a.authzid[0]), "kp_ssf_answer_parse",
			   "leading white space kept");
		/* only white space and at most one NUL were dropped */
		{
			size_t i, nuls = 0;

			for (i = 4; i < n; i++) {
				const unsigned char *q = in + i;

				if (q >= a.authzid && q < a.authzid + a.authzid_len)
					continue;
				if (in[i] == '\0')
					nuls++;
				else
					FUZZ_CHECK(is_ws(in[i]), "kp_ssf_answer_parse",
						   "dropped a byte that is not white space");
			}
			FUZZ_CHECK(nuls <= 1, "kp_ssf_answer_parse", "dropped more than one NUL");
		}
	} else {
		FUZZ_CHECK(a.authzid == NULL && a.authzid_len == 0, "kp_ssf_answer_parse",
			   "authzid without has_authzid");
	}
	/* written back canonically (one layer bit, the size, the authzid and a NUL that
	 * keeps white space at its end), the answer means the same */
	canon = malloc(4 + a.authzid_len + 1);
	if (canon == NULL)
		abort();
	kp_ssf_encode(a.layer, a.maxbuf, canon);
	if (a.authzid_len > 0) {
		memcpy(canon + 4, a.authzid, a.authzid_len);
		canon[4 + a.authzid_len] = '\0';
	}
	rc = kp_ssf_answer_parse(canon, 4 + a.authzid_len + (a.authzid_len > 0), against, &b,
				 why, sizeof(why));
	FUZZ_CHECK(rc == 0 && b.layer == a.layer && b.maxbuf == a.maxbuf &&
		   b.authzid_len == a.authzid_len && (b.has_authzid != 0) ==
		   (a.authzid_len > 0) && (a.authzid_len == 0 ||
		   memcmp(b.authzid, a.authzid, a.authzid_len) == 0), "kp_ssf_answer_parse",
		   "the canonical form of an accepted answer reads differently");
	free(canon);
	return 0;
}
