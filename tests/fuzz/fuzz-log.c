/* fuzz-log.c - peer data in the log (common/kp_log.c): kp_log_escape always ends
 * within its cap with only printable ASCII, and undoes to the input when it fits;
 * kp_log and kp_log_proto (PASS and AUTH redaction) take any bytes. */
#include "config.h"
#include "fuzz.h"

#include "kp_log.h"

static char out[8192];

/* Undo kp_log_escape (\xHH); returns the length, or -1 if the text is malformed. */
static long
unescape(const char *s, char *to)
{
	long n = 0;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'x') {
			unsigned v = 0;
			int i;

			for (i = 2; i < 4; i++) {
				char c = s[i];

				if (c >= '0' && c <= '9')
					v = v * 16 + (unsigned)(c - '0');
				else if (c >= 'a' && c <= 'f')
					v = v * 16 + (unsigned)(c - 'a' + 10);
				else if (c >= 'A' && c <= 'F')
					v = v * 16 + (unsigned)(c - 'A' + 10);
				else
					return -1;
			}
			to[n++] = (char)v;
			s += 4;
		} else {
			to[n++] = *s++;
		}
	}
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	kp_log_open("fuzz", 0, KP_LOG_DEBUG); /* the formatting runs; stderr is closed */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, n, i;
	char *s, *back;
	long bn;

	if (size == 0 || size > 1000)
		return 0;
	cap = data[0] % 2 ? sizeof(out) : (size_t)(data[0] % 64) + 1;
	n = kp_log_escape((const char *)data + 1, size - 1, out, cap);
	FUZZ_CHECK(n < cap && out[n] == '\0' && strlen(out) == n, "kp_log_escape",
		   "not NUL-terminated within its cap");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f, "kp_log_escape",
			   "a byte outside 0x20-0x7e");
	if (cap == sizeof(out)) {
		int escaped_input = 0;

		/* a backslash in the input is not escaped: only check inputs without one */
		for (i = 1; i < size; i++)
			if (data[i] == '\\')
				escaped_input = 1;
		if (!escaped_input) {
			back = malloc(size);
			if (back == NULL)
				abort();
			bn = unescape(out, back);
			FUZZ_CHECK(bn == (long)size - 1 && memcmp(back, data + 1, size - 1) == 0,
				   "kp_log_escape", "escaped text does not undo to the input");
			free(back);
		}
	}
	s = fuzz_strdup(data + 1, size - 1);
	kp_log(KP_LOG_INFO, "peer said %s", s);
	kp_log_proto("C:", (const char *)data + 1, size - 1, data[0] & 2);
	kp_log_proto("S:", s, strlen(s), 0);
	free(s);
	return 0;
}
