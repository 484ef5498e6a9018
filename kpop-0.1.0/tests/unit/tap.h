/* tap.h - the smallest test harness: checks count, failures name file:line, main
 * ends with tap_summary() which prints "N passed, N failed". */
#ifndef KP_TAP_H
#define KP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_pass, tap_fail;

#define T_OK(cond, name) do { \
	if (cond) { tap_pass++; } \
	else { tap_fail++; printf("FAIL %s:%d %s\n", __FILE__, __LINE__, (name)); } \
} while (0)

#define T_EQ_INT(a, b, name) do { \
	long long ta_ = (long long)(a), tb_ = (long long)(b); \
	if (ta_ == tb_) { tap_pass++; } \
	else { tap_fail++; printf("FAIL %s:%d %s: %lld != %lld\n", __FILE__, __LINE__, (name), ta_, tb_); } \
} while (0)

#define T_EQ_STR(a, b, name) do { \
	const char *ta_ = (a), *tb_ = (b); \
	if (ta_ != NULL && tb_ != NULL && strcmp(ta_, tb_) == 0) { tap_pass++; } \
	else { tap_fail++; printf("FAIL %s:%d %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, (name), \
		ta_ ? ta_ : "(null)", tb_ ? tb_ : "(null)"); } \
} while (0)

#define T_EQ_MEM(a, alen, b, blen, name) do { \
	size_t tal_ = (alen), tbl_ = (blen); \
	if (tal_ == tbl_ && memcmp((a), (b), tal_) == 0) { tap_pass++; } \
	else { tap_fail++; printf("FAIL %s:%d %s: %zu vs %zu bytes differ\n", __FILE__, __LINE__, (name), tal_, tbl_); } \
} while (0)

static int
tap_summary(void)
{
	printf("%d passed, %d failed\n", tap_pass, tap_fail);
	return tap_fail != 0;
}

#endif
