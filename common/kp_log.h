/* kp_log.h - logging to syslog or stderr; peer data is escaped, secrets redacted. */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stddef.h>

enum kp_log_level { KP_LOG_ERR = 0, KP_LOG_WARN = 1, KP_LOG_INFO = 2, KP_LOG_DEBUG = 3 };

/* ident: program name; use_syslog: 0 stderr, 1 syslog (facility mail);
 * level: most verbose level written. */
void kp_log_open(const char *ident, int use_syslog, int level);
int kp_log_level(void);

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
