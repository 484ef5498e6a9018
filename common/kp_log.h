/* kp_log.h - logging to syslog or stderr; peer data is escaped, secrets redacted. */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stddef.h>

enum kp_log_level { KP_LOG_ERR = 0, KP_LOG_WARN = 1, KP_LOG_INFO = 2, KP_LOG_DEBUG = 3 };

/* kp_log_open's flags. */
#define KP_LOG_SYSLOG 1 /* syslog (else stderr); falls back to stderr, with one
			 * warning, when no syslog daemon listens on /dev/log */
#define KP_LOG_STAMP 2  /* stderr lines start with an ISO-8601 local time */

/* ident: program name; flags: KP_LOG_*; level: most verbose level written.  May be
 * called again (a reload) to change any of them. */
void kp_log_open(const char *ident, int flags, int level);
int kp_log_level(void);

/* The syslog facility (syslog.h LOG_*; LOG_MAIL unless set); takes effect at the
 * next kp_log_open. */
void kp_log_set_facility(int facility);

/* 1 when messages go to syslog, 0 when to stderr (also after a fallback). */
int kp_log_to_syslog(void);

/* Prefix put before every message, e.g. "session 12 [127.0.0.1]:5555"; NULL clears. */
void kp_log_set_prefix(const char *prefix);

/* Log one message; control characters in the result (from any argument) are
 * written as \xHH, so no argument can break a line or send escape sequences. */
void kp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kp_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Copy n bytes of peer data into out (cap bytes, always NUL-terminated) with every
 * byte outside 0x20-0x7E written as \xHH; cut with "..." if it does not fit.
 * Returns the length written. */
size_t kp_log_escape(const char *in, size_t n, char *out, size_t cap);

/* Protocol trace at DEBUG: dir is "C:" or "S:".  The arguments of PASS, and AUTH
 * initial responses and continuation lines (base64 tokens), are replaced by
 * "<redacted N bytes>". in_auth: the line is an AUTH continuation line. */
void kp_log_proto(const char *dir, const char *line, size_t n, int in_auth);

#endif
