/* keytab_check.h - kpopd -t's checks of what authentication will need: the keytab
 * (readable, not readable by others, keys for the service, the pinned principal),
 * the realms, the TLS certificate and key (load, match, dates, host name), the
 * rcache directory, the usermap file. */
#ifndef KP_SERVER_KEYTAB_CHECK_H
#define KP_SERVER_KEYTAB_CHECK_H

#include "server/conf.h"

/* Check c; print one line per finding to stderr ("kpopd: problem: ...; fix: ...",
 * warnings as "kpopd: warning: ..."), and with verbose the keytab's entries to
 * stdout.  Returns the number of problems (warnings do not count). */
int kp_selfcheck(const struct kp_conf *c, int verbose);

#endif
