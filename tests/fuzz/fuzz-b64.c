/* fuzz-b64.c - base64 (kp_b64_decode, kp_b64_encode): strict decoding never reads
 * or writes out of bounds, whatever it accepts re-encodes to the same text, and
 * every byte string survives a round trip. */
#include "config.h"
#include "fuzz.h"

#include "kp_b64.h"
#include "kp_err.h"

FUZZ_QUIET_INIT

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = size, len = 0, elen = 0, dlen = 0;
	unsigned char *out, *back;
	char *text, *enc;
	int rc;

	/* the first byte picks an output cap below the input's size too */
	if (size > 0)
		cap = data[0] % 2 ? size : (size * 3) / 4 / ((data[0] >> 1) % 4 + 1);
	text = fuzz_strdup(data, size);
	out = malloc(cap + 1);
	enc = malloc(KP_B64_ENCLEN(size) + 1);
	back = malloc(size + 1);
	if (out == NULL || enc == NULL || back == NULL)
		abort();
	rc = kp_b64_decode(text, size, out, cap, &len);
	FUZZ_CHECK(rc == 0 || rc == KP_E_SYNTAX || rc == KP_E_TOOBIG, "kp_b64_decode",
		   "unexpected return code");
	if (rc == 0) {
		FUZZ_CHECK(len <= cap, "kp_b64_decode", "wrote past its cap");
		rc = kp_b64_encode(out, len, enc, KP_B64_ENCLEN(size), &elen);
		FUZZ_CHECK(rc == 0, "kp_b64_encode", "cannot encode what was decoded");
		FUZZ_CHECK(elen == size && memcmp(enc, text, size) == 0, "kp_b64_decode",
			   "accepted text that is not the canonical encoding of its result");
	}
	/* any bytes: encode, decode back */
	rc = kp_b64_encode(data, size, enc, KP_B64_ENCLEN(size), &elen);
	FUZZ_CHECK(rc == 0 && elen + 1 == KP_B64_ENCLEN(size) && enc[elen] == '\0',
		   "kp_b64_encode", "wrong length");
	rc = kp_b64_decode(enc, elen, back, size, &dlen);
	FUZZ_CHECK(rc == 0 && dlen == size && memcmp(back, data, size) == 0, "kp_b64_decode",
		   "round trip changed the bytes");
	/* one byte short of the room needed is refused, not overrun */
	if (size > 0) {
		rc = kp_b64_encode(data, size, enc, KP_B64_ENCLEN(size) - 1, &elen);
		FUZZ_CHECK(rc == KP_E_TOOBIG, "kp_b64_encode", "accepted a cap too small");
	}
	free(text);
	free(out);
	free(enc);
	free(back);
	return 0;
}
