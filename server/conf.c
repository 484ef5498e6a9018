/* conf.c - kpopd's configuration: defaults, the config file, -o overrides. */
#include "config.h"
#include "server/conf.h"
#include "server/maildrop.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "kp_pop3.h"

static const char *mode_names[] = { "auto", "kpop", "pop3", "pop3s" };

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

/* TLS versions by their OpenSSL names (as Dovecot's ssl_min_protocol) and wire
 * numbers. */
static const struct {
	const char *name;
	int value;
} tls_versions[] = {
	{ "TLSv1", 0x0301 }, { "TLSv1.1", 0x0302 }, { "TLSv1.2", 0x0303 }, { "TLSv1.3", 0x0304 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
kp_listen_mode_name(enum kp_listen_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "?";
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		kp_fatal("out of memory");
	return p;
}

static void
set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = value[0] != '\0' ? xstrdup(value) : NULL;
}

void
kp_conf_defaults(struct kp_conf *c)
{
	char host[256];

	memset(c, 0, sizeof(*c));
	c->nlisten = 1;
	snprintf(c->listen[0].addr, sizeof(c->listen[0].addr), "*");
	snprintf(c->listen[0].port, sizeof(c->listen[0].port), "1109");
	c->listen[0].mode = KP_MODE_AUTO;
	c->service = xstrdup("pop");
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	c->hostname = xstrdup(host);
	c->maildir = xstrdup("%h/Maildir");
	c->log_syslog = 1;
	c->log_level = KP_LOG_INFO;
	c->syslog_facility = LOG_MAIL;
	c->tls_min_protocol = 0x0303; /* TLS 1.2: tls_min_protocol in kpopd.conf(5) */
	c->idle_timeout = KP_IDLE_TIMEOUT_SEC;
	c->max_sessions = KP_MAX_SESSIONS_DEFAULT;
	c->max_bad_commands = KP_BAD_CMD_MAX;
	c->sniff_ms = 300;
	c->kpop_timeout = KP_KPOP_HANDSHAKE_SEC;
	c->auth_failure_delay_ms = KP_AUTH_FAIL_DELAY_MS;
	c->greeting = xstrdup("kpopd ready");
	c->sasl_min_ssf = 0;
	c->sasl_max_ssf = 256;
	c->expire_days = KP_CONF_EXPIRE_NEVER;
	c->min_uid = KP_MIN_UID_DEFAULT;
	c->passwd_cache_sec = KP_PASSWD_CACHE_SEC_DEFAULT;
	c->max_messages = KP_MAILDROP_MSGS_MAX;
	c->max_preauth_per_ip = KP_PREAUTH_PER_IP_DEFAULT;
	c->max_conn_per_ip = KP_CONN_PER_IP_DEFAULT;
	c->login_timeout = KP_LOGIN_TIMEOUT_SEC;
	c->preauth_idle_timeout = KP_PREAUTH_IDLE_SEC;
	c->pool_spare = KP_POOL_SPARE_DEFAULT;
	c->auth_user = xstrdup(KP_AUTH_USER_DEFAULT);
	c->worker_user = xstrdup(KP_WORKER_USER_DEFAULT);
	c->worker_chroot = xstrdup("");
	c->worker_max_sessions = KP_WORKER_SESSIONS_DEFAULT;
}

void
kp_conf_free(struct kp_conf *c)
{
	int i;

	free(c->keytab);
	free(c->service);
	free(c->server_principal);
	free(c->hostname);
	for (i = 0; i < c->nrealms; i++)
		free(c->realms[i]);
	free(c->maildir);
	free(c->usermap_file);
	free(c->mbox_journal_dir);
	free(c->rcache_dir);
	free(c->pidfile);
	free(c->control_socket);
	free(c->greeting);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_chain);
	free(c->policy_file);
	free(c->mail_uid);
	free(c->mail_gid);
	free(c->auth_user);
	free(c->worker_user);
	free(c->worker_chroot);
	memset(c, 0, sizeof(*c));
}

