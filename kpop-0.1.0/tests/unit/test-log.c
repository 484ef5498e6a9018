/* test-log.c - unit tests of kp_log: escaping of peer data and redaction. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kp_log.h"
#include "tap.h"

/* Run kp_log_proto with stderr captured; return what it wrote. */
static void
proto(const char *line, int in_auth, char *out, size_t cap)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(f), 2);
	kp_log_proto("C:", line, strlen(line), in_auth);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

int
main(void)
{
	char out[512];

	kp_log_escape("a\r\nb\x01\xff\\", 7, out, sizeof(out));
	T_EQ_STR(out, "a\\x0d\\x0ab\\x01\\xff\\x5c", "control bytes escaped");
	kp_log_escape("abcdefghij", 10, out, 8);
	T_EQ_STR(out, "abcd...", "cut with ... within the cap");
	kp_log_escape("x", 1, out, 1);
	T_EQ_STR(out, "", "tiny buffer");

	kp_log_open("test", 0, KP_LOG_DEBUG);
	proto("PASS secret-password", 0, out, sizeof(out));
	T_OK(strstr(out, "secret") == NULL, "PASS argument redacted");
	T_OK(strstr(out, "PASS <redacted 15 bytes>") != NULL, "PASS redaction marker");
	proto("AUTH GSSAPI YIIBcwYJKoZIhvcSAQICAQBu", 0, out, sizeof(out));
	T_OK(strstr(out, "YIIB") == NULL, "AUTH initial response redacted");
	T_OK(strstr(out, "AUTH GSSAPI <redacted") != NULL, "AUTH mechanism kept");
	proto("YIIBcwYJKoZIhvcSAQICAQBu", 1, out, sizeof(out));
	T_OK(strstr(out, "YIIB") == NULL, "continuation line redacted");
	proto("*", 1, out, sizeof(out));
	T_OK(strstr(out, "C: *") != NULL, "cancel shown");
	proto("RETR 1", 0, out, sizeof(out));
	T_OK(strstr(out, "C: RETR 1") != NULL, "commands shown");
	kp_log_open("test", 0, KP_LOG_INFO);
	proto("RETR 1", 0, out, sizeof(out));
	T_EQ_STR(out, "", "no trace below debug");
	return tap_summary();
}
