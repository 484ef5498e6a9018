/* test-ssf.c - unit tests of server/authd/ssf_parse.c: the RFC 4752 security-layer
 * offer (which layers for which context and sasl_min_ssf / sasl_max_ssf, and the
 * buffer size that goes with them) and every rule of the client's answer: its
 * length, the layer chosen against the one offered, the buffer size with and
 * without a layer, the authzid's white space, NULs and cap; the answers real
 * clients send (DESIGN.md: fetchmail, mpop, curl, pop3test). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "server/authd/ssf_parse.h"
#include "tap.h"

#define NONE KP_GSS_LAYER_NONE
#define INTEG KP_GSS_LAYER_INTEGRITY
#define PRIV KP_GSS_LAYER_PRIVACY
#define ALL (NONE | INTEG | PRIV)

static char why[256];

/* Parse n bytes of msg against offered; expect rc, and on success layer/maxbuf. */
static struct kp_ssf_answer
answer(const void *msg, size_t n, unsigned offered, int rc, unsigned layer, unsigned maxbuf,
       const char *name)
{
	struct kp_ssf_answer a;
	int got;

	memset(&a, 0x5a, sizeof(a));
	why[0] = 'x';
	why[1] = '\0';
	got = kp_ssf_answer_parse(msg, n, offered, &a, why, sizeof(why));
	T_EQ_INT(got, rc, name);
	if (rc == 0) {
		T_EQ_INT(a.layer, layer, name);
		T_EQ_INT(a.maxbuf, maxbuf, name);
		T_OK(why[0] == '\0', "no reason on success");
	} else {
		T_OK(a.layer == 0 && a.maxbuf == 0 && !a.has_authzid && a.authzid == NULL &&
		     a.authzid_len == 0, "nothing kept on failure");
		T_OK(strlen(why) > 10, "a reason on failure");
	}
	return a;
}

/* The authzid of a successful answer is exactly want (NULL: none sent). */
static void
authzid_is(const struct kp_ssf_answer *a, const char *want, size_t wantlen, const char *name)
{
	if (want == NULL) {
		T_OK(!a->has_authzid && a->authzid == NULL && a->authzid_len == 0, name);
		return;
	}
	T_OK(a->has_authzid, name);
	T_EQ_MEM(a->authzid != NULL ? (const void *)a->authzid : "", a->authzid_len, want, wantlen,
		 name);
}

/* An answer: layer byte, 24-bit size, then an authzid of zl bytes of 'z'. */
static int
sized(size_t zl, int trailing_nul, struct kp_ssf_answer *a)
{
	size_t n = 4 + zl + (trailing_nul ? 1 : 0);
	unsigned char *m = malloc(n);
	int rc;

	if (m == NULL)
		return KP_E_NOMEM;
	m[0] = 1;
	m[1] = m[2] = m[3] = 0;
	memset(m + 4, 'z', zl);
	if (trailing_nul)
		m[n - 1] = '\0';
	rc = kp_ssf_answer_parse(m, n, ALL, a, why, sizeof(why));
	free(m);
	return rc;
}

