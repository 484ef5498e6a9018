/* fuzz-pop3.c - the POP3 grammar shared by server and client (common/kp_pop3.c):
 * reply parsing with RFC 2449 response codes, command splitting, the strict number
 * parser (checked against a model), and reply writing with hostile text (always
 * one line, within RFC 2449's 512 octets). */
#include "config.h"
#include "fuzz.h"

#include <ctype.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_pop3.h"

static struct fuzz_out fo;

static void
check_reply(const char *text, const char *code, int ok)
{
	static struct kp_io io;
	struct kp_pop3_reply r;
	char line[KP_REPLY_LINE_MAX + 1];
	unsigned char *out;
	size_t n, outlen;

	fuzz_capture(&io, &fo);
	if (ok)
		kp_pop3_ok(&io, "%s", text);
	else
		kp_pop3_err(&io, code, "%s", text);
	kp_io_flush(&io);
	out = fo.p;
	outlen = fo.len;
	FUZZ_CHECK(outlen >= 5 && outlen <= KP_REPLY_LINE_MAX, "kp_pop3_ok/err",
		   "reply longer than 512 octets");
	FUZZ_CHECK(out[outlen - 2] == '\r' && out[outlen - 1] == '\n', "kp_pop3_ok/err",
		   "reply does not end with CRLF");
	for (n = 0; n + 2 < outlen; n++)
		FUZZ_CHECK(out[n] != '\r' && out[n] != '\n' && out[n] != '\0', "kp_pop3_ok/err",
			   "peer text broke the reply into lines");
	memcpy(line, out, outlen - 2);
	line[outlen - 2] = '\0';
	FUZZ_CHECK(kp_pop3_parse_reply(line, &r) == 0 &&
		   r.status == (ok ? KP_POP3_OK : KP_POP3_ERR), "kp_pop3_parse_reply",
		   "our own reply does not parse");
}

/* The model of kp_parse_ulong: digits only, at most ~0UL, within [min, max]. */
static int
model_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *v_out)
{
	unsigned __int128 v = 0;
	int over = 0;

	if (*s == '\0')
		return KP_E_SYNTAX;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return KP_E_SYNTAX;
		if (!over) {
			v = v * 10 + (unsigned)(*s - '0');
			over = v > (unsigned __int128)~0UL;
		}
	}
	if (over || v < min || v > max)
		return KP_E_RANGE;
	*v_out = (unsigned long)v;
	return 0;
}

FUZZ_QUIET_INIT

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), *copy, *words[8];
	struct kp_pop3_reply r;
	unsigned long v = 0, mv = 0, min, max;
	size_t len = strlen(s);
	int rc, mrc, n, i;

	rc = kp_pop3_parse_reply(s, &r);
	FUZZ_CHECK(rc == 0 || rc == KP_E_PROTO, "kp_pop3_parse_reply", "unexpected return");
	if (rc == 0) {
		FUZZ_CHECK(r.text >= s && r.text <= s + len, "kp_pop3_parse_reply",
			   "text points outside the line");
		FUZZ_CHECK(strlen(r.code) < sizeof(r.code), "kp_pop3_parse_reply", "code");
		for (i = 0; r.code[i] != '\0'; i++)
			FUZZ_CHECK(r.code[i] > ' ' && r.code[i] < 0x7f && r.code[i] != ']',
				   "kp_pop3_parse_reply", "a response code with bad characters");
	}
	copy = fuzz_strdup((const uint8_t *)s, len);
	n = kp_pop3_split(copy, words, 8);
	FUZZ_CHECK(n == KP_E_SYNTAX || (n >= 0 && n <= 8), "kp_pop3_split", "count");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(words[i][0] != '\0' && strchr(words[i], ' ') == NULL &&
			   words[i] >= copy && words[i] < copy + len, "kp_pop3_split",
			   "a word is empty, holds a space or lies outside the line");
	free(copy);
	min = size > 0 ? data[0] % 3 : 0;
	max = size > 1 && data[1] % 2 ? 4294967295UL : ~0UL;
	rc = kp_parse_ulong(s, min, max, &v);
	mrc = model_ulong(s, min, max, &mv);
	FUZZ_CHECK(rc == mrc && (rc != 0 || v == mv), "kp_parse_ulong", "differs from the model");
	check_reply(s, NULL, 1);
	check_reply(s, size > 2 && data[2] % 2 ? "SYS/TEMP" : NULL, 0);
	free(s);
	return 0;
}
