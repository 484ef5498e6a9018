/* account.c - kpop's settings: the keyword table, accounts, the config file. */
#include "config.h"
#include "client/account.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "kp_pop3.h"

enum ktype { K_STR, K_PATH, K_ENUM, K_BOOL, K_NOTBOOL, K_NUM, K_DELIVER };

/* One row per setting: the config keyword is also the long option's name. */
static const struct keyword {
	const char *name;
	enum ktype type;
	size_t offset;
	unsigned long long min, max;  /* K_NUM range; K_DELIVER: the sink kind in min */
	const char *hint;             /* K_ENUM: the choices, "a|b|c" */
} keywords[] = {
	{ "host", K_STR, offsetof(struct account, host), 0, 0, "server name" },
	{ "port", K_NUM, offsetof(struct account, port), 1, 65535,
	  "port (default 1109; 995 with tls)" },
	{ "auth", K_ENUM, offsetof(struct account, auth), 0, 0, "gssapi|kpop" },
	{ "user", K_STR, offsetof(struct account, user), 0, 0,
	  "mailbox: authzid for GSSAPI, USER for KPOP" },
	{ "service", K_STR, offsetof(struct account, service), 0, 0,
	  "Kerberos service (default pop)" },
	{ "starttls", K_ENUM, offsetof(struct account, starttls), 0, 0,
	  "required|opportunistic|off" },
	{ "tls", K_BOOL, offsetof(struct account, tls), 0, 0, "implicit TLS (POP3S)" },
	{ "cafile", K_PATH, offsetof(struct account, cafile), 0, 0,
	  "CA certificates for the server" },
	{ "sasl-layer", K_ENUM, offsetof(struct account, layer), 0, 0,
	  "none|integrity|privacy" },
	{ "maildir", K_DELIVER, offsetof(struct account, dest), SINK_MAILDIR, 0,
	  "deliver into this Maildir" },
	{ "mbox", K_DELIVER, offsetof(struct account, dest), SINK_MBOX, 0,
	  "deliver into this mbox file" },
	{ "mda", K_DELIVER, offsetof(struct account, dest), SINK_MDA, 0,
	  "deliver through this command (%u user, %f sender)" },
	{ "stdout", K_DELIVER, offsetof(struct account, dest), SINK_STDOUT, 0,
	  "write the messages to standard output, mbox style" },
	{ "mda-from-line", K_BOOL, offsetof(struct account, from_line), 0, 0,
	  "give the MDA an mbox From_ line first" },
	{ "delete", K_BOOL, offsetof(struct account, del), 0, 0,
	  "delete on the server once stored" },
	{ "keep", K_NOTBOOL, offsetof(struct account, del), 0, 0,
	  "keep on the server (default)" },
	{ "max-size", K_NUM, offsetof(struct account, max_size), 0, ~0ULL,
	  "skip (and keep) larger messages; 0: no limit" },
	{ "timeout", K_NUM, offsetof(struct account, timeout), 1, 3600,
	  "network timeout in seconds (default 60)" },
	{ "state", K_PATH, offsetof(struct account, state), 0, 0,
	  "the file of unique ids already stored" },
};

static const struct keyword *
find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

int
config_keyword_takes_value(const char *keyword)
{
	const struct keyword *k = find(keyword);

	return k != NULL && k->type != K_BOOL && k->type != K_NOTBOOL &&
	       !(k->type == K_DELIVER && k->min == SINK_STDOUT);
}

void
config_print_keywords(FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		fprintf(f, "  %-14s %s\n", keywords[i].name, keywords[i].hint);
}

static char **
str_field(struct account *a, const struct keyword *k)
{
	return (char **)((char *)a + k->offset);
}

void
account_init(struct account *a)
{
	memset(a, 0, sizeof(*a));
	a->deliver = -1;
	a->deliver_where = -2;
	a->timeout = 60;
}

