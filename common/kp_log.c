/* kp_log.c - logging to syslog or stderr; peer data escaped, secrets redacted. */
#include "config.h"
#include "kp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_ident = "kpop";
static int log_syslog;
static int log_max = KP_LOG_INFO;
static char log_prefix[160];

void
kp_log_open(const char *ident, int use_syslog, int level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
kp_log_level(void)
{
	return log_max;
}

void
kp_log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix != NULL ? prefix : "");
}

/* Copy in to out (cap >= 4 * strlen(in) + 1) with control characters as \xHH. */
static void
escape_controls(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in != '\0' && o + 5 <= cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void
vlog(int level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error: ", "warning: ", "", "debug: " };
	char raw[2048], msg[2048 * 4];

	if (level > log_max)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* Every message: names and texts from peers, users and mailboxes (a Maildir
	 * file name with a newline in it) can never forge a log line or reach a
	 * terminal as a control sequence. */
	escape_controls(raw, msg, sizeof(msg));
	if (log_syslog) {
		syslog(prio[level & 3], "%s%s%s", log_prefix, log_prefix[0] ? ": " : "", msg);
	} else {
		fprintf(stderr, "%s[%ld]: %s%s%s%s\n", log_ident, (long)getpid(), log_prefix,
			log_prefix[0] ? ": " : "", tag[level & 3], msg);
		fflush(stderr);
	}
}

void
kp_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void
kp_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(KP_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

size_t
kp_log_escape(const char *in, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c >= 0x20 && c <= 0x7e && c != '\\') ? 1 : 4;

		if (o + need + 4 > cap) { /* room for "..." and NUL */
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

void
kp_log_proto(const char *dir, const char *line, size_t n, int in_auth)
{
	char esc[600];
	size_t keep = n;

	if (log_max < KP_LOG_DEBUG)
		return;
	if (in_auth) {
		keep = (n == 1 && line[0] == '*') ? 1 : 0;
	} else if (n >= 5 && strncasecmp(line, "PASS ", 5) == 0) {
		keep = 5;
	} else if (n >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		/* keep "AUTH MECH", redact an initial response */
		const char *sp = memchr(line + 5, ' ', n - 5);

		if (sp != NULL)
			keep = (size_t)(sp - line) + 1;
	}
	kp_log_escape(line, keep, esc, sizeof(esc));
	if (keep < n)
		kp_log(KP_LOG_DEBUG, "%s %s<redacted %zu bytes>", dir, esc, n - keep);
	else
		kp_log(KP_LOG_DEBUG, "%s %s", dir, esc);
}
