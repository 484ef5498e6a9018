/* kp_pop3.c - POP3 wire grammar shared by server and client. */
#include "config.h"
#include "kp_pop3.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kp_err.h"
#include "kp_limits.h"

/* One reply line: prefix, optional [code], text; CR, LF and NUL in the text become
 * spaces and the whole line is cut to fit KP_REPLY_LINE_MAX with its CRLF. */
static int reply(struct kp_io *io, const char *prefix, const char *code, const char *fmt,
		 va_list ap) __attribute__((format(printf, 4, 0)));

static int
reply(struct kp_io *io, const char *prefix, const char *code, const char *fmt, va_list ap)
{
	char line[KP_REPLY_LINE_MAX + 1];
	size_t n, i, start;
	int r;

	if (code != NULL && code[0] != '\0')
		r = snprintf(line, sizeof(line), "%s [%s]", prefix, code);
	else
		r = snprintf(line, sizeof(line), "%s", prefix);
	if (r < 0)
		return KP_E_INTERNAL;
	n = (size_t)r;
	start = n;
	if (n < KP_REPLY_LINE_MAX - 2) {
		line[n] = ' ';
		r = vsnprintf(line + n + 1, KP_REPLY_LINE_MAX - 2 - n, fmt, ap);
		if (r < 0)
			return KP_E_INTERNAL;
		n = strlen(line);
		if (n == start + 1)
			n = start; /* empty text: no trailing space */
	}
	for (i = start; i < n; i++)
		if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0')
			line[i] = ' ';
	line[n++] = '\r';
	line[n++] = '\n';
	return kp_io_write(io, line, n);
}

int
kp_pop3_ok(struct kp_io *io, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply(io, "+OK", NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int
kp_pop3_err(struct kp_io *io, const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply(io, "-ERR", code, fmt, ap);
	va_end(ap);
	return rc;
}

int
kp_pop3_cont(struct kp_io *io, const char *b64)
{
	int rc = kp_io_write(io, "+ ", 2);

	if (rc == 0)
		rc = kp_io_write(io, b64, strlen(b64));
	if (rc == 0)
		rc = kp_io_write(io, "\r\n", 2);
	return rc;
}

int
kp_pop3_parse_reply(const char *line, struct kp_pop3_reply *out)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' ')) {
		out->status = KP_POP3_OK;
		p = line + 3;
	} else if (strncmp(line, "-ERR", 4) == 0 && (line[4] == '\0' || line[4] == ' ')) {
		out->status = KP_POP3_ERR;
		p = line + 4;
	} else if (line[0] == '+' && (line[1] == '\0' || line[1] == ' ')) {
		out->status = KP_POP3_CONT;
		out->text = line[1] == ' ' ? line + 2 : line + 1;
		return 0;
	} else {
		return KP_E_PROTO;
	}
	if (*p == ' ')
		p++;
	/* RFC 2449 section 8: "[" resp-code "]", the code being atoms joined by "/". */
	if (*p == '[') {
		const char *end = strchr(p, ']');
		size_t n = end != NULL ? (size_t)(end - p - 1) : 0;
		size_t i;
		int ok = end != NULL && n > 0 && n < sizeof(out->code);

		for (i = 0; ok && i < n; i++) {
			char c = p[1 + i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '/'))
				ok = 0;
		}
		if (ok) {
			memcpy(out->code, p + 1, n);
			out->code[n] = '\0';
			p = end + 1;
			if (*p == ' ')
				p++;
		}
	}
	out->text = p;
	return 0;
}

int
kp_pop3_split(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return KP_E_SYNTAX;
		words[n++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return n;
}

int
kp_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p == '\0')
		return KP_E_SYNTAX;
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return KP_E_SYNTAX;
		d = (unsigned)(*p - '0');
		if (v > (~0UL - d) / 10) {
			/* overflow: keep checking syntax, then report range */
			for (; *p != '\0'; p++)
				if (*p < '0' || *p > '9')
					return KP_E_SYNTAX;
			return KP_E_RANGE;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return KP_E_RANGE;
	*out = v;
	return 0;
}

int
kp_pop3_is(const char *word, const char *keyword)
{
	return strcasecmp(word, keyword) == 0;
}