void
account_free(struct account *a)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		const struct keyword *k = &keywords[i];

		if (k->type == K_STR || k->type == K_PATH || k->type == K_ENUM ||
		    (k->type == K_NUM && k->offset == offsetof(struct account, port))) {
			free(*str_field(a, k));
			*str_field(a, k) = NULL;
		}
	}
	free(a->dest);
	a->dest = NULL;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
account_copy(struct account *dst, const struct account *src)
{
	*dst = *src;
	dst->host = dup_or_null(src->host);
	dst->port = dup_or_null(src->port);
	dst->auth = dup_or_null(src->auth);
	dst->user = dup_or_null(src->user);
	dst->service = dup_or_null(src->service);
	dst->starttls = dup_or_null(src->starttls);
	dst->cafile = dup_or_null(src->cafile);
	dst->layer = dup_or_null(src->layer);
	dst->state = dup_or_null(src->state);
	dst->dest = dup_or_null(src->dest);
}

static int
set_string(char **field, const char *value)
{
	char *v = strdup(value);

	if (v == NULL)
		return KP_E_NOMEM;
	free(*field);
	*field = v;
	return 0;
}

/* ~/ at the start of a path is $HOME. */
static char *
expand_home(const char *v)
{
	const char *home = getenv("HOME");
	size_t n;
	char *out;

	if (strncmp(v, "~/", 2) != 0 || home == NULL)
		return strdup(v);
	n = strlen(home) + strlen(v);
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%s%s", home, v + 1);
	return out;
}

static int
parse_bool(const char *v, int *out)
{
	if (v == NULL || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
		 strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
enum_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (*p) {
		size_t m = strcspn(p, "|");

		if (m == n && strncmp(p, v, n) == 0)
			return 1;
		p += m;
		if (*p == '|')
			p++;
	}
	return 0;
}

int
account_set(struct account *a, const char *keyword, const char *value, int section,
	    char *err, size_t errcap)
{
	const struct keyword *k = find(keyword);
	int b;

	err[0] = '\0';
	if (k == NULL) {
		snprintf(err, errcap, "unknown setting \"%s\"", keyword);
		return KP_E_CONFIG;
	}
	if (value == NULL && config_keyword_takes_value(keyword)) {
		snprintf(err, errcap, "%s needs a value (%s)", keyword, k->hint);
		return KP_E_CONFIG;
	}
	switch (k->type) {
	case K_STR:
		if (value[0] == '\0') {
			snprintf(err, errcap, "%s: empty value", keyword);
			return KP_E_CONFIG;
		}
		return set_string(str_field(a, k), value);
	case K_PATH: {
		char *v = expand_home(value);

		if (v == NULL)
			return KP_E_NOMEM;
		free(*str_field(a, k));
		*str_field(a, k) = v;
		return 0;
	}
	case K_ENUM:
		if (!enum_ok(k->hint, value)) {
			snprintf(err, errcap, "%s: \"%s\" is not one of %s", keyword, value,
				 k->hint);
			return KP_E_CONFIG;
		}
		return set_string(str_field(a, k), value);
	case K_BOOL:
	case K_NOTBOOL:
		if (parse_bool(value, &b) != 0) {
			snprintf(err, errcap, "%s: expected yes or no, not \"%s\"", keyword, value);
			return KP_E_CONFIG;
		}
		*(int *)((char *)a + k->offset) = k->type == K_NOTBOOL ? !b : b;
		return 0;
	case K_NUM: {
		unsigned long v;

		if (kp_parse_ulong(value, (unsigned long)k->min, (unsigned long)k->max, &v) != 0) {
			snprintf(err, errcap, "%s: expected a number from %llu to %llu, not \"%s\"",
				 keyword, k->min, k->max, value);
			return KP_E_CONFIG;
		}
		if (k->offset == offsetof(struct account, port))
			return set_string(&a->port, value);
		*(unsigned long long *)((char *)a + k->offset) = v;
		return 0;
	}
	case K_DELIVER: {
		char *v = NULL;

		if (a->deliver >= 0 && a->deliver_where == section && a->deliver != (int)k->min) {
			snprintf(err, errcap, "%s: a delivery is already set here (maildir, mbox, "
				 "mda and stdout exclude each other)", keyword);
			return KP_E_CONFIG;
		}
		if (value != NULL && value[0] == '\0') {
			snprintf(err, errcap, "%s: empty value", keyword);
			return KP_E_CONFIG;
		}
		if (value != NULL && (v = k->min == SINK_MDA ? strdup(value) : expand_home(value)) == NULL)
			return KP_E_NOMEM;
		free(a->dest);
		a->dest = v;
		a->deliver = (int)k->min;
		a->deliver_where = section;
		return 0;
	}
	}
	return KP_E_INTERNAL;
}

int
config_default_path(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, cap, "%s/kpop/config", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, cap, "%s/.config/kpop/config", home);
	else
		return KP_E_NOTFOUND;
	return n < 0 || (size_t)n >= cap ? KP_E_TOOBIG : 0;
}

