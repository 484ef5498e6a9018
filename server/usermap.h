/* usermap.h - Kerberos principal -> local user name: the one authorization mapping
 * used by every authentication mechanism. */
#ifndef KP_USERMAP_H
#define KP_USERMAP_H

#include <stddef.h>
#include "server/conf.h"

/* Map principal (e.g. "alice@KPOP.TEST") to a local user name.  The realm must be in
 * c->realms (default: the default realm) in every mode.  Modes (c->usermap): realm
 * strips it (a multi-component principal is refused unless c->allow_instances, in
 * which case its first component is the user); aname2lname applies krb5.conf's
 * auth_to_local rules; file looks the principal up in c->usermap_file.  The user
 * name must be safe as a path element ([A-Za-z0-9._-], not starting with '.').
 * On success writes the name to user_out (cap bytes) and returns 0; otherwise
 * returns KP_E_AUTH and writes the reason for the log to why (whycap bytes). */
int kp_usermap_map(const struct kp_conf *c, const char *principal, char *user_out,
		   size_t cap, char *why, size_t whycap);

/* kpopd -t: does the map file parse (every entry "principal@REALM user" with a
 * valid user name)?  0 and the number of entries, or KP_E_CONFIG with the first
 * bad line (path:line: reason) in why. */
int kp_usermap_check_file(const char *path, int *entries_out, char *why, size_t cap);

/* Is name a safe local user name (see above)? */
int kp_usermap_valid_user(const char *name);

#endif
