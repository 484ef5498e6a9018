/* keytab_check.h - kpopd -t's checks of what authentication will need: the keytab
 * (readable, not readable by others, keys for the service, the pinned principal),
 * the realms, the TLS certificate and key (load, match, dates, host name), the
 * rcache directory, the usermap file. */
#ifndef KP_SERVER_KEYTAB_CHECK_H
#define KP_SERVER_KEYTAB_CHECK_H

#include <stddef.h>
#include <krb5.h>
#include "server/conf.h"

/* Check c; print one line per finding to stderr ("kpopd: problem: ...; fix: ...",
 * warnings as "kpopd: warning: ..."), and with verbose the keytab's entries to
 * stdout.  Returns the number of problems (warnings do not count). */
int kp_selfcheck(const struct kp_conf *c, int verbose);

/* kpopd -t -k (keytab_live.c): for each principal of the service in the keytab (or
 * the pinned server_principal), get initial credentials from its key at the KDC,
 * ask the KDC for a service ticket to it, check that ticket's kvno and enctype
 * are in the keytab, and run it through kpopd's own GSSAPI acceptor with mutual
 * authentication (kp_gss_cred_new, kp_gss_accept_step).  Prints "live: P: ok"
 * per principal to stdout, each problem as kp_check_problem does.  Nothing is
 * written to the replay cache.  Returns the number of problems. */
int kp_selfcheck_live(const struct kp_conf *c, int verbose);

/* One finding on stderr: "kpopd: problem: WHAT; fix: FIX" (returns 1, to be
 * counted) or "kpopd: warning: WHAT; ADVICE". */
int kp_check_problem(const char *what, const char *fix);
void kp_check_warning(const char *what, const char *fix);

/* The keytab's name: "FILE:" + the keytab setting, KRB5_KTNAME, or libkrb5's
 * default. */
void kp_check_keytab_name(krb5_context ctx, const struct kp_conf *c, char *out, size_t cap);

#endif