const struct kp_cidr *
kp_conf_proxy_trusted(const struct kp_conf *c, const struct kp_listen *l, int *n_out)
{
	if (l->ntrusted > 0) {
		*n_out = l->ntrusted;
		return l->trusted;
	}
	*n_out = c->nproxy_trusted;
	return c->proxy_trusted;
}

static int
bad(const char *where, const char *key, const char *why)
{
	fprintf(stderr, "kpopd: %s: %s: %s\n", where, key, why);
	return KP_E_CONFIG;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return KP_E_SYNTAX;
	return 0;
}

static int
parse_int(const char *v, unsigned long min, unsigned long max, int *out)
{
	unsigned long n;
	int rc = kp_parse_ulong(v, min, max, &n);

	if (rc == 0)
		*out = (int)n;
	return rc;
}

int
kp_conf_parse_login_delay(const char *v, int *out)
{
	return parse_int(v, 0, KP_LOGIN_DELAY_MAX, out);
}

int
kp_conf_parse_expire(const char *v, int *out)
{
	if (strcmp(v, "never") == 0 || strcmp(v, "NEVER") == 0) {
		*out = KP_CONF_EXPIRE_NEVER;
		return 0;
	}
	return parse_int(v, 0, KP_EXPIRE_DAYS_MAX, out);
}

/* One listener option after the address: a mode, "proxy" or "proxy=NET,NET". */
static int
parse_listen_word(const char *w, struct kp_listen *l)
{
	char why[128];
	size_t i;
	int n;

	for (i = 0; i < 4; i++)
		if (strcmp(w, mode_names[i]) == 0) {
			l->mode = (enum kp_listen_mode)i;
			return 0;
		}
	if (strcmp(w, "proxy") == 0) {
		l->proxy = 1;
		return 0;
	}
	if (strncmp(w, "proxy=", 6) == 0) {
		n = kp_cidr_parse_list(w + 6, l->trusted, KP_PROXY_TRUSTED_MAX, why, sizeof(why));
		if (n <= 0)
			return KP_E_SYNTAX;
		l->proxy = 1;
		l->ntrusted = n;
		return 0;
	}
	return KP_E_SYNTAX;
}

/* "ADDR:PORT [MODE] [proxy[=NET,...]]", "[V6]:PORT ...", "*:PORT ...", "PORT ...". */
static int
parse_listen(const char *v, struct kp_listen *l)
{
	char spec[KP_CONF_LINE_MAX], *opts, *w, *save = NULL, *colon, *addr = NULL, *port;
	unsigned long n;

	if (strlen(v) >= sizeof(spec))
		return KP_E_SYNTAX;
	memcpy(spec, v, strlen(v) + 1);
	memset(l, 0, sizeof(*l));
	l->mode = KP_MODE_AUTO;
	opts = strpbrk(spec, " \t");
	if (opts != NULL) {
		*opts++ = '\0';
		for (w = strtok_r(opts, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save))
			if (parse_listen_word(w, l) != 0)
				return KP_E_SYNTAX;
	}
	if (spec[0] == '[') {
		char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':')
			return KP_E_SYNTAX;
		*end = '\0';
		addr = spec + 1;
		port = end + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		*colon = '\0';
		addr = spec;
		port = colon + 1;
	} else {
		port = spec;
	}
	if (kp_parse_ulong(port, 0, 65535, &n) != 0)
		return KP_E_SYNTAX;
	snprintf(l->addr, sizeof(l->addr), "%s", addr != NULL && *addr != '\0' ? addr : "*");
	snprintf(l->port, sizeof(l->port), "%lu", n);
	return 0;
}

