/* usermap.c - Kerberos principal -> local user name. */
#include "config.h"
#include "server/usermap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <krb5.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/conf.h"

int
kp_usermap_valid_user(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

static int
realm_allowed(const struct kp_conf *c, krb5_context ctx, const krb5_data *realm)
{
	char *def = NULL;
	int i, ok = 0;

	if (c->nrealms == 0) {
		if (krb5_get_default_realm(ctx, &def) != 0)
			return 0;
		ok = strlen(def) == realm->length && memcmp(def, realm->data, realm->length) == 0;
		krb5_free_default_realm(ctx, def);
		return ok;
	}
	for (i = 0; i < c->nrealms; i++)
		if (strlen(c->realms[i]) == realm->length &&
		    memcmp(c->realms[i], realm->data, realm->length) == 0)
			return 1;
	return 0;
}

/* The realms realm_allowed accepts, for a message: "A, B", or the default realm. */
static void
allowed_realms(const struct kp_conf *c, krb5_context ctx, char *out, size_t cap)
{
	char *def = NULL;
	size_t n = 0;
	int i;

	out[0] = '\0';
	if (c->nrealms == 0) {
		if (krb5_get_default_realm(ctx, &def) == 0) {
			snprintf(out, cap, "%s, the default realm", def);
			krb5_free_default_realm(ctx, def);
		} else {
			snprintf(out, cap, "none: there is no default realm");
		}
		return;
	}
	for (i = 0; i < c->nrealms && n + 1 < cap; i++) {
		snprintf(out + n, cap - n, "%s%s", i > 0 ? ", " : "", c->realms[i]);
		n += strlen(out + n);
	}
}

/* The map file: "principal user" per line, '#' comments.  The next entry of f into
 * line (KP_CONF_LINE_MAX + 2 bytes), *princ and *user pointing into it (*user is
 * "" on a line with one field; *extra is whatever follows the user).  1, 0 at
 * the end, or -1 for a line longer than KP_CONF_LINE_MAX (read in pieces, its tail
 * would be a line of its own). */
static int
next_entry(FILE *f, char *line, int *lineno, char **princ, char **user, char **extra)
{
	while (fgets(line, KP_CONF_LINE_MAX + 2, f) != NULL) {
		char *p = line;

		(*lineno)++;
		if (strchr(line, '\n') == NULL && !feof(f))
			return -1;
		p[strcspn(p, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		*princ = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		*user = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		*extra = p;
		return 1;
	}
	return 0;
}

/* Look principal up in the map file; the first match wins. */
static int
map_file(const char *path, const char *principal, char *user, size_t cap)
{
	char line[KP_CONF_LINE_MAX + 2], *princ, *u, *extra;
	FILE *f = fopen(path, "r");
	int rc = -1, lineno = 0, n;

	if (f == NULL)
		return -1;
	while ((n = next_entry(f, line, &lineno, &princ, &u, &extra)) != 0) {
		if (n < 0) {
			/* a broken map grants nothing */
			kp_log(KP_LOG_ERR, "usermap_file %s:%d: line longer than %d characters: "
			       "no principal is mapped until it is fixed", path, lineno,
			       KP_CONF_LINE_MAX);
			if (cap > 0)
				user[0] = '\0';
			rc = -1;
			break;
		}
		if (*u == '\0')
			continue;
		if (rc != 0 && strcmp(princ, principal) == 0 && strlen(u) < cap) {
			memcpy(user, u, strlen(u) + 1);
			rc = 0; /* the first match wins; the rest is still checked */
		}
	}
	fclose(f);
	return rc;
}

int
kp_usermap_check_file(const char *path, int *entries_out, char *why, size_t cap)
{
	char line[KP_CONF_LINE_MAX + 2], *princ, *u, *extra;
	krb5_context ctx = NULL;
	FILE *f;
	int lineno = 0, n, rc = 0;

	*entries_out = 0;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return KP_E_CONFIG;
	}
	if (krb5_init_context(&ctx) != 0) {
		fclose(f);
		snprintf(why, cap, "libkrb5 cannot start");
		return KP_E_CONFIG;
	}
	while (rc == 0 && (n = next_entry(f, line, &lineno, &princ, &u, &extra)) != 0) {
		krb5_principal p = NULL;

		if (n < 0) {
			snprintf(why, cap, "%s:%d: line longer than %d characters", path, lineno,
				 KP_CONF_LINE_MAX);
			rc = KP_E_CONFIG;
		} else if (*u == '\0' || *extra != '\0') {
			snprintf(why, cap, "%s:%d: expected \"principal user\"", path, lineno);
			rc = KP_E_CONFIG;
		} else if (krb5_parse_name_flags(ctx, princ, KRB5_PRINCIPAL_PARSE_REQUIRE_REALM,
						 &p) != 0) {
			snprintf(why, cap, "%s:%d: %s is not a principal with its realm", path,
				 lineno, princ);
			rc = KP_E_CONFIG;
		} else if (!kp_usermap_valid_user(u)) {
			snprintf(why, cap, "%s:%d: %s is not a valid local user name", path, lineno,
				 u);
			rc = KP_E_CONFIG;
		} else {
			(*entries_out)++;
		}
		if (p != NULL)
			krb5_free_principal(ctx, p);
	}
	fclose(f);
	krb5_free_context(ctx);
	return rc;
}

int
kp_usermap_map(const struct kp_conf *c, const char *principal, char *user_out,
	       size_t cap, char *why, size_t whycap)
{
	krb5_context ctx = NULL;
	krb5_principal p = NULL;
	krb5_error_code kret;
	const krb5_data *first;
	char name[KP_NAME_MAX];
	int rc = KP_E_AUTH;

	if (cap > 0)
		user_out[0] = '\0';
	if (whycap > 0)
		why[0] = '\0';
	if ((ctx = kp_krb5_shared()) == NULL) {
		snprintf(why, whycap, "krb5_init_context failed");
		return KP_E_AUTH;
	}
	/* Parse strictly: the name must carry its realm. */
	kret = krb5_parse_name_flags(ctx, principal, KRB5_PRINCIPAL_PARSE_REQUIRE_REALM, &p);
	if (kret != 0) {
		{
			const char *m = krb5_get_error_message(ctx, kret);

			snprintf(why, whycap, "cannot parse principal: %s", m);
			krb5_free_error_message(ctx, m);
		}
		goto cleanup;
	}
	if (!realm_allowed(c, ctx, krb5_princ_realm(ctx, p))) {
		char allowed[512];

		allowed_realms(c, ctx, allowed, sizeof(allowed));
		snprintf(why, whycap, "realm of %s is not an allowed realm (allowed: %s; list "
			 "more with realms = ...)", principal, allowed);
		goto cleanup;
	}
	if (krb5_princ_size(ctx, p) < 1) {
		snprintf(why, whycap, "empty principal");
		goto cleanup;
	}
	switch (c->usermap) {
	case KP_USERMAP_ANAME:
		/* krb5.conf's auth_to_local rules (default: the default realm only) */
		kret = krb5_aname_to_localname(ctx, p, (int)sizeof(name) - 1, name);
		if (kret != 0) {
			snprintf(why, whycap, "no local name for %s (auth_to_local rules)", principal);
			goto cleanup;
		}
		name[sizeof(name) - 1] = '\0';
		break;
	case KP_USERMAP_FILE:
		if (map_file(c->usermap_file, principal, name, sizeof(name)) != 0) {
			snprintf(why, whycap, "%s is not in %s", principal, c->usermap_file);
			goto cleanup;
		}
		break;
	default:
		if (krb5_princ_size(ctx, p) > 1 && !c->allow_instances) {
			snprintf(why, whycap,
				 "%s has more than one component (allow_instances is off)", principal);
			goto cleanup;
		}
		first = krb5_princ_component(ctx, p, 0);
		if (first->length == 0 || first->length >= sizeof(name) ||
		    memchr(first->data, '\0', first->length) != NULL) {
			snprintf(why, whycap, "principal name of bad length");
			goto cleanup;
		}
		memcpy(name, first->data, first->length);
		name[first->length] = '\0';
		break;
	}
	if (!kp_usermap_valid_user(name)) {
		snprintf(why, whycap, "%s maps to an invalid local user name", principal);
		goto cleanup;
	}
	if (strlen(name) >= cap) {
		snprintf(why, whycap, "user name too long");
		goto cleanup;
	}
	memcpy(user_out, name, strlen(name) + 1);
	rc = 0;
cleanup:
	if (p != NULL)
		krb5_free_principal(ctx, p);
	return rc;
}
