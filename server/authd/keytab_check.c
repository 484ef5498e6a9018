/* keytab_check.c - kpopd -t's checks of the keytab, the TLS files and rcache_dir. */
#include "config.h"
#include "server/authd/keytab_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <krb5.h>

#include "kp_tls.h"

static int
problem(const char *what, const char *fix)
{
	fprintf(stderr, "kpopd: problem: %s; fix: %s\n", what, fix);
	return 1;
}

static void
warning(const char *what, const char *fix)
{
	fprintf(stderr, "kpopd: warning: %s; %s\n", what, fix);
}

/* The keytab file name: the setting, KRB5_KTNAME, or libkrb5's default. */
static void
keytab_name(krb5_context ctx, const struct kp_conf *c, char *out, size_t cap)
{
	const char *env = getenv("KRB5_KTNAME");

	if (c->keytab != NULL)
		snprintf(out, cap, "FILE:%s", c->keytab);
	else if (env != NULL)
		snprintf(out, cap, "%s", env);
	else if (krb5_kt_default_name(ctx, out, (int)cap) != 0)
		snprintf(out, cap, "FILE:/etc/krb5.keytab");
}

static int
check_keytab(krb5_context ctx, const struct kp_conf *c, int verbose)
{
	char name[1024], msg[1400];
	const char *path;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	struct stat st;
	int bad = 0, service_keys = 0, pinned_found = 0, entries = 0;

	keytab_name(ctx, c, name, sizeof(name));
	path = strncmp(name, "FILE:", 5) == 0 ? name + 5 : strchr(name, ':') == NULL ? name : NULL;
	if (path != NULL) {
		if (stat(path, &st) != 0) {
			snprintf(msg, sizeof(msg), "keytab %s: %s", path, strerror(errno));
			return problem(msg, "export the pop/HOST keys with kadmin ktadd -k FILE pop/HOST "
				       "and set keytab = FILE");
		}
		if (access(path, R_OK) != 0) {
			snprintf(msg, sizeof(msg), "keytab %s is not readable by uid %ld", path,
				 (long)geteuid());
			return problem(msg, "chown it to the user that runs kpopd, mode 0600");
		}
		if (st.st_mode & (S_IRGRP | S_IROTH)) {
			snprintf(msg, sizeof(msg), "keytab %s is readable by %s (mode %04o)", path,
				 (st.st_mode & S_IROTH) ? "everyone" : "its group",
				 (unsigned)(st.st_mode & 07777));
			warning(msg, "anyone who reads it can impersonate this server: chmod 600");
		}
	}
	if (krb5_kt_resolve(ctx, name, &kt) != 0 || krb5_kt_start_seq_get(ctx, kt, &cur) != 0) {
		snprintf(msg, sizeof(msg), "keytab %s cannot be read as a keytab (empty or damaged)",
			 name);
		if (kt != NULL)
			krb5_kt_close(ctx, kt);
		return problem(msg, "export the keys again with kadmin ktadd");
	}
	while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
		char *pname = NULL, etype[64] = "?";
		const krb5_data *svc = krb5_princ_component(ctx, e.principal, 0);

		entries++;
		(void)krb5_unparse_name(ctx, e.principal, &pname);
		(void)krb5_enctype_to_name(e.key.enctype, 0, etype, sizeof(etype));
		if (svc != NULL && krb5_princ_size(ctx, e.principal) == 2 &&
		    svc->length == strlen(c->service) &&
		    memcmp(svc->data, c->service, svc->length) == 0)
			service_keys++;
		if (c->server_principal != NULL && pname != NULL &&
		    strcmp(pname, c->server_principal) == 0)
			pinned_found++;
		if (verbose)
			printf("keytab: %s kvno %u %s\n", pname != NULL ? pname : "?",
			       (unsigned)e.vno, etype);
		krb5_free_unparsed_name(ctx, pname);
		krb5_free_keytab_entry_contents(ctx, &e);
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
	krb5_kt_close(ctx, kt);
	if (entries == 0)
		bad += problem("the keytab has no keys", "export the pop/HOST keys with kadmin ktadd");
	else if (service_keys == 0) {
		snprintf(msg, sizeof(msg), "the keytab has no key for service \"%s\" (%s/HOST@REALM)",
			 c->service, c->service);
		bad += problem(msg, "kadmin: addprinc -randkey pop/HOST; ktadd -k KEYTAB pop/HOST");
	}
	if (c->server_principal != NULL && pinned_found == 0) {
		snprintf(msg, sizeof(msg), "server_principal %s has no key in the keytab",
			 c->server_principal);
		bad += problem(msg, "ktadd that principal, or unset server_principal");
	}
	return bad;
}

int
kp_selfcheck(const struct kp_conf *c, int verbose)
{
	krb5_context ctx = NULL;
	char msg[1200];
	int bad = 0;

	if (krb5_init_context(&ctx) != 0)
		return problem("libkrb5 cannot start (krb5.conf broken?)",
			       "check KRB5_CONFIG / /etc/krb5.conf");
	bad += check_keytab(ctx, c, verbose);
	krb5_free_context(ctx);
	if (c->tls_cert != NULL) {
		char err[512];
		SSL_CTX *t = kp_tls_server_ctx(c->tls_cert, c->tls_key, c->tls_chain,
					      c->tls_min_protocol, err, sizeof(err));

		if (t == NULL) {
			snprintf(msg, sizeof(msg), "TLS: %s", err);
			bad += problem(msg, "tls_cert must be a PEM chain (leaf first) and tls_key "
				       "its PEM private key");
		} else {
			SSL_CTX_free(t);
		}
	}
	if (c->rcache_dir == NULL) {
		const char *env = getenv("KRB5RCACHEDIR");

		if (env == NULL || access(env, W_OK) != 0)
			warning("no rcache_dir: the Kerberos replay cache goes to libkrb5's default "
				"(/var/tmp)", "set rcache_dir to a directory only kpopd writes");
	}
	return bad;
}
