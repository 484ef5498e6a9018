/* test-buf.c - unit tests of kp_buf: the hard maximum and the sticky error. */
#include "config.h"

#include <stdlib.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "tap.h"

int
main(void)
{
	struct kp_buf b;
	char *s;
	size_t n;
	int i;

	kp_buf_init(&b, 10, 0);
	T_EQ_INT(kp_buf_addstr(&b, "hello"), 0, "add");
	T_EQ_INT(kp_buf_addf(&b, "%d", 12345), 0, "addf to exactly max");
	T_EQ_INT(b.len, 10, "len at max");
	T_EQ_STR((char *)b.data, "hello12345", "contents NUL-terminated");
	T_EQ_INT(kp_buf_add(&b, "x", 1), KP_E_TOOBIG, "one past max");
	T_EQ_INT(b.len, 10, "unchanged after error");
	T_EQ_INT(kp_buf_add(&b, "", 0), KP_E_TOOBIG, "error is sticky");
	kp_buf_reset(&b);
	T_EQ_INT(b.err, 0, "reset clears the error");
	T_EQ_INT(kp_buf_add(&b, "abc", 3), 0, "usable after reset");
	T_EQ_INT(kp_buf_add(&b, "0123456789", (size_t)-1), KP_E_TOOBIG, "huge length");
	kp_buf_free(&b);

	kp_buf_init(&b, 1 << 20, 1);
	for (i = 0; i < 1000; i++)
		kp_buf_addf(&b, "%04d", i);
	T_EQ_INT(b.err, 0, "secret buffer grows");
	T_EQ_INT(b.len, 4000, "4000 bytes");
	T_OK(memcmp(b.data + 3996, "0999", 4) == 0, "contents survive growth");
	T_EQ_INT(kp_buf_addf(&b, "%2000000d", 1), KP_E_TOOBIG, "addf beyond max");
	s = kp_buf_steal(&b, &n);
	T_EQ_INT(n, 4000, "steal length");
	T_OK(s != NULL && b.data == NULL && b.len == 0, "steal empties");
	free(s);
	kp_buf_free(&b);
	return tap_summary();
}
