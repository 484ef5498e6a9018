/* kp_plain.c - the SASL PLAIN message (RFC 4616), parsed strictly. */
#include "config.h"
#include "kp_plain.h"

#include <string.h>

#include "kp_err.h"

/* Copy the field p/n into out (cap bytes with the NUL). */
static int
field(const unsigned char *p, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return KP_E_TOOBIG;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
kp_plain_parse(const void *msg, size_t len, struct kp_plain *out)
{
	const unsigned char *m = msg, *nul1, *nul2, *pw;
	size_t pwlen;
	int rc;

	explicit_bzero(out, sizeof(*out));
	nul1 = len > 0 ? memchr(m, '\0', len) : NULL;
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - m)) : NULL;
	if (nul2 == NULL)
		return KP_E_SYNTAX;
	pw = nul2 + 1;
	pwlen = len - (size_t)(pw - m);
	if (memchr(pw, '\0', pwlen) != NULL)
		return KP_E_NUL;
	if (nul2 == nul1 + 1 || pwlen == 0)
		return KP_E_SYNTAX;
	rc = field(m, (size_t)(nul1 - m), out->authzid, sizeof(out->authzid));
	if (rc == 0)
		rc = field(nul1 + 1, (size_t)(nul2 - nul1 - 1), out->authcid, sizeof(out->authcid));
	if (rc == 0)
		rc = field(pw, pwlen, out->password, sizeof(out->password));
	if (rc != 0)
		explicit_bzero(out, sizeof(*out));
	return rc;
}
