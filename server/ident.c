/* ident.c - whose uid a session runs as, and the one place that becomes it. */
#include "config.h"
#include "server/ident.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_io.h"
#include "kp_log.h"
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

/* The last mail_uid / mail_gid resolved: the settings' text and their ids.  A
 * process resolves them once per configuration (a reload replaces the auth service
 * and the workers, which resolve again): the passwd lookups stay off the session
 * path, as Dovecot's mail_uid is resolved when its configuration is read. */
static struct {
	int valid;
	char uid_text[KP_NAME_MAX], gid_text[KP_NAME_MAX]; /* gid_text "" if unset */
	int has_gid;
	uid_t uid;
	gid_t gid;
} mail_cache;

static int
mail_cache_hit(const struct kp_conf *c)
{
	return mail_cache.valid && strcmp(mail_cache.uid_text, c->mail_uid) == 0 &&
	       mail_cache.has_gid == (c->mail_gid != NULL) &&
	       (c->mail_gid == NULL || strcmp(mail_cache.gid_text, c->mail_gid) == 0);
}

static void
mail_cache_store(const struct kp_conf *c, const struct kp_ident *id)
{
	mail_cache.valid = 0;
	if (copy(mail_cache.uid_text, sizeof(mail_cache.uid_text), c->mail_uid) != 0 ||
	    (c->mail_gid != NULL &&
	     copy(mail_cache.gid_text, sizeof(mail_cache.gid_text), c->mail_gid) != 0))
		return; /* too long to keep: looked up every time */
	mail_cache.has_gid = c->mail_gid != NULL;
	mail_cache.uid = id->uid;
	mail_cache.gid = id->gid;
	mail_cache.valid = 1;
}

/* mail_uid / mail_gid: every session as one mail uid (virtual users). */
static int
resolve_mail_uid(const struct kp_conf *c, struct kp_ident *id, char *why, size_t cap)
{
	const struct passwd *pw;
	unsigned long n;

	if (mail_cache_hit(c)) {
		id->uid = mail_cache.uid;
		id->gid = mail_cache.gid;
		id->virtual_user = 1;
		return 0;
	}
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
	mail_cache_store(c, id);
	return 0;
}

static int daemon_root = -1; /* the daemon started as root: 1, 0; -1 unknown */

void
kp_ident_init(void)
{
	daemon_root = geteuid() == 0;
}

/* The uid the daemon runs as for kp_ident_resolve's rules: root if it started as
 * root, even in the auth service that has left root since. */
static uid_t
daemon_uid(void)
{
	return daemon_root == 1 ? 0 : geteuid();
}

static gid_t
daemon_gid(void)
{
	return daemon_root == 1 ? 0 : getegid();
}

/* What getpwnam said about a login name: found or not, and what kp_ident_resolve
 * keeps of the entry. */
struct pw_answer {
	int found;
	uid_t uid;
	gid_t gid;
	char name[KP_NAME_MAX];
	char home[PATH_MAX];
};

/* The passwd answers of the last passwd_cache_sec seconds, found or not, in the
 * process that resolves logins (the auth service): one getpwnam costs ~30 file
 * opens through nsswitch (libnss_systemd walks six userdb directories for a name
 * it does not know) and was a third of the auth service's CPU per login.  A passwd
 * change is seen within passwd_cache_sec (nscd keeps entries 600 s); a reload
 * starts a new auth service with an empty cache.  Direct-mapped by a hash of the
 * name: a collision only costs a lookup. */
#define PW_CACHE_SLOTS 256

struct pw_slot {
	long long until_ms; /* 0: empty */
	char key[KP_NAME_MAX];
	struct pw_answer a;
};

static struct pw_slot *pw_cache; /* allocated on first use */

static struct pw_slot *
pw_slot_for(const char *user)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	const unsigned char *p;

	if (pw_cache == NULL && (pw_cache = calloc(PW_CACHE_SLOTS, sizeof(*pw_cache))) == NULL)
		return NULL;
	for (p = (const unsigned char *)user; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return &pw_cache[h % PW_CACHE_SLOTS];
}

/* getpwnam(user) into *a, through the cache when ttl_sec > 0.  0, or KP_E_TOOBIG
 * (a passwd name or home too long to keep). */
static int
pw_lookup(const char *user, int ttl_sec, struct pw_answer *a)
{
	const struct passwd *pw;
	struct pw_slot *s = NULL;
	long long now = 0;

	memset(a, 0, sizeof(*a));
	if (ttl_sec > 0 && strlen(user) < sizeof(s->key) && (s = pw_slot_for(user)) != NULL) {
		now = kp_io_now_ms();
		if (s->until_ms > now && strcmp(s->key, user) == 0) {
			*a = s->a;
			return 0;
		}
	}
	pw = getpwnam(user);
	if (pw != NULL) {
		if (copy(a->name, sizeof(a->name), pw->pw_name) != 0 ||
		    copy(a->home, sizeof(a->home), pw->pw_dir) != 0)
			return KP_E_TOOBIG;
		a->found = 1;
		a->uid = pw->pw_uid;
		a->gid = pw->pw_gid;
	}
	if (s != NULL) {
		memcpy(s->key, user, strlen(user) + 1);
		s->a = *a;
		s->until_ms = now + (long long)ttl_sec * 1000;
	}
	return 0;
}