static void
offers(void)
{
	unsigned maxbuf;
	unsigned char b[4];

	/* the defaults (sasl_min_ssf 0, sasl_max_ssf 256) on an aes256 context */
	T_EQ_INT(kp_ssf_offer(ALL, 0, 256, 256, &maxbuf), ALL, "default offer: every layer");
	T_EQ_INT(maxbuf, KP_SASL_MAXBUF, "our buffer with layers");
	/* over TLS without sasl_layers_over_tls: 0..0 */
	T_EQ_INT(kp_ssf_offer(ALL, 0, 0, 256, &maxbuf), NONE, "over TLS: no layer");
	T_EQ_INT(maxbuf, 0, "RFC 4752: max size 0 without a layer");
	/* a context without integ_avail / conf_avail */
	T_EQ_INT(kp_ssf_offer(NONE, 0, 256, 256, &maxbuf), NONE, "no integ_avail: no layer");
	T_EQ_INT(maxbuf, 0, "no layer, no buffer");
	T_EQ_INT(kp_ssf_offer(NONE | INTEG, 0, 256, 256, &maxbuf), NONE | INTEG,
		 "no conf_avail: no privacy");
	T_EQ_INT(maxbuf, KP_SASL_MAXBUF, "integrity has the buffer");
	/* sasl_min_ssf 1: a layer is required */
	T_EQ_INT(kp_ssf_offer(ALL, 1, 256, 256, &maxbuf), INTEG | PRIV, "min 1: no NONE");
	T_EQ_INT(kp_ssf_offer(ALL, 2, 256, 256, &maxbuf), PRIV, "min 2: privacy only");
	T_EQ_INT(kp_ssf_offer(ALL, 0, 1, 256, &maxbuf), NONE | INTEG, "max 1: no privacy");
	T_EQ_INT(kp_ssf_offer(ALL, 1, 1, 256, &maxbuf), INTEG, "1..1: integrity only");
	T_EQ_INT(kp_ssf_offer(ALL, 0, 128, 256, &maxbuf), NONE | INTEG,
		 "max below the cipher's strength: no privacy");
	T_EQ_INT(kp_ssf_offer(ALL, 0, 128, 128, &maxbuf), ALL, "aes128 within 0..128");
	/* min_ssf above what the context can do: an offer with no bit at all */
	T_EQ_INT(kp_ssf_offer(NONE | INTEG, 56, 256, 256, &maxbuf), 0, "nothing acceptable");
	T_EQ_INT(maxbuf, 0, "and no buffer");
	T_EQ_INT(kp_ssf_offer(ALL, 257, 300, 256, &maxbuf), 0, "min above the strength");

	kp_ssf_encode(ALL, KP_SASL_MAXBUF, b);
	T_EQ_MEM(b, 4, "\x07\x01\x00\x00", 4, "offer bytes");
	kp_ssf_encode(NONE, 0, b);
	T_EQ_MEM(b, 4, "\x01\x00\x00\x00", 4, "no-layer offer bytes");
	kp_ssf_encode(INTEG, 0x1234567, b);
	T_EQ_MEM(b, 4, "\x02\xff\xff\xff", 4, "a size over 24 bits is cut");
}

static void
layers(void)
{
	struct kp_ssf_answer a;

	/* bad length: 0..3 bytes */
	answer("", 0, ALL, KP_E_AUTH, 0, 0, "empty answer");
	answer("\x01", 1, ALL, KP_E_AUTH, 0, 0, "1 byte");
	answer("\x01\x00\x00", 3, ALL, KP_E_AUTH, 0, 0, "3 bytes");
	a = answer("\x01\x00\x00\x00", 4, ALL, 0, NONE, 0, "exactly 4 bytes");
	authzid_is(&a, NULL, 0, "4 bytes: no authzid");

	/* each layer, offered */
	answer("\x01\x00\x00\x00", 4, NONE, 0, NONE, 0, "none, offered alone");
	answer("\x02\x00\x10\x00", 4, ALL, 0, INTEG, 4096, "integrity");
	answer("\x04\x01\x00\x00", 4, ALL, 0, PRIV, 65536, "privacy");
	answer("\x04\x01\x00\x00", 4, PRIV, 0, PRIV, 65536, "privacy, offered alone");

	/* layer not offered */
	answer("\x02\x00\x10\x00", 4, NONE, KP_E_AUTH, 0, 0, "integrity over TLS (none only)");
	answer("\x04\x00\x10\x00", 4, NONE, KP_E_AUTH, 0, 0, "privacy, none only");
	answer("\x04\x00\x10\x00", 4, NONE | INTEG, KP_E_AUTH, 0, 0, "privacy, no conf_avail");
	answer("\x01\x00\x00\x00", 4, INTEG | PRIV, KP_E_AUTH, 0, 0,
	       "no layer when sasl_min_ssf requires one");
	answer("\x00\x00\x00\x00", 4, INTEG, KP_E_AUTH, 0, 0, "no bit, integrity required");
	answer("\x01\x00\x00\x00", 4, 0, KP_E_AUTH, 0, 0, "an empty offer answers nothing");
	answer("\x04\x00\x00\x00", 4, 0, KP_E_AUTH, 0, 0, "an empty offer, privacy");
	T_OK(strstr(why, "0x04") != NULL && strstr(why, "0x00") != NULL,
	     "the reason names the choice and the offer");

	/* libsasl2's readings, kept for the clients it served */
	answer("\x06\x00\x10\x00", 4, ALL, 0, INTEG, 4096, "both bits: integrity first");
	answer("\x06\x00\x10\x00", 4, NONE | PRIV, 0, PRIV, 4096, "both bits, privacy offered");
	answer("\x02\x00\x10\x00", 4, NONE | PRIV, 0, PRIV, 4096,
	       "integrity bit with only privacy offered: privacy");
	answer("\x00\x00\x00\x00", 4, ALL, 0, NONE, 0, "no bit at all: no layer");
	answer("\xf8\x00\x00\x00", 4, ALL, 0, NONE, 0, "unknown bits only: no layer");
	answer("\x83\x00\x00\x00", 4, ALL, 0, INTEG, 0, "unknown bits ignored");

	/* the buffer size */
	answer("\x01\xff\xff\xff", 4, ALL, 0, NONE, 0, "fetchmail's size without a layer: 0");
	answer("\x02\x00\x00\x00", 4, ALL, 0, INTEG, 0, "max size 0 with a layer: kept 0");
	answer("\x04\x00\x00\x00", 4, ALL, 0, PRIV, 0, "max size 0 with privacy: kept 0");
	answer("\x02\xff\xff\xff", 4, ALL, 0, INTEG, 0xffffff, "the largest size");
	answer("\x02\x00\x00\x01", 4, ALL, 0, INTEG, 1, "the smallest size");
}

