/* ident.c - whose uid a session runs as, and the one place that becomes it. */
#include "config.h"
#include "server/ident.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_pop3.h"

/* A uid or gid given as a number; 0 and *out set, or -1 for "not a number". */
static int
parse_id(const char *v, unsigned long *out)
{
	return kp_parse_ulong(v, 0, 0x7fffffffUL, out) == 0 ? 0 : -1;
}

static int
copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return KP_E_TOOBIG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* mail_uid / mail_gid: every session as one mail uid (virtual users). */
static int
resolve_mail_uid(const struct kp_conf *c, struct kp_ident *id, char *why, size_t cap)
{
	const struct passwd *pw;
	unsigned long n;

	if (parse_id(c->mail_uid, &n) == 0) {
		id->uid = (uid_t)n;
		pw = getpwuid(id->uid);
		id->gid = pw != NULL ? pw->pw_gid : (gid_t)n;
	} else if ((pw = getpwnam(c->mail_uid)) != NULL) {
		id->uid = pw->pw_uid;
		id->gid = pw->pw_gid;
	} else {
		snprintf(why, cap, "mail_uid %s: no such user", c->mail_uid);
		return KP_E_CONFIG;
	}
	if (c->mail_gid != NULL) {
		const struct group *gr;

		if (parse_id(c->mail_gid, &n) == 0) {
			id->gid = (gid_t)n;
		} else if ((gr = getgrnam(c->mail_gid)) != NULL) {
			id->gid = gr->gr_gid;
		} else {
			snprintf(why, cap, "mail_gid %s: no such group", c->mail_gid);
			return KP_E_CONFIG;
		}
	}
	if (id->uid == 0) {
		snprintf(why, cap, "mail_uid must not be root");
		return KP_E_CONFIG;
	}
	id->virtual_user = 1;
	return 0;
}

int
kp_ident_resolve(const struct kp_conf *c, const char *user, struct kp_ident *id_out,
		 char *why, size_t cap)
{
	const struct passwd *pw;
	struct kp_ident id;
	int rc;

	memset(id_out, 0, sizeof(*id_out));
	memset(&id, 0, sizeof(id));
	snprintf(why, cap, "ok");
	pw = getpwnam(user);
	/* A name that is a system account is refused in every mode: root@REALM must
	 * never become root, nor daemon@REALM the daemon account. */
	if (pw != NULL && pw->pw_uid == 0 && !c->allow_root) {
		snprintf(why, cap, "%s is uid 0 (allow_root = no)", user);
		return KP_E_AUTH;
	}
	if (pw != NULL && pw->pw_uid != 0 && pw->pw_uid < (uid_t)c->min_uid) {
		snprintf(why, cap, "%s is a system account (uid %lu < min_uid %d)", user,
			 (unsigned long)pw->pw_uid, c->min_uid);
		return KP_E_AUTH;
	}
	if (pw != NULL && (copy(id.name, sizeof(id.name), pw->pw_name) != 0 ||
			   copy(id.home, sizeof(id.home), pw->pw_dir) != 0)) {
		snprintf(why, cap, "%s: passwd entry too long", user);
		return KP_E_TOOBIG;
	}
	if (c->mail_uid != NULL) {
		rc = resolve_mail_uid(c, &id, why, cap);
		if (rc != 0)
			return rc;
	} else if (geteuid() != 0) {
		/* one uid serves every maildrop: our own */
		id.uid = geteuid();
		id.gid = getegid();
		id.virtual_user = 1;
	} else if (pw == NULL) {
		snprintf(why, cap, "%s has no passwd entry (and mail_uid is not set)", user);
		return KP_E_NOTFOUND;
	} else {
		id.uid = pw->pw_uid;
		id.gid = pw->pw_gid;
	}
	if (geteuid() != 0 && id.uid != geteuid()) {
		snprintf(why, cap, "kpopd runs as uid %lu and cannot switch to uid %lu",
			 (unsigned long)geteuid(), (unsigned long)id.uid);
		return KP_E_CONFIG;
	}
	*id_out = id;
	return 0;
}

int
kp_ident_become(const struct kp_ident *id)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (geteuid() != 0)
		return 0; /* kp_ident_resolve checked that id is ourselves */
	if (id->virtual_user || id->name[0] == '\0') {
		if (setgroups(1, &id->gid) != 0)
			return KP_E_INTERNAL;
	} else if (initgroups(id->name, id->gid) != 0) {
		return KP_E_INTERNAL;
	}
	if (setresgid(id->gid, id->gid, id->gid) != 0 ||
	    setresuid(id->uid, id->uid, id->uid) != 0)
		return KP_E_INTERNAL;
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != id->uid || eu != id->uid || su != id->uid ||
	    rg != id->gid || eg != id->gid || sg != id->gid) {
		errno = EPERM;
		return KP_E_INTERNAL;
	}
	if (id->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		errno = EPERM;
		return KP_E_INTERNAL; /* dropping privileges did not stick */
	}
	return 0;
}
