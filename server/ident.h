/* ident.h - whose uid a session runs as, and the one place that becomes it.
 *
 * The uid comes from the mapped user's passwd entry (or from mail_uid for virtual
 * users), never from the owner of whatever a path resolves to.  Privileges are
 * dropped before anything under the maildrop path is stat'ed or opened. */
#ifndef KP_SERVER_IDENT_H
#define KP_SERVER_IDENT_H

#include <limits.h>
#include <sys/types.h>
#include "kp_limits.h"
#include "server/conf.h"

struct kp_ident {
	uid_t uid;                /* the session runs as this uid ... */
	gid_t gid;                /* ... and group */
	int virtual_user;         /* mail_uid: no supplementary groups */
	char name[KP_NAME_MAX];   /* the passwd name for initgroups (system users) */
	char home[PATH_MAX];      /* the passwd home directory; "" if none */
};

/* Decide who user (already authorized for the principal) runs as.  Returns 0 and
 * fills *id_out; KP_E_NOTFOUND (no passwd entry where one is needed),
 * KP_E_AUTH (root or a system account below min_uid), KP_E_CONFIG (mail_uid or
 * mail_gid do not resolve, or a non-root daemon would need to switch).  why (cap
 * bytes) says why, for the log. */
int kp_ident_resolve(const struct kp_conf *c, const char *user, struct kp_ident *id_out,
		     char *why, size_t cap);

/* Become id: supplementary groups, gid, uid, each set for real, effective and saved
 * ids; then check that all three stuck and root cannot be regained.  A daemon that
 * is not root stays as it is (kp_ident_resolve made id its own uid).  Returns 0 or
 * KP_E_INTERNAL with errno set; the caller must then end the session. */
int kp_ident_become(const struct kp_ident *id);

/* Expand the maildir template for user (%u user, %h home directory, %% percent)
 * into out.  0, KP_E_NOTFOUND (%h and no home), KP_E_TOOBIG. */
int kp_ident_maildrop(const struct kp_conf *c, const char *user, const struct kp_ident *id,
		      char *out, size_t cap);

/* Record that the daemon started as root (or not): the auth service decides for
 * the daemon after it dropped its own privileges.  Call once at start. */
void kp_ident_init(void);

/* A process-model user (auth_user, worker_user) by name: its uid and primary gid.
 * The built-in default names fall back to "nobody" with a warning when they do
 * not exist; a configured name must exist.  Never root.  0 or KP_E_CONFIG. */
int kp_ident_lookup_service_user(const char *name, const char *setting, uid_t *uid_out,
				 gid_t *gid_out, char *why, size_t cap);

/* Virtual-user mode: the uid and gid of mail_uid / mail_gid.  0 or KP_E_CONFIG. */
int kp_ident_mail_user(const struct kp_conf *c, uid_t *uid_out, gid_t *gid_out, char *why,
		       size_t cap);

/* Become uid/gid with no supplementary groups (the auth service, workers), then
 * check as kp_ident_become does.  0 or KP_E_INTERNAL. */
int kp_ident_drop_to(uid_t uid, gid_t gid);

/* chroot to dir and chdir / (system-mode workers).  0 or KP_E_INTERNAL. */
int kp_ident_chroot(const char *dir);

#endif