int
kp_ident_resolve(const struct kp_conf *c, const char *user, struct kp_ident *id_out,
		 char *why, size_t cap)
{
	struct pw_answer pw;
	struct kp_ident id;
	int rc;

	memset(id_out, 0, sizeof(*id_out));
	memset(&id, 0, sizeof(id));
	snprintf(why, cap, "ok");
	if (pw_lookup(user, c->passwd_cache_sec, &pw) != 0) {
		snprintf(why, cap, "%s: passwd entry too long", user);
		return KP_E_TOOBIG;
	}
	/* A name that is a system account is refused in every mode: root@REALM must
	 * never become root, nor daemon@REALM the daemon account. */
	if (pw.found && pw.uid == 0 && !c->allow_root) {
		snprintf(why, cap, "%s is uid 0 (allow_root = no)", user);
		return KP_E_AUTH;
	}
	if (pw.found && pw.uid != 0 && pw.uid < (uid_t)c->min_uid) {
		snprintf(why, cap, "%s is a system account (uid %lu < min_uid %d)", user,
			 (unsigned long)pw.uid, c->min_uid);
		return KP_E_AUTH;
	}
	if (pw.found) {
		memcpy(id.name, pw.name, sizeof(id.name));
		memcpy(id.home, pw.home, sizeof(id.home));
	}
	if (c->mail_uid != NULL) {
		rc = resolve_mail_uid(c, &id, why, cap);
		if (rc != 0)
			return rc;
	} else if (daemon_uid() != 0) {
		/* one uid serves every maildrop: our own */
		id.uid = daemon_uid();
		id.gid = daemon_gid();
		id.virtual_user = 1;
	} else if (!pw.found) {
		snprintf(why, cap, "%s has no passwd entry (and mail_uid is not set)", user);
		return KP_E_NOTFOUND;
	} else {
		id.uid = pw.uid;
		id.gid = pw.gid;
	}
	if (daemon_uid() != 0 && id.uid != daemon_uid()) {
		snprintf(why, cap, "kpopd runs as uid %lu and cannot switch to uid %lu",
			 (unsigned long)daemon_uid(), (unsigned long)id.uid);
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

int
kp_ident_maildrop(const struct kp_conf *c, const char *user, const struct kp_ident *id,
		  char *out, size_t cap)
{
	const char *t = c->maildir;
	size_t n = 0;

	for (; *t != '\0'; t++) {
		const char *add = NULL;
		char one[2] = { *t, '\0' };

		if (*t == '%' && t[1] == 'u') {
			add = user;
			t++;
		} else if (*t == '%' && t[1] == 'h') {
			if (id->home[0] == '\0')
				return KP_E_NOTFOUND;
			add = id->home;
			t++;
		} else if (*t == '%' && t[1] == '%') {
			add = "%";
			t++;
		} else {
			add = one;
		}
		if (n + strlen(add) >= cap)
			return KP_E_TOOBIG;
		memcpy(out + n, add, strlen(add));
		n += strlen(add);
	}
	out[n] = '\0';
	return 0;
}

int
kp_ident_lookup_service_user(const char *name, const char *setting, uid_t *uid_out,
			     gid_t *gid_out, char *why, size_t cap)
{
	const struct passwd *pw = getpwnam(name);
	int is_default = strcmp(name, KP_AUTH_USER_DEFAULT) == 0 ||
			 strcmp(name, KP_WORKER_USER_DEFAULT) == 0;

	if (pw == NULL && is_default) {
		static int warned;

		if (!warned++)
			kp_log(KP_LOG_WARN, "%s %s does not exist: using nobody (create the "
			       "system users, as the Debian package does: README \"Processes\")",
			       setting, name);
		pw = getpwnam("nobody");
	}
	if (pw == NULL) {
		snprintf(why, cap, "%s %s: no such user", setting, name);
		return KP_E_CONFIG;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, cap, "%s %s must not be root", setting, name);
		return KP_E_CONFIG;
	}
	*uid_out = pw->pw_uid;
	*gid_out = pw->pw_gid;
	return 0;
}

int
kp_ident_mail_user(const struct kp_conf *c, uid_t *uid_out, gid_t *gid_out, char *why,
		   size_t cap)
{
	struct kp_ident id;
	int rc;

	memset(&id, 0, sizeof(id));
	rc = resolve_mail_uid(c, &id, why, cap);
	*uid_out = id.uid;
	*gid_out = id.gid;
	return rc;
}

int
kp_ident_drop_to(uid_t uid, gid_t gid)
{
	struct kp_ident id;

	memset(&id, 0, sizeof(id));
	id.uid = uid;
	id.gid = gid;
	id.virtual_user = 1;
	return kp_ident_become(&id);
}

int
kp_ident_chroot(const char *dir)
{
	if (chroot(dir) != 0 || chdir("/") != 0)
		return KP_E_INTERNAL;
	return 0;
}
