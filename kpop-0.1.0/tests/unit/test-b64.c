/* test-b64.c - unit tests of kp_b64: RFC 4648 vectors and strict decoding. */
#include "config.h"

#include "kp_b64.h"
#include "kp_err.h"
#include "tap.h"

static void
roundtrip(const char *plain, const char *coded)
{
	char out[64], back[64];
	size_t n, m;

	T_EQ_INT(kp_b64_encode(plain, strlen(plain), out, sizeof(out), &n), 0, coded);
	T_EQ_STR(out, coded, "encode");
	T_EQ_INT(kp_b64_decode(coded, strlen(coded), back, sizeof(back), &m), 0, coded);
	T_EQ_MEM(back, m, plain, strlen(plain), "decode");
}

static void
bad(const char *in)
{
	unsigned char out[64];
	size_t n = 99;

	T_EQ_INT(kp_b64_decode(in, strlen(in), out, sizeof(out), &n), KP_E_SYNTAX, in);
	T_EQ_INT(n, 0, "no output on error");
}

int
main(void)
{
	unsigned char all[256], back[256];
	char coded[400];
	size_t n, m, i;

	roundtrip("", "");
	roundtrip("f", "Zg==");
	roundtrip("fo", "Zm8=");
	roundtrip("foo", "Zm9v");
	roundtrip("foob", "Zm9vYg==");
	roundtrip("fooba", "Zm9vYmE=");
	roundtrip("foobar", "Zm9vYmFy");
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	T_EQ_INT(kp_b64_encode(all, 256, coded, sizeof(coded), &n), 0, "encode 256");
	T_EQ_INT(kp_b64_decode(coded, n, back, sizeof(back), &m), 0, "decode 256");
	T_EQ_MEM(back, m, all, 256, "all bytes round trip");
	bad("Zg=");      /* length not a multiple of 4 */
	bad("Zg");
	bad("Z===");
	bad("Zg==Zg=="); /* padding in the middle */
	bad("Zh==");     /* unused bits not zero */
	bad("Zm9=");
	bad("Zm 9v");
	bad("Zm9v\n");
	bad("Zm-v");     /* base64url is not base64 */
	bad("=Zm9");
	bad("!!!!");
	/* output cap */
	T_EQ_INT(kp_b64_decode("Zm9vYmFy", 8, back, 5, &m), KP_E_TOOBIG, "decode cap");
	T_EQ_INT(kp_b64_encode("foobar", 6, coded, 8, &n), KP_E_TOOBIG, "encode cap (NUL)");
	T_EQ_INT(kp_b64_encode("foobar", 6, coded, 9, &n), 0, "encode exact cap");
	return tap_summary();
}
