/* test-pop3.c - unit tests of kp_pop3: strict numbers, splitting, reply parsing and
 * writing (RFC 2449 response codes, line cap, CR/LF injection). */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_pop3.h"
#include "tap.h"

static void
num(const char *s, unsigned long min, unsigned long max, int want_rc, unsigned long want)
{
	unsigned long v = 12345;
	int rc = kp_parse_ulong(s, min, max, &v);

	T_EQ_INT(rc, want_rc, s);
	if (want_rc == 0)
		T_EQ_INT(v, want, s);
	else
		T_EQ_INT(v, 12345, "no output on error");
}

/* Write a reply through a pipe and read back what went on the wire. */
static size_t
wire(int ok, const char *code, const char *text, char *out, size_t cap)
{
	struct kp_io io;
	int p[2];
	ssize_t n;

	if (pipe(p) != 0)
		abort();
	kp_io_init(&io, -1, p[1], 1000);
	if (ok)
		kp_pop3_ok(&io, "%s", text);
	else
		kp_pop3_err(&io, code, "%s", text);
	kp_io_flush(&io);
	close(p[1]);
	n = read(p[0], out, cap - 1);
	close(p[0]);
	out[n < 0 ? 0 : n] = '\0';
	return n < 0 ? 0 : (size_t)n;
}

int
main(void)
{
	struct kp_pop3_reply r;
	char line[64], *w[4], out[2000], big[1000];
	size_t n;

	num("1", 1, 10, 0, 1);
	num("10", 1, 10, 0, 10);
	num("0", 1, 10, KP_E_RANGE, 0);
	num("11", 1, 10, KP_E_RANGE, 0);
	num("4294967297", 1, 4294967295UL, KP_E_RANGE, 0);
	num("18446744073709551615", 0, ULONG_MAX, 0, ULONG_MAX);
	num("18446744073709551616", 0, ULONG_MAX, KP_E_RANGE, 0);
	num("99999999999999999999999", 0, ULONG_MAX, KP_E_RANGE, 0);
	num("99999999999999999999999x", 0, ULONG_MAX, KP_E_SYNTAX, 0);
	num("", 0, 10, KP_E_SYNTAX, 0);
	num("+1", 0, 10, KP_E_SYNTAX, 0);
	num("-1", 0, 10, KP_E_SYNTAX, 0);
	num(" 1", 0, 10, KP_E_SYNTAX, 0);
	num("1 ", 0, 10, KP_E_SYNTAX, 0);
	num("1x", 0, 10, KP_E_SYNTAX, 0);
	num("0x10", 0, 100, KP_E_SYNTAX, 0);
	num("007", 0, 10, 0, 7);

	snprintf(line, sizeof(line), "  RETR   1  ");
	T_EQ_INT(kp_pop3_split(line, w, 4), 2, "split counts words");
	T_EQ_STR(w[0], "RETR", "word 0");
	T_EQ_STR(w[1], "1", "word 1");
	snprintf(line, sizeof(line), "A B C D E");
	T_EQ_INT(kp_pop3_split(line, w, 4), KP_E_SYNTAX, "too many words");
	snprintf(line, sizeof(line), "   ");
	T_EQ_INT(kp_pop3_split(line, w, 4), 0, "empty line");
	T_OK(kp_pop3_is("retr", "RETR"), "keywords are case-insensitive");
	T_OK(!kp_pop3_is("RETRX", "RETR"), "no prefix match");

	T_EQ_INT(kp_pop3_parse_reply("+OK 2 320", &r), 0, "+OK");
	T_EQ_INT(r.status, KP_POP3_OK, "+OK status");
	T_EQ_STR(r.text, "2 320", "+OK text");
	T_EQ_INT(kp_pop3_parse_reply("+OK", &r), 0, "bare +OK");
	T_EQ_STR(r.text, "", "bare +OK text");
	T_EQ_INT(kp_pop3_parse_reply("-ERR [IN-USE] locked", &r), 0, "-ERR code");
	T_EQ_INT(r.status, KP_POP3_ERR, "-ERR status");
	T_EQ_STR(r.code, "IN-USE", "resp-code");
	T_EQ_STR(r.text, "locked", "-ERR text");
	T_EQ_INT(kp_pop3_parse_reply("-ERR [SYS/TEMP] later", &r), 0, "hierarchical code");
	T_EQ_STR(r.code, "SYS/TEMP", "SYS/TEMP");
	T_EQ_INT(kp_pop3_parse_reply("-ERR [bad code!] x", &r), 0, "malformed code");
	T_EQ_STR(r.code, "", "malformed code not taken");
	T_EQ_STR(r.text, "[bad code!] x", "malformed code stays in text");
	T_EQ_INT(kp_pop3_parse_reply("+ YWJj", &r), 0, "continuation");
	T_EQ_INT(r.status, KP_POP3_CONT, "continuation status");
	T_EQ_STR(r.text, "YWJj", "continuation data");
	T_EQ_INT(kp_pop3_parse_reply("+ ", &r), 0, "empty continuation");
	T_EQ_STR(r.text, "", "empty continuation data");
	T_EQ_INT(kp_pop3_parse_reply("+OKAY", &r), KP_E_PROTO, "+OKAY is not +OK");
	T_EQ_INT(kp_pop3_parse_reply("OK", &r), KP_E_PROTO, "garbage");
	T_EQ_INT(kp_pop3_parse_reply("", &r), KP_E_PROTO, "empty");

	wire(1, NULL, "hello", out, sizeof(out));
	T_EQ_STR(out, "+OK hello\r\n", "ok reply");
	wire(1, NULL, "", out, sizeof(out));
	T_EQ_STR(out, "+OK\r\n", "empty ok reply");
	wire(0, "AUTH", "no", out, sizeof(out));
	T_EQ_STR(out, "-ERR [AUTH] no\r\n", "err reply with code");
	wire(0, NULL, "a\r\nRETR 1\0x", out, sizeof(out));
	T_EQ_STR(out, "-ERR a  RETR 1\r\n", "CR/LF in text cannot forge a line");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = wire(1, NULL, big, out, sizeof(out));
	T_EQ_INT(n, 512, "reply capped at 512 octets incl. CRLF");
	T_OK(out[510] == '\r' && out[511] == '\n', "capped reply ends in CRLF");
	return tap_summary();
}
