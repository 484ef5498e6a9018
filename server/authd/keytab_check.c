/* keytab_check.c - kpopd -t's checks of the keytab, the realms, the TLS files,
 * rcache_dir and the usermap file. */
#include "config.h"
#include "server/authd/keytab_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <krb5.h>

#include <profile.h>

#include <openssl/x509v3.h>

#include "kp_tls.h"
#include "server/authd/policy.h"
#include "server/ident.h"
#include "server/usermap.h"

int
kp_check_problem(const char *what, const char *fix)
{
	fprintf(stderr, "kpopd: problem: %s; fix: %s\n", what, fix);
	return 1;
}

void
kp_check_warning(const char *what, const char *fix)
{
	fprintf(stderr, "kpopd: warning: %s; %s\n", what, fix);
}

#define problem kp_check_problem
#define warning kp_check_warning

void
kp_check_keytab_name(krb5_context ctx, const struct kp_conf *c, char *out, size_t cap)
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

	kp_check_keytab_name(ctx, c, name, sizeof(name));
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

/* rcache_dir exists and root can write it (the auth service makes its own
 * subdirectory when the directory is not its user's: authd.c prepare_rcache). */
static int
check_rcache(const struct kp_conf *c)
{
	char msg[1200], fix[1200];
	struct stat st;

	if (c->rcache_dir == NULL) {
		const char *env = getenv("KRB5RCACHEDIR");

		if (env == NULL || access(env, W_OK) != 0)
			warning("no rcache_dir: the Kerberos replay cache goes to libkrb5's default "
				"(/var/tmp)", "set rcache_dir to a directory only kpopd writes");
		return 0;
	}
	snprintf(fix, sizeof(fix), "mkdir -m 700 %s and chown it to auth_user %s (the Debian "
		 "package makes /var/cache/kpopd)", c->rcache_dir, c->auth_user);
	if (stat(c->rcache_dir, &st) != 0) {
		snprintf(msg, sizeof(msg), "rcache_dir %s: %s", c->rcache_dir, strerror(errno));
		return problem(msg, fix);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, sizeof(msg), "rcache_dir %s is not a directory", c->rcache_dir);
		return problem(msg, fix);
	}
	if (access(c->rcache_dir, W_OK) != 0) {
		snprintf(msg, sizeof(msg), "rcache_dir %s is not writable: %s", c->rcache_dir,
			 strerror(errno));
		return problem(msg, fix);
	}
	return 0;
}

/* The realms whose principals may log in: a default realm when none is listed,
 * and a [realms] entry in krb5.conf for each listed one (without it a typo goes
 * unnoticed; plaintext_login asks that KDC for tickets, so there it is needed). */
static int
check_realms(krb5_context ctx, const struct kp_conf *c, int verbose)
{
	const char *sect[] = { "realms", NULL };
	char **known = NULL, *def = NULL, msg[1200];
	profile_t prof = NULL;
	int i, bad = 0;

	if (krb5_get_default_realm(ctx, &def) != 0)
		def = NULL;
	if (c->nrealms == 0 && def == NULL)
		bad += problem("no realm may log in: realms is not set and krb5.conf has no "
			       "default_realm", "set realms = YOUR.REALM, or default_realm in "
			       "krb5.conf [libdefaults]");
	if (verbose && c->nrealms == 0)
		printf("realms allowed: the default realm %s\n", def != NULL ? def : "(none)");
	if (krb5_get_profile(ctx, &prof) != 0 ||
	    profile_get_subsection_names(prof, sect, &known) != 0)
		known = NULL;
	for (i = 0; i < c->nrealms; i++) {
		int j, found = 0;

		for (j = 0; known != NULL && known[j] != NULL; j++)
			found |= strcmp(known[j], c->realms[i]) == 0;
		if (verbose)
			printf("realms allowed: %s%s\n", c->realms[i],
			       found ? "" : " (not in krb5.conf)");
		if (found)
			continue;
		snprintf(msg, sizeof(msg), "realm %s (realms) has no [realms] entry in krb5.conf",
			 c->realms[i]);
		if (c->plaintext_login)
			bad += problem(msg, "add it with its kdc, or correct the name: "
				       "plaintext_login asks its KDC for tickets");
		else
			warning(msg, "tickets from it are still accepted; check the name "
				"(realm names are case-sensitive)");
	}
	if (known != NULL)
		profile_free_list(known);
	if (prof != NULL)
		profile_release(prof);
	if (def != NULL)
		krb5_free_default_realm(ctx, def);
	return bad;
}

