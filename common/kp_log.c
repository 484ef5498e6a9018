/* kp_log.c - logging to syslog or stderr; peer data escaped, secrets redacted. */
#include "config.h"
#include "kp_log.h"

#include <errno.h>
#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "kpop";
static int log_syslog, log_stamp, log_warned;
static int log_facility = LOG_MAIL;
static int log_max = KP_LOG_INFO;
static char log_prefix[160];

/* The pid on every stderr line, asked once per process: a worker logs a few lines
 * a session, and getpid() is a system call.  A fork's child asks again. */
static long log_pid;

static void
forget_pid(void)
{
	log_pid = 0;
}

static long
my_pid(void)
{
	static int registered;

	if (!registered && pthread_atfork(NULL, NULL, forget_pid) == 0)
		registered = 1;
	if (log_pid == 0 || !registered)
		log_pid = (long)getpid();
	return log_pid;
}

/* Whether a syslog daemon listens on /dev/log (glibc's syslog() drops messages
 * silently when none does): 0, or the errno of the connect. */
static int
syslog_reachable(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun;
	size_t i;
	int err = ENOENT;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0), rc;

		if (fd < 0)
			return errno;
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		err = rc == 0 ? 0 : errno;
		close(fd);
		if (rc == 0 || err != EPROTOTYPE)
			break;
	}
	return err;
}

void
kp_log_open(const char *ident, int flags, int level)
{
	int err;

	log_ident = ident;
	log_stamp = (flags & KP_LOG_STAMP) != 0;
	log_max = level;
	if (log_syslog)
		closelog();
	log_syslog = 0;
	if (!(flags & KP_LOG_SYSLOG))
		return;
	if ((err = syslog_reachable()) != 0) {
		if (!log_warned)
			kp_log(KP_LOG_WARN, "log = syslog, but no syslog daemon listens on %s (%s): "
			       "logging to stderr", _PATH_LOG, strerror(err));
		log_warned = 1;
		return;
	}
	log_syslog = 1;
	openlog(ident, LOG_PID | LOG_NDELAY, log_facility);
}

void
kp_log_set_facility(int facility)
{
	log_facility = facility;
}

int
kp_log_to_syslog(void)
{
	return log_syslog;
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

/* "2026-12-02T10:03:09.123+01:00 " (local time, milliseconds, offset). */
static void
iso_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char day[32];
	long off;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		out[0] = '\0';
		return;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(out, cap, "%s.%03ld%c%02ld:%02ld ", day, ts.tv_nsec / 1000000L,
		 off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

static void vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

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
		char stamp[48] = "";

		if (log_stamp)
			iso_time(stamp, sizeof(stamp));
		fprintf(stderr, "%s%s[%ld]: %s%s%s%s\n", stamp, log_ident, my_pid(),
			log_prefix, log_prefix[0] ? ": " : "", tag[level & 3], msg);
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
