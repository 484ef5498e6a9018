/* kp_pop3.h - POP3 wire grammar shared by server and client: reply writing, reply
 * parsing with RFC 2449 response codes, command splitting, strict numbers. */
#ifndef KP_POP3_H
#define KP_POP3_H

#include <stddef.h>
#include "kp_io.h"

/* Write "+OK text\r\n" or "-ERR [CODE] text\r\n" (code may be NULL).  The formatted
 * text is cut to fit KP_REPLY_LINE_MAX and any CR, LF or NUL in it is replaced by a
 * space, so peer data in an argument can never forge a second line. */
int kp_pop3_ok(struct kp_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kp_pop3_err(struct kp_io *io, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "+ base64\r\n" continuation (data may be empty: "+ \r\n"). */
int kp_pop3_cont(struct kp_io *io, const char *b64);

enum kp_pop3_status { KP_POP3_OK = 1, KP_POP3_ERR = 2, KP_POP3_CONT = 3 };

struct kp_pop3_reply {
	enum kp_pop3_status status;
	char code[64];     /* RFC 2449 response code without brackets ("IN-USE",
	                    * "SYS/TEMP"), "" if none */
	const char *text;  /* points into the parsed line: rest after status and code */
};

/* Parse a reply line (without CRLF).  "+OK", "-ERR" (optionally followed by SP and
 * text, with an optional "[CODE]" first) and "+ " / "+" continuations.  Returns 0 or
 * KP_E_PROTO.  A malformed response code is left in text, not rejected. */
int kp_pop3_parse_reply(const char *line, struct kp_pop3_reply *out);

/* Split a command line in place at spaces into at most max words; a run of spaces
 * counts as one separator.  Returns the number of words, or KP_E_SYNTAX if there are
 * more than max. */
int kp_pop3_split(char *line, char **words, int max);

/* Strict unsigned decimal: digits only (no sign, space or trailing bytes), no
 * overflow, min <= value <= max.  Returns 0, KP_E_SYNTAX or KP_E_RANGE. */
int kp_parse_ulong(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/* Case-insensitive keyword compare (POP3 keywords are case-insensitive). */
int kp_pop3_is(const char *word, const char *keyword);

#endif