/* The certificate and key load and match (kp_tls_server_ctx), the certificate is
 * valid now and for the next 30 days, and it names our host name. */
static int
check_tls(const struct kp_conf *c, int verbose)
{
	char err[512], msg[1200];
	SSL_CTX *t;
	X509 *x;
	int days = 0, secs = 0, bad = 0;

	t = kp_tls_server_ctx(c->tls_cert, c->tls_key, c->tls_chain, c->tls_min_protocol, err,
			      sizeof(err));
	if (t == NULL) {
		snprintf(msg, sizeof(msg), "TLS: %s", err);
		return problem(msg, "tls_cert must be a PEM chain (leaf first) and tls_key its "
			       "PEM private key");
	}
	x = SSL_CTX_get0_certificate(t);
	if (x != NULL && ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1) {
		if (days < 0 || secs < 0) {
			snprintf(msg, sizeof(msg), "TLS: the certificate %s has expired", c->tls_cert);
			bad += problem(msg, "renew it; clients refuse an expired certificate");
		} else if (days < 30) {
			snprintf(msg, sizeof(msg), "TLS: the certificate %s expires in %d days",
				 c->tls_cert, days);
			warning(msg, "renew it soon");
		} else if (verbose) {
			printf("tls_cert: %s, valid for %d more days\n", c->tls_cert, days);
		}
	}
	if (x != NULL && X509_cmp_time(X509_get0_notBefore(x), NULL) > 0) {
		snprintf(msg, sizeof(msg), "TLS: the certificate %s is not valid yet", c->tls_cert);
		bad += problem(msg, "check the clock, or the certificate's notBefore date");
	}
	if (x != NULL && X509_check_host(x, c->hostname, 0, 0, NULL) != 1) {
		snprintf(msg, sizeof(msg), "TLS: the certificate %s does not name this host (%s)",
			 c->tls_cert, c->hostname);
		warning(msg, "clients that verify the name will refuse it: set hostname, or "
			"use a certificate for the name clients connect to");
	}
	SSL_CTX_free(t);
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
	bad += check_realms(ctx, c, verbose);
	krb5_free_context(ctx);
	if (c->tls_cert != NULL)
		bad += check_tls(c, verbose);
	bad += check_rcache(c);
	if (c->mail_uid != NULL) {
		uid_t uid;
		gid_t gid;

		if (kp_ident_mail_user(c, &uid, &gid, msg, sizeof(msg)) != 0)
			bad += problem(msg, "mail_uid names the unprivileged owner of the virtual "
				       "users' mail (e.g. vmail); mail_gid its group");
		else if (verbose)
			printf("mail_uid: %s is uid %lu gid %lu\n", c->mail_uid, (unsigned long)uid,
			       (unsigned long)gid);
	}
	if (c->usermap == KP_USERMAP_FILE) {
		int n = 0;

		if (kp_usermap_check_file(c->usermap_file, &n, msg, sizeof(msg)) != 0)
			bad += problem(msg, "one \"principal@REALM user\" per line, # for comments");
		else if (verbose)
			printf("usermap_file: %s, %d entr%s\n", c->usermap_file, n,
			       n == 1 ? "y" : "ies");
	}
	if (c->policy_file != NULL) {
		struct kp_policy pol;

		/* no user is named "": the lookup checks every line */
		if (kp_policy_for(c, "", &pol, msg, sizeof(msg)) != 0)
			bad += problem(msg, "\"user [login_delay=SECONDS] [expire_days=DAYS|never]\" "
				       "per line, # for comments");
		else if (verbose)
			printf("policy_file: %s: OK\n", c->policy_file);
	}
	return bad;
}
