/* test-plain.c - unit tests of kp_plain: RFC 4616 messages, every malformed shape,
 * every cap at and one past its limit. */
#include "config.h"

#include <stdlib.h>

#include "kp_err.h"
#include "kp_plain.h"
#include "tap.h"

/* Parse the first n bytes of msg; expect rc. */
static void
parse(const char *msg, size_t n, int rc, const char *name)
{
	struct kp_plain p;

	T_EQ_INT(kp_plain_parse(msg, n, &p), rc, name);
	if (rc != 0)
		T_OK(p.authzid[0] == '\0' && p.authcid[0] == '\0' && p.password[0] == '\0',
		     "nothing kept on failure");
}

/* A message with fields of the given lengths ('z', 'c', 'p' repeated). */
static int
sized(size_t zl, size_t cl, size_t pl, struct kp_plain *p)
{
	size_t n = zl + cl + pl + 2;
	char *m = malloc(n);
	int rc;

	if (m == NULL)
		return KP_E_NOMEM;
	memset(m, 'z', zl);
	m[zl] = '\0';
	memset(m + zl + 1, 'c', cl);
	m[zl + 1 + cl] = '\0';
	memset(m + zl + cl + 2, 'p', pl);
	rc = kp_plain_parse(m, n, p);
	free(m);
	return rc;
}

int
main(void)
{
	struct kp_plain p;
	size_t zmax = sizeof(p.authzid) - 1, cmax = sizeof(p.authcid) - 1;
	size_t pmax = sizeof(p.password) - 1;

	/* the RFC 4616 examples' shapes */
	T_EQ_INT(kp_plain_parse("\0tim\0tanstaaftanstaaf", 21, &p), 0, "no authzid");
	T_EQ_STR(p.authzid, "", "empty authzid");
	T_EQ_STR(p.authcid, "tim", "authcid");
	T_EQ_STR(p.password, "tanstaaftanstaaf", "password");
	T_EQ_INT(kp_plain_parse("Ursel\0Kurt\0xipj3plmq", 20, &p), 0, "with authzid");
	T_EQ_STR(p.authzid, "Ursel", "authzid");
	T_EQ_STR(p.authcid, "Kurt", "authcid 2");
	T_EQ_STR(p.password, "xipj3plmq", "password 2");
	/* spaces and other octets but NUL belong to the password */
	T_EQ_INT(kp_plain_parse("\0a\0 x y\t", 8, &p), 0, "spaces in the password");
	T_EQ_STR(p.password, " x y\t", "kept as is");

	/* malformed */
	parse("", 0, KP_E_SYNTAX, "empty message");
	parse("alice", 5, KP_E_SYNTAX, "no NUL");
	parse("\0alice", 6, KP_E_SYNTAX, "one NUL");
	parse("alice\0pw", 8, KP_E_SYNTAX, "one NUL, authzid and authcid only");
	parse("\0\0pw", 4, KP_E_SYNTAX, "empty authcid");
	parse("\0alice\0", 7, KP_E_SYNTAX, "empty password");
	parse("\0\0", 2, KP_E_SYNTAX, "two NULs only");
	parse("\0alice\0pw\0", 10, KP_E_NUL, "trailing NUL");
	parse("\0alice\0p\0w", 10, KP_E_NUL, "NUL inside the password");
	parse("\0alice\0\0pw", 10, KP_E_NUL, "password starting with NUL");
	parse("\0\0\0", 3, KP_E_NUL, "three NULs");

	/* caps: at the limit, and one past */
	T_EQ_INT(sized(zmax, 1, 1, &p), 0, "authzid at its cap");
	T_EQ_INT(strlen(p.authzid), zmax, "authzid kept whole");
	T_EQ_INT(sized(zmax + 1, 1, 1, &p), KP_E_TOOBIG, "authzid over its cap");
	T_EQ_INT(sized(0, cmax, 1, &p), 0, "authcid at its cap");
	T_EQ_INT(sized(0, cmax + 1, 1, &p), KP_E_TOOBIG, "authcid over its cap");
	T_EQ_INT(sized(0, 1, pmax, &p), 0, "password at its cap");
	T_EQ_INT(strlen(p.password), pmax, "password kept whole");
	T_EQ_INT(sized(0, 1, pmax + 1, &p), KP_E_TOOBIG, "password over its cap");
	T_OK(p.authcid[0] == '\0' && p.password[0] == '\0', "wiped after TOOBIG");
	T_EQ_INT(sized(0, 1, 20000, &p), KP_E_TOOBIG, "a huge password");

	/* byte at a time: every prefix of a good message is refused or shorter */
	{
		static const char good[] = "alice\0alice\0secret";
		size_t n;

		for (n = 0; n < sizeof(good) - 1; n++) {
			int rc = kp_plain_parse(good, n, &p);

			T_OK(n >= 13 ? rc == 0 && strlen(p.password) == n - 12 : rc == KP_E_SYNTAX,
			     "prefix");
		}
	}
	return tap_summary();
}