static void
authzids(void)
{
	struct kp_ssf_answer a;
	unsigned char in[8];
	size_t i;

	/* the clients of DESIGN.md */
	a = answer("\x01\xff\xff\xff" "alice", 9, NONE, 0, NONE, 0, "fetchmail");
	authzid_is(&a, "alice", 5, "fetchmail's authzid");
	a = answer("\x01\xff\xff\xff", 4, NONE, 0, NONE, 0, "mpop");
	authzid_is(&a, NULL, 0, "mpop: none");
	a = answer("\x01\x00\x00\x00", 4, NONE, 0, NONE, 0, "curl");
	authzid_is(&a, NULL, 0, "curl: none");
	a = answer("\x01\x00\x00\x00" "alice@KPOP.TEST", 19, NONE, 0, NONE, 0, "pop3test");
	authzid_is(&a, "alice@KPOP.TEST", 15, "pop3test's authzid");
	a = answer("\x01\x00\x00\x00" "alice\0", 10, NONE, 0, NONE, 0, "an older client's NUL");
	authzid_is(&a, "alice", 5, "one trailing NUL removed");
	a = answer("\x02\x00\x40\x00" "alice", 9, ALL, 0, INTEG, 16384, "layer and authzid");
	authzid_is(&a, "alice", 5, "authzid with a layer");

	/* the authzid points into the input, not a copy */
	memcpy(in, "\x01\0\0\0" "bob", 7);
	T_EQ_INT(kp_ssf_answer_parse(in, 7, ALL, &a, why, sizeof(why)), 0, "bob");
	T_OK(a.authzid == in + 4 && a.authzid_len == 3, "into the input");

	/* white space around it, as libsasl2's canon_user removed it */
	a = answer("\x01\0\0\0" " \t alice\r\n ", 15, ALL, 0, NONE, 0, "spaces around");
	authzid_is(&a, "alice", 5, "trimmed");
	a = answer("\x01\0\0\0" "al ice", 10, ALL, 0, NONE, 0, "space inside");
	authzid_is(&a, "al ice", 6, "kept inside");
	a = answer("\x01\0\0\0" " alice \0", 12, ALL, 0, NONE, 0, "space before the NUL");
	authzid_is(&a, "alice ", 6, "the space before a trailing NUL stays (libsasl2)");
	a = answer("\x01\0\0\0" "\xc3\xa9t\xc3\xa9", 9, ALL, 0, NONE, 0, "UTF-8");
	authzid_is(&a, "\xc3\xa9t\xc3\xa9", 5, "UTF-8 kept as bytes");

	/* empty authzid: sent, but nothing in it */
	a = answer("\x01\0\0\0" "   ", 7, ALL, 0, NONE, 0, "white space only");
	authzid_is(&a, "", 0, "empty after trimming");
	a = answer("\x01\0\0\0" "\0", 5, ALL, 0, NONE, 0, "a lone NUL");
	authzid_is(&a, "", 0, "empty after the NUL");
	a = answer("\x01\0\0\0" "\v\f", 6, ALL, 0, NONE, 0, "vertical tab, form feed");
	authzid_is(&a, "", 0, "C-locale white space");

	/* NULs: exactly one trailing NUL, nothing else */
	answer("\x01\0\0\0" "alice\0\0", 11, ALL, KP_E_AUTH, 0, 0, "two trailing NULs");
	answer("\x01\0\0\0" "al\0ice", 10, ALL, KP_E_AUTH, 0, 0, "NUL inside");
	T_OK(strstr(why, "NUL") != NULL, "the reason says NUL");
	answer("\x01\0\0\0" "\0alice", 10, ALL, KP_E_AUTH, 0, 0, "leading NUL");
	answer("\x01\0\0\0" "\0\0", 6, ALL, KP_E_AUTH, 0, 0, "two NULs only");
	a = answer("\x01\0\0\0" "alice\0 ", 11, ALL, 0, NONE, 0, "NUL then a space");
	authzid_is(&a, "alice", 5, "white space first, then the one NUL");
	answer("\x01\0\0\0" "alice\0 \0", 12, ALL, KP_E_AUTH, 0, 0, "NUL, space, NUL");
	answer("\x01\0\0\0" "alice@KPOP.TEST\0bob", 23, ALL, KP_E_AUTH, 0, 0,
	       "a second name after a NUL");
	/* a layer the answer cannot have is refused before its authzid is looked at */
	answer("\x02\0\0\0" "al\0ice", 10, NONE, KP_E_AUTH, 0, 0, "bad layer, bad authzid");
	T_OK(strstr(why, "layer") != NULL, "the layer is the reason");

	/* the cap: at it, one past, with and without the trailing NUL and spaces */
	T_EQ_INT(sized(KP_SSF_AUTHZID_MAX, 0, &a), 0, "authzid at its cap");
	T_EQ_INT(a.authzid_len, KP_SSF_AUTHZID_MAX, "kept whole");
	T_EQ_INT(sized(KP_SSF_AUTHZID_MAX, 1, &a), 0, "at its cap plus the NUL");
	T_EQ_INT(a.authzid_len, KP_SSF_AUTHZID_MAX, "the NUL does not count");
	T_EQ_INT(sized(KP_SSF_AUTHZID_MAX + 1, 0, &a), KP_E_AUTH, "one past its cap");
	T_OK(!a.has_authzid && a.authzid == NULL, "nothing kept past the cap");
	T_EQ_INT(sized(KP_SSF_AUTHZID_MAX + 1, 1, &a), KP_E_AUTH, "one past, with the NUL");
	T_EQ_INT(sized(KP_AUTH_TOKEN_MAX, 0, &a), KP_E_AUTH, "a token-sized authzid");

	/* every prefix of a good answer: too short, or a shorter authzid */
	{
		static const unsigned char good[] = "\x02\x00\x40\x00" "alice";
		int ok = 1;

		for (i = 0; i < sizeof(good) - 1; i++) {
			int rc = kp_ssf_answer_parse(good, i, ALL, &a, why, sizeof(why));

			if (i < 4 ? rc != KP_E_AUTH : rc != 0 || a.layer != INTEG ||
			    a.maxbuf != 16384 || a.authzid_len != i - 4 ||
			    (i > 4) != (a.has_authzid != 0))
				ok = 0;
		}
		T_OK(ok, "prefixes");
	}
	/* a tiny why buffer is never overrun, and none at all is fine */
	{
		char small[4] = "abc";

		T_EQ_INT(kp_ssf_answer_parse("\x01", 1, ALL, &a, small, 1), KP_E_AUTH, "why of 1");
		T_OK(small[0] == '\0' && small[1] == 'b', "one byte written");
		T_EQ_INT(kp_ssf_answer_parse("\x01", 1, ALL, &a, NULL, 0), KP_E_AUTH, "why of 0");
	}
}

int
main(void)
{
	offers();
	layers();
	authzids();
	return tap_summary();
}