static int
name_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 0;
	return n >= 1 && n <= ACCOUNT_NAME_MAX && s[0] != '.' && s[0] != '-';
}

int
config_read(const char *path, struct account **accts_out, size_t *n_out,
	    struct account *defaults_out)
{
	FILE *f;
	char line[KP_CONF_LINE_MAX + 2], err[512];
	struct account defs, *accts = NULL, *cur = &defs;
	size_t n = 0;
	unsigned long lineno = 0;
	int rc = 0, section = 0;

	*accts_out = NULL;
	*n_out = 0;
	account_init(&defs);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return KP_E_NOTFOUND;
		fprintf(stderr, "kpop: cannot read %s: %s\n", path, strerror(errno));
		return KP_E_CONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end, *kw, *val;
		size_t len = strlen(line);

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "%s:%lu: line longer than %d characters\n", path, lineno,
				KP_CONF_LINE_MAX);
			goto bad;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
				   end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		kw = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		val = p;
		if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		if (strcmp(kw, "defaults") == 0) {
			if (*val != '\0') {
				fprintf(stderr, "%s:%lu: \"defaults\" takes no value\n", path, lineno);
				goto bad;
			}
			cur = &defs;
			section++;
			continue;
		}
		if (strcmp(kw, "account") == 0) {
			struct account *na;
			size_t i;

			if (!name_ok(val)) {
				fprintf(stderr, "%s:%lu: account name \"%s\": use 1-%d letters, digits, "
					". _ -\n", path, lineno, val, ACCOUNT_NAME_MAX);
				goto bad;
			}
			for (i = 0; i < n; i++)
				if (strcmp(accts[i].name, val) == 0) {
					fprintf(stderr, "%s:%lu: account %s is defined twice\n", path,
						lineno, val);
					goto bad;
				}
			if (n >= ACCOUNTS_MAX) {
				fprintf(stderr, "%s:%lu: more than %d accounts\n", path, lineno,
					ACCOUNTS_MAX);
				goto bad;
			}
			na = realloc(accts, (n + 1) * sizeof(*accts));
			if (na == NULL) {
				rc = KP_E_NOMEM;
				goto out;
			}
			accts = na;
			account_copy(&accts[n], &defs);
			snprintf(accts[n].name, sizeof(accts[n].name), "%s", val);
			cur = &accts[n++];
			section++;
			continue;
		}
		if (*val == '\0' && config_keyword_takes_value(kw)) {
			fprintf(stderr, "%s:%lu: %s needs a value\n", path, lineno, kw);
			goto bad;
		}
		if (account_set(cur, kw, *val != '\0' ? val : NULL, section, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%lu: %s\n", path, lineno, err[0] ? err : "out of memory");
			goto bad;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "kpop: cannot read %s: %s\n", path, strerror(errno));
		goto bad;
	}
	goto out;
bad:
	rc = KP_E_CONFIG;
out:
	fclose(f);
	if (rc != 0) {
		while (n > 0)
			account_free(&accts[--n]);
		free(accts);
		account_free(&defs);
		return rc;
	}
	*accts_out = accts;
	*n_out = n;
	*defaults_out = defs;
	return 0;
}