static int
parse_level(const char *v, int *out)
{
	static const char *names[] = { "err", "warn", "info", "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return KP_E_SYNTAX;
}

static int
valid_realm(const char *r)
{
	if (*r == '\0' || strlen(r) >= KP_NAME_MAX)
		return 0;
	for (; *r != '\0'; r++)
		if (!isalnum((unsigned char)*r) && strchr(".-_", *r) == NULL)
			return 0;
	return 1;
}

/* The template without a format prefix. */
static const char *
strip_format(const char *t)
{
	if (strncmp(t, KP_MAILBOX_MBOX, sizeof(KP_MAILBOX_MBOX) - 1) == 0)
		return t + sizeof(KP_MAILBOX_MBOX) - 1;
	if (strncmp(t, KP_MAILBOX_MAILDIR, sizeof(KP_MAILBOX_MAILDIR) - 1) == 0)
		return t + sizeof(KP_MAILBOX_MAILDIR) - 1;
	return t;
}

/* c->maildir = the format's prefix + template: the session expands c->maildir and
 * kp_maildrop_open reads the prefix, so the format travels with the path. */
static void
set_maildir(struct kp_conf *c, const char *template)
{
	const char *pre = c->mailbox_format == KP_MAILBOX_FMT_MBOX ? KP_MAILBOX_MBOX :
			  c->mailbox_format == KP_MAILBOX_FMT_MAILDIR ? KP_MAILBOX_MAILDIR : "";
	size_t n = strlen(pre) + strlen(template) + 1;
	char *v = malloc(n);

	if (v == NULL)
		kp_fatal("out of memory");
	snprintf(v, n, "%s%s", pre, template);
	free(c->maildir);
	c->maildir = v;
}

int
kp_conf_set(struct kp_conf *c, const char *key, const char *value, const char *where)
{
	if (strcmp(key, "listen") == 0) {
		struct kp_listen l;

		if (parse_listen(value, &l) != 0)
			return bad(where, key, "expected ADDR:PORT [auto|kpop|pop3|pop3s] "
				   "[proxy[=NETWORK,...]]");
		/* The first listen setting replaces the built-in default. */
		if (!c->listen_set)
			c->nlisten = 0;
		c->listen_set = 1;
		if (c->nlisten >= KP_CONF_MAX_LISTEN)
			return bad(where, key, "too many listeners");
		c->listen[c->nlisten++] = l;
	} else if (strcmp(key, "keytab") == 0) {
		/* "FILE:/path" is the same keytab as "/path"; libsasl2 wants a path */
		set_str(&c->keytab, strncmp(value, "FILE:", 5) == 0 ? value + 5 : value);
	} else if (strcmp(key, "service") == 0) {
		if (value[0] == '\0' || strpbrk(value, "/@ ") != NULL)
			return bad(where, key, "expected a service name such as pop");
		set_str(&c->service, value);
	} else if (strcmp(key, "server_principal") == 0) {
		set_str(&c->server_principal, value);
	} else if (strcmp(key, "hostname") == 0) {
		if (value[0] == '\0')
			return bad(where, key, "empty");
		set_str(&c->hostname, value);
	} else if (strcmp(key, "realms") == 0 || strcmp(key, "realm") == 0) {
		char list[KP_CONF_LINE_MAX], *p, *save = NULL;
		int i;

		if (strlen(value) >= sizeof(list))
			return bad(where, key, "too long");
		for (i = 0; i < c->nrealms; i++)
			free(c->realms[i]);
		c->nrealms = 0;
		memcpy(list, value, strlen(value) + 1);
		for (p = strtok_r(list, " \t,", &save); p != NULL; p = strtok_r(NULL, " \t,", &save)) {
			if (!valid_realm(p))
				return bad(where, key, "invalid realm name");
			if (c->nrealms >= KP_CONF_MAX_REALMS)
				return bad(where, key, "too many realms");
			c->realms[c->nrealms++] = xstrdup(p);
		}
	} else if (strcmp(key, "allow_instances") == 0) {
		if (parse_bool(value, &c->allow_instances) != 0)
			return bad(where, key, "expected yes or no");
	} else if (strcmp(key, "usermap") == 0) {
		if (strcmp(value, "realm") == 0)
			c->usermap = KP_USERMAP_REALM;
		else if (strcmp(value, "aname2lname") == 0)
			c->usermap = KP_USERMAP_ANAME;
		else if (strcmp(value, "file") == 0)
			c->usermap = KP_USERMAP_FILE;
		else
			return bad(where, key, "expected realm, aname2lname or file");
	} else if (strcmp(key, "usermap_file") == 0) {
		set_str(&c->usermap_file, value);
	} else if (strcmp(key, "mbox_journal_dir") == 0) {
		if (value[0] != '\0' && value[0] != '/')
			return bad(where, key, "expected an absolute directory path");
		set_str(&c->mbox_journal_dir, value);
	} else if (strcmp(key, "maildir") == 0) {
		const char *t = strip_format(value);

		if (t[0] == '\0' || (strstr(t, "%u") == NULL && strstr(t, "%h") == NULL))
			return bad(where, key, "the template must contain %u or %h");
		if (t != value) /* "mbox:/var/mail/%u" names its format */
			c->mailbox_format = strncmp(value, KP_MAILBOX_MBOX,
						    sizeof(KP_MAILBOX_MBOX) - 1) == 0 ?
					    KP_MAILBOX_FMT_MBOX : KP_MAILBOX_FMT_MAILDIR;
		set_maildir(c, t);
	} else if (strcmp(key, "mailbox_format") == 0) {
		if (strcmp(value, "auto") == 0)
			c->mailbox_format = KP_MAILBOX_AUTO;
		else if (strcmp(value, "maildir") == 0)
			c->mailbox_format = KP_MAILBOX_FMT_MAILDIR;
		else if (strcmp(value, "mbox") == 0)
			c->mailbox_format = KP_MAILBOX_FMT_MBOX;
		else
			return bad(where, key, "expected auto, maildir or mbox");
		set_maildir(c, strip_format(c->maildir));
	} else if (strcmp(key, "log") == 0) {
		if (strcmp(value, "syslog") == 0)
			c->log_syslog = 1;
		else if (strcmp(value, "stderr") == 0)
			c->log_syslog = 0;
		else
			return bad(where, key, "expected syslog or stderr");
	} else if (strcmp(key, "syslog_facility") == 0) {
		size_t i;

		for (i = 0; i < NELEM(facilities) && strcmp(value, facilities[i].name) != 0; i++)
			;
		if (i == NELEM(facilities))
			return bad(where, key, "expected mail, daemon, auth, authpriv, user or "
				   "local0-local7");
		c->syslog_facility = facilities[i].value;
	} else if (strcmp(key, "tls_min_protocol") == 0) {
		size_t i;

		for (i = 0; i < NELEM(tls_versions) && strcmp(value, tls_versions[i].name) != 0; i++)
			;
		if (i == NELEM(tls_versions))
			return bad(where, key, "expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3");
		c->tls_min_protocol = tls_versions[i].value;
	} else if (strcmp(key, "log_level") == 0) {
		if (parse_level(value, &c->log_level) != 0)
			return bad(where, key, "expected err, warn, info or debug");
	} else if (strcmp(key, "idle_timeout") == 0) {
		if (parse_int(value, 1, 86400, &c->idle_timeout) != 0)
			return bad(where, key, "expected seconds (1-86400)");
	} else if (strcmp(key, "max_sessions") == 0) {
		if (parse_int(value, 1, 100000, &c->max_sessions) != 0)
			return bad(where, key, "expected 1-100000");
	} else if (strcmp(key, "max_bad_commands") == 0) {
		if (parse_int(value, 1, 1000, &c->max_bad_commands) != 0)
			return bad(where, key, "expected 1-1000");
	} else if (strcmp(key, "sniff_ms") == 0) {
		if (parse_int(value, 0, 10000, &c->sniff_ms) != 0)
			return bad(where, key, "expected milliseconds (0-10000)");
	} else if (strcmp(key, "auth_failure_delay_ms") == 0) {
		if (parse_int(value, 0, 10000, &c->auth_failure_delay_ms) != 0)
			return bad(where, key, "expected milliseconds (0-10000)");
	} else if (strcmp(key, "kpop_timeout") == 0) {
		if (parse_int(value, 1, 600, &c->kpop_timeout) != 0)
			return bad(where, key, "expected seconds (1-600)");
	} else if (strcmp(key, "kpop_pop3") == 0) {
		if (parse_bool(value, &c->kpop_pop3) != 0)
			return bad(where, key, "expected yes or no");
	} else if (strcmp(key, "rcache_dir") == 0) {
		set_str(&c->rcache_dir, value);
	} else if (strcmp(key, "pidfile") == 0) {
		set_str(&c->pidfile, value);
	} else if (strcmp(key, "control_socket") == 0) {
		if (value[0] != '\0' && (value[0] != '/' || strlen(value) >= 108))
			return bad(where, key, "expected an absolute path of at most 107 "
				   "characters, or empty for none");
		set_str(&c->control_socket, value);
	} else if (strcmp(key, "tls_cert") == 0) {
		set_str(&c->tls_cert, value);
	} else if (strcmp(key, "tls_key") == 0) {
		set_str(&c->tls_key, value);
	} else if (strcmp(key, "tls_chain") == 0) {
		set_str(&c->tls_chain, value);
	} else if (strcmp(key, "plaintext_login") == 0) {
		if (parse_bool(value, &c->plaintext_login) != 0)
			return bad(where, key, "expected yes or no");
	} else if (strcmp(key, "login_delay") == 0) {
		if (kp_conf_parse_login_delay(value, &c->login_delay) != 0)
			return bad(where, key, "expected seconds (0-" KP_STR(KP_LOGIN_DELAY_MAX) ")");
	} else if (strcmp(key, "expire_days") == 0) {
		if (kp_conf_parse_expire(value, &c->expire_days) != 0)
			return bad(where, key, "expected days (0-" KP_STR(KP_EXPIRE_DAYS_MAX) ") or never");
	} else if (strcmp(key, "policy_file") == 0) {
		set_str(&c->policy_file, value);
	} else if (strcmp(key, "sasl_min_ssf") == 0) {
		if (parse_int(value, 0, 256, &c->sasl_min_ssf) != 0)
			return bad(where, key, "expected 0 (none), 1 (integrity) or 56-256 (privacy)");
	} else if (strcmp(key, "sasl_max_ssf") == 0) {
		if (parse_int(value, 0, 256, &c->sasl_max_ssf) != 0)
			return bad(where, key, "expected 0 (none), 1 (integrity) or 56-256 (privacy)");
	} else if (strcmp(key, "sasl_layers_over_tls") == 0) {
		if (parse_bool(value, &c->sasl_layers_over_tls) != 0)
			return bad(where, key, "expected yes or no");
	} else if (strcmp(key, "mail_uid") == 0 || strcmp(key, "mail_user") == 0) {
		set_str(&c->mail_uid, value);
	} else if (strcmp(key, "mail_gid") == 0) {
		set_str(&c->mail_gid, value);
	} else if (strcmp(key, "min_uid") == 0) {
		if (parse_int(value, 0, 2147483647UL, &c->min_uid) != 0)
			return bad(where, key, "expected a uid");
	} else if (strcmp(key, "passwd_cache_sec") == 0) {
		if (parse_int(value, 0, 86400, &c->passwd_cache_sec) != 0)
			return bad(where, key, "expected seconds (0-86400)");
	} else if (strcmp(key, "allow_root") == 0) {
		if (parse_bool(value, &c->allow_root) != 0)
			return bad(where, key, "expected yes or no");
	} else if (strcmp(key, "max_messages") == 0) {
		if (parse_int(value, 1, KP_MAILDROP_MSGS_MAX, &c->max_messages) != 0)
			return bad(where, key, "expected 1-" KP_STR(KP_MAILDROP_MSGS_MAX));
	} else if (strcmp(key, "max_preauth_per_ip") == 0) {
		if (parse_int(value, 1, 100000, &c->max_preauth_per_ip) != 0)
			return bad(where, key, "expected 1-100000");
	} else if (strcmp(key, "max_conn_per_ip") == 0) {
		if (parse_int(value, 1, 100000, &c->max_conn_per_ip) != 0)
			return bad(where, key, "expected 1-100000");
	} else if (strcmp(key, "login_timeout") == 0) {
		if (parse_int(value, 1, 3600, &c->login_timeout) != 0)
			return bad(where, key, "expected seconds (1-3600)");
	} else if (strcmp(key, "preauth_idle_timeout") == 0) {
		if (parse_int(value, 1, 3600, &c->preauth_idle_timeout) != 0)
			return bad(where, key, "expected seconds (1-3600)");
	} else if (strcmp(key, "proxy_trusted") == 0) {
		char why[128];
		int n = kp_cidr_parse_list(value, c->proxy_trusted, KP_PROXY_TRUSTED_MAX, why,
					   sizeof(why));

		if (n < 0)
			return bad(where, key, why);
		c->nproxy_trusted = n;
	} else if (strcmp(key, "pool_spare") == 0) {
		if (parse_int(value, 0, 1000, &c->pool_spare) != 0)
			return bad(where, key, "expected 0-1000");
	} else if (strcmp(key, "auth_user") == 0 || strcmp(key, "worker_user") == 0) {
		if (value[0] == '\0' || strlen(value) >= KP_NAME_MAX)
			return bad(where, key, "expected a user name");
		set_str(key[0] == 'a' ? &c->auth_user : &c->worker_user, value);
	} else if (strcmp(key, "worker_chroot") == 0) {
		if (value[0] != '\0' && value[0] != '/')
			return bad(where, key, "expected an absolute path, or empty for none");
		set_str(&c->worker_chroot, value);
	} else if (strcmp(key, "worker_max_sessions") == 0) {
		if (parse_int(value, 1, 1000000, &c->worker_max_sessions) != 0)
			return bad(where, key, "expected 1-1000000");
	} else if (strcmp(key, "greeting") == 0) {
		if (strpbrk(value, "\r\n") != NULL || strlen(value) > 200)
			return bad(where, key, "one line of at most 200 characters");
		set_str(&c->greeting, value[0] != '\0' ? value : "kpopd ready");
	} else {
		return bad(where, key, "unknown setting");
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int
kp_conf_load(struct kp_conf *c, const char *path)
{
	char line[KP_CONF_LINE_MAX + 2], where[512];
	FILE *f;
	int lineno = 0, rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return KP_E_NOTFOUND;
		fprintf(stderr, "kpopd: %s: %s\n", path, strerror(errno));
		return KP_E_CONFIG;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *key, *value;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = bad(where, "line", "too long");
			break;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL) {
			rc = bad(where, p, "expected key = value");
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		rc = kp_conf_set(c, key, value, where);
		if (rc != 0)
			break;
	}
	fclose(f);
	return rc;
}

int
kp_conf_check(const struct kp_conf *c)
{
	int i, rc = 0;

	if (c->nlisten == 0)
		rc = bad("config", "listen", "no listener");
	for (i = 0; i < c->nlisten; i++) {
		int nt;

		if (c->listen[i].mode == KP_MODE_POP3S && c->tls_cert == NULL)
			rc = bad("config", "listen", "a pop3s listener needs tls_cert and tls_key");
		if (c->listen[i].proxy && (kp_conf_proxy_trusted(c, &c->listen[i], &nt), nt == 0))
			rc = bad("config", "listen", "a proxy listener needs proxy_trusted (or "
				 "proxy=NETWORK,...): the load balancers it accepts headers from");
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		rc = bad("config", "tls_cert", "tls_cert and tls_key go together");
	if (c->plaintext_login && c->tls_cert == NULL)
		rc = bad("config", "plaintext_login", "needs TLS (tls_cert, tls_key): passwords "
			 "never travel in clear");
	if (c->usermap == KP_USERMAP_FILE && c->usermap_file == NULL)
		rc = bad("config", "usermap_file", "usermap = file needs a usermap_file");
	if (c->policy_file != NULL && access(c->policy_file, R_OK) != 0)
		rc = bad("config", "policy_file", strerror(errno));
	if (c->sasl_min_ssf > c->sasl_max_ssf)
		rc = bad("config", "sasl_min_ssf", "larger than sasl_max_ssf");
	return rc;
}

int
kp_conf_check_paths(const struct kp_conf *c)
{
	int rc = 0;

	if (c->usermap == KP_USERMAP_FILE && access(c->usermap_file, R_OK) != 0)
		rc = bad("config", "usermap_file", "usermap = file needs a readable usermap_file");
	if (c->keytab != NULL) {
		/* a krb5 keytab name: "FILE:/path", or a plain path */
		const char *path = c->keytab;

		if (strchr(path, ':') == NULL && access(path, R_OK) != 0)
			rc = bad("config", "keytab", strerror(errno));
	}
	if (c->rcache_dir != NULL && access(c->rcache_dir, W_OK) != 0)
		rc = bad("config", "rcache_dir", strerror(errno));
	return rc;
}

void
kp_conf_dump(const struct kp_conf *c)
{
	static const char *levels[] = { "err", "warn", "info", "debug" };
	int i;

	char nets[KP_PROXY_TRUSTED_MAX * 48];

	for (i = 0; i < c->nlisten; i++) {
		const struct kp_listen *l = &c->listen[i];
		int v6 = strchr(l->addr, ':') != NULL;

		kp_cidr_format_list(l->trusted, l->ntrusted, nets, sizeof(nets));
		for (char *sp = nets; (sp = strchr(sp, ' ')) != NULL;)
			*sp = ',';
		printf("listen = %s%s%s:%s %s%s%s%s\n", v6 ? "[" : "", l->addr, v6 ? "]" : "",
		       l->port, kp_listen_mode_name(l->mode), l->proxy ? " proxy" : "",
		       l->ntrusted > 0 ? "=" : "", nets);
	}
	kp_cidr_format_list(c->proxy_trusted, c->nproxy_trusted, nets, sizeof(nets));
	printf("proxy_trusted = %s\n", nets);
	printf("keytab = %s\n", c->keytab != NULL ? c->keytab : "");
	printf("service = %s\n", c->service);
	printf("server_principal = %s\n", c->server_principal != NULL ? c->server_principal : "");
	printf("hostname = %s\n", c->hostname);
	printf("realms =");
	for (i = 0; i < c->nrealms; i++)
		printf(" %s", c->realms[i]);
	printf("%s\n", c->nrealms == 0 ? " (default realm)" : "");
	printf("allow_instances = %s\n", c->allow_instances ? "yes" : "no");
	printf("usermap = %s\n", c->usermap == KP_USERMAP_ANAME ? "aname2lname" :
	       c->usermap == KP_USERMAP_FILE ? "file" : "realm");
	printf("usermap_file = %s\n", c->usermap_file != NULL ? c->usermap_file : "");
	printf("maildir = %s\n", strip_format(c->maildir));
	printf("mailbox_format = %s\n", c->mailbox_format == KP_MAILBOX_FMT_MBOX ? "mbox" :
	       c->mailbox_format == KP_MAILBOX_FMT_MAILDIR ? "maildir" : "auto");
	printf("mbox_journal_dir = %s\n", c->mbox_journal_dir != NULL ? c->mbox_journal_dir : "");
	printf("log = %s\n", c->log_syslog ? "syslog" : "stderr");
	printf("log_level = %s\n", levels[c->log_level & 3]);
	for (i = 0; i < (int)NELEM(facilities); i++)
		if (facilities[i].value == c->syslog_facility)
			printf("syslog_facility = %s\n", facilities[i].name);
	printf("idle_timeout = %d\n", c->idle_timeout);
	printf("max_sessions = %d\n", c->max_sessions);
	printf("max_bad_commands = %d\n", c->max_bad_commands);
	printf("sniff_ms = %d\n", c->sniff_ms);
	printf("kpop_timeout = %d\n", c->kpop_timeout);
	printf("auth_failure_delay_ms = %d\n", c->auth_failure_delay_ms);
	printf("kpop_pop3 = %s\n", c->kpop_pop3 ? "yes" : "no");
	printf("rcache_dir = %s\n", c->rcache_dir != NULL ? c->rcache_dir : "");
	printf("pidfile = %s\n", c->pidfile != NULL ? c->pidfile : "");
	printf("control_socket = %s\n", c->control_socket != NULL ? c->control_socket : "");
	printf("greeting = %s\n", c->greeting);
	printf("tls_cert = %s\n", c->tls_cert != NULL ? c->tls_cert : "");
	printf("tls_key = %s\n", c->tls_key != NULL ? c->tls_key : "");
	printf("tls_chain = %s\n", c->tls_chain != NULL ? c->tls_chain : "");
	for (i = 0; i < (int)NELEM(tls_versions); i++)
		if (tls_versions[i].value == c->tls_min_protocol)
			printf("tls_min_protocol = %s\n", tls_versions[i].name);
	printf("plaintext_login = %s\n", c->plaintext_login ? "yes" : "no");
	printf("login_delay = %d\n", c->login_delay);
	if (c->expire_days == KP_CONF_EXPIRE_NEVER)
		printf("expire_days = never\n");
	else
		printf("expire_days = %d\n", c->expire_days);
	printf("policy_file = %s\n", c->policy_file != NULL ? c->policy_file : "");
	printf("sasl_min_ssf = %d\n", c->sasl_min_ssf);
	printf("sasl_max_ssf = %d\n", c->sasl_max_ssf);
	printf("sasl_layers_over_tls = %s\n", c->sasl_layers_over_tls ? "yes" : "no");
	printf("mail_uid = %s\n", c->mail_uid != NULL ? c->mail_uid : "");
	printf("mail_gid = %s\n", c->mail_gid != NULL ? c->mail_gid : "");
	printf("min_uid = %d\n", c->min_uid);
	printf("passwd_cache_sec = %d\n", c->passwd_cache_sec);
	printf("allow_root = %s\n", c->allow_root ? "yes" : "no");
	printf("max_messages = %d\n", c->max_messages);
	printf("max_preauth_per_ip = %d\n", c->max_preauth_per_ip);
	printf("max_conn_per_ip = %d\n", c->max_conn_per_ip);
	printf("login_timeout = %d\n", c->login_timeout);
	printf("preauth_idle_timeout = %d\n", c->preauth_idle_timeout);
	printf("pool_spare = %d\n", c->pool_spare);
	printf("auth_user = %s\n", c->auth_user);
	printf("worker_user = %s\n", c->worker_user);
	printf("worker_chroot = %s\n", c->worker_chroot);
	printf("worker_max_sessions = %d\n", c->worker_max_sessions);
	printf("user_mode = %s\n", c->mail_uid != NULL ? "virtual" : "system");
}

int
kp_conf_log_flags(const struct kp_conf *c)
{
	kp_log_set_facility(c->syslog_facility);
	return (c->log_syslog ? KP_LOG_SYSLOG : 0) | KP_LOG_STAMP;
}
