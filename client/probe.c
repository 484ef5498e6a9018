/* probe.c - kpop probe: test a POP3 server's Kerberos authentication step by step
 * (greeting, CAPA, TLS, the service principal and ticket, AUTH GSSAPI, KPOP), with a
 * verdict and the fix per mechanism; nothing is fetched or deleted. */
#include "config.h"
#include "client/probe.h"

#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <krb5.h>
#include <sasl/sasl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_pop3.h"
#include "client/cauth.h"
#include "client/explain.h"
#include "client/pop3c.h"

/* A probe makes at most 4 connections (1109 POP3, 1109 KPOP, 110, 995); each
 * reports at most about 16 steps. */
#define PROBE_SECTIONS_MAX 4
#define PROBE_STEPS_MAX 24
#define PROBE_TEXT_MAX 1024
#define PROBE_KV_MAX 16

enum mech { MECH_GSSAPI = 1, MECH_KPOP = 2 };
enum mode { MODE_POP3, MODE_TLS, MODE_KPOP }; /* MODE_POP3: STLS when offered */
enum status { ST_INFO, ST_OK, ST_WARN, ST_FAIL };

struct step {
	char name[40];
	enum status st;
	char detail[PROBE_TEXT_MAX];
};

struct kv {
	const char *key;
	char val[512];
};

/* One connection and the mechanism it tests, with its verdict. */
struct section {
	char port[16];
	enum mode mode;
	struct step steps[PROBE_STEPS_MAX];
	size_t nsteps;
	int ok, ex;
	char reason[PROBE_TEXT_MAX], fix[PROBE_TEXT_MAX];
};

/* The Kerberos side, once per host: principal, realm, the service ticket. */
struct krbinfo {
	struct step steps[PROBE_STEPS_MAX];
	size_t nsteps;
	struct kv kv[PROBE_KV_MAX];
	size_t nkv;
	int ok, ex;
	char reason[128], fix[512];
};

struct probe {
	const char *host, *port, *service, *cafile, *user;
	int tls, json, verbose, timeout, mechs;
	struct krbinfo k;
	struct section secs[PROBE_SECTIONS_MAX];
	size_t nsecs;
};

/* What the verify callback saw of the server's certificate chain. */
struct tlsinfo {
	int have_leaf, verr;
	char subject[300], issuer[300], names[400], not_after[64];
	long days_left;
	char chain[4][300];
	int depth_max;
};

static const char *
mech_name(enum mode m)
{
	return m == MODE_KPOP ? "KPOP" : "GSSAPI";
}

static const char *
mode_text(enum mode m)
{
	return m == MODE_TLS ? "implicit TLS" : m == MODE_KPOP ? "KPOP handshake" :
	       "POP3, STLS when offered";
}

static void vstep(struct probe *p, struct step *steps, size_t *n, enum status st,
		  const char *name, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

static void
vstep(struct probe *p, struct step *steps, size_t *n, enum status st, const char *name,
      const char *fmt, va_list ap)
{
	static const char *const marks[] = { "", "ok - ", "warning - ", "FAILED - " };
	struct step *s;

	if (*n >= PROBE_STEPS_MAX)
		return;
	s = &steps[(*n)++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->st = st;
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	if (!p->json) {
		printf("  %-18s %s%s\n", s->name, marks[st], s->detail);
		fflush(stdout);
	}
}

/* A step of a connection.  Peer text in the arguments is escaped by the caller. */
static void step(struct probe *p, struct section *s, enum status st, const char *name,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void
step(struct probe *p, struct section *s, enum status st, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstep(p, s->steps, &s->nsteps, st, name, fmt, ap);
	va_end(ap);
}

static void kstep(struct probe *p, enum status st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
kstep(struct probe *p, enum status st, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstep(p, p->k.steps, &p->k.nsteps, st, name, fmt, ap);
	va_end(ap);
}

static void kset(struct probe *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A Kerberos fact recorded by kset, or "?". */
static const char *
kget(const struct probe *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->k.nkv; i++)
		if (strcmp(p->k.kv[i].key, key) == 0)
			return p->k.kv[i].val;
	return "?";
}

static void
kset(struct probe *p, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (p->k.nkv >= PROBE_KV_MAX)
		return;
	p->k.kv[p->k.nkv].key = key;
	va_start(ap, fmt);
	vsnprintf(p->k.kv[p->k.nkv].val, sizeof(p->k.kv[0].val), fmt, ap);
	va_end(ap);
	p->k.nkv++;
}

static void
verdict(struct section *s, int ex, const char *reason, const char *fix)
{
	s->ok = ex == 0;
	s->ex = ex;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	snprintf(s->fix, sizeof(s->fix), "%s", fix != NULL ? fix : "");
}

/* The messages cauth and pop3c print on stderr become a step's detail: stderr is
 * a memory stream for the duration of one call (glibc lets stderr be assigned). */
struct capture {
	FILE *saved, *f;
	char *buf;
	size_t len;
};

static void
cap_begin(struct capture *cp)
{
	memset(cp, 0, sizeof(*cp));
	fflush(stderr);
	cp->saved = stderr;
	cp->f = open_memstream(&cp->buf, &cp->len);
	if (cp->f != NULL)
		stderr = cp->f;
}

/* Restore stderr; out gets the captured lines without "kpop: ", joined by "; " (the
 * -v trace lines are left out of it and, with -v, everything is echoed). */
static void
cap_end(struct capture *cp, int echo, char *out, size_t cap)
{
	char *line, *next;
	size_t used = 0;

	out[0] = '\0';
	if (cp->f == NULL)
		return;
	fflush(cp->f);
	stderr = cp->saved;
	fclose(cp->f);
	if (cp->buf == NULL)
		return;
	if (echo)
		fputs(cp->buf, stderr);
	for (line = cp->buf; *line != '\0'; line = next) {
		size_t n = strcspn(line, "\n");

		next = line + n + (line[n] == '\n');
		line[n] = '\0';
		if (strncmp(line, "kpop[", 5) == 0)
			continue; /* the -v trace */
		if (strncmp(line, "kpop: ", 6) == 0)
			line += 6;
		while (*line == ' ')
			line++;
		if (*line == '\0' || used + 3 >= cap)
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "; " : "", line);
		if (used >= cap)
			used = cap - 1;
	}
	free(cp->buf);
}

/* --- Kerberos ----------------------------------------------------------------- */

static const struct {
	enum kp_krb_why why;
	const char *label, *fix;
} whys[] = {
	{ KP_KRB_NO_TICKET, "no ticket", "run kinit" },
	{ KP_KRB_EXPIRED, "ticket expired", "run kinit again" },
	{ KP_KRB_NO_SERVICE, "principal unknown",
	  "the KDC has no such service principal: the host name is not one of the realm's "
	  "pop/ principals; connect by the name the server's principal has, or ask the "
	  "admin to create it and export its key to the server's keytab" },
	{ KP_KRB_SKEW, "clock skew", "fix time synchronisation (NTP) on this machine, the "
	  "server and the KDC" },
	{ KP_KRB_NO_KDC, "KDC unreachable", "check the realm's kdc lines in krb5.conf (or "
	  "DNS SRV records) and the network" },
	{ KP_KRB_WRONG_KEY, "wrong key", "the admin must re-export the pop/HOST key to the "
	  "server's keytab" },
	{ KP_KRB_BAD_PASSWORD, "bad password", "run kinit again" },
	{ KP_KRB_REPLAY, "replay", "try again" },
	{ KP_KRB_ENCTYPE, "enctype not permitted", "the admin must give the service account "
	  "AES keys (AD: msDS-SupportedEncryptionTypes) and export its keytab again" },
	{ KP_KRB_ADDRESS, "ticket address mismatch", "get an addressless ticket (kinit -A, or "
	  "noaddresses = true in krb5.conf): the server sees another address than the "
	  "ticket lists" },
};

static void
why_label(enum kp_krb_why why, const char **label, const char **fix)
{
	size_t i;

	*label = "Kerberos error";
	*fix = "see the Kerberos message";
	for (i = 0; i < sizeof(whys) / sizeof(whys[0]); i++)
		if (whys[i].why == why) {
			*label = whys[i].label;
			*fix = whys[i].fix;
		}
}

static void
flag_names(krb5_flags f, char *out, size_t cap)
{
	static const struct { krb5_flags bit; const char *name; } fl[] = {
		{ TKT_FLG_FORWARDABLE, "forwardable" }, { TKT_FLG_FORWARDED, "forwarded" },
		{ TKT_FLG_PROXIABLE, "proxiable" }, { TKT_FLG_PROXY, "proxy" },
		{ TKT_FLG_MAY_POSTDATE, "may-postdate" }, { TKT_FLG_POSTDATED, "postdated" },
		{ TKT_FLG_INVALID, "invalid" }, { TKT_FLG_RENEWABLE, "renewable" },
		{ TKT_FLG_INITIAL, "initial" }, { TKT_FLG_PRE_AUTH, "pre-authenticated" },
		{ TKT_FLG_HW_AUTH, "hw-authenticated" },
		{ TKT_FLG_TRANSIT_POLICY_CHECKED, "transit-policy-checked" },
		{ TKT_FLG_OK_AS_DELEGATE, "ok-as-delegate" }, { TKT_FLG_ANONYMOUS, "anonymous" },
	};
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if ((f & fl[i].bit) && used < cap) {
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? " " : "",
						 fl[i].name);
		}
	if (out[0] == '\0')
		snprintf(out, cap, "none");
}

static void
time_text(krb5_timestamp t, char *out, size_t cap)
{
	time_t tt = (time_t)(uint32_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
ticket_failed(struct probe *p, krb5_context ctx, krb5_error_code kret, const char *what)
{
	const char *m = krb5_get_error_message(ctx, kret), *label, *fix;
	enum kp_krb_why why = kp_krb5_classify((long)kret);
	char safe[EXPLAIN_SAFE_MAX];

	if (why == KP_KRB_UNKNOWN)
		why = kp_krb5_classify_text(m);
	why_label(why, &label, &fix);
	p->k.ok = 0;
	p->k.ex = explain_exit_for(why);
	snprintf(p->k.reason, sizeof(p->k.reason), "%s", label);
	snprintf(p->k.fix, sizeof(p->k.fix), "%s", fix);
	kstep(p, ST_FAIL, what, "%s: %s (krb5: %s, code %ld)", label, fix,
	      explain_safe(m, safe, sizeof(safe)), (long)kret);
	kset(p, "error", "%s", label);
	kset(p, "error_detail", "%s", safe);
	krb5_free_error_message(ctx, m);
}

/* The service principal krb5 makes of the host name, and a service ticket to it. */
static void
probe_kerberos(struct probe *p)
{
	krb5_context ctx = NULL;
	krb5_ccache cc = NULL;
	krb5_principal server = NULL, client = NULL;
	krb5_creds in, *out = NULL;
	krb5_ticket *tkt = NULL;
	krb5_error_code kret;
	char **realms = NULL, *name = NULL, *cname = NULL, *dflt = NULL, *tname = NULL;
	char canon[256] = "", realm[256] = "", hrealm[256] = "", buf[256], t1[32], t2[32];
	char t3[32], safe[EXPLAIN_SAFE_MAX];

	memset(&in, 0, sizeof(in));
	p->k.ok = 0;
	p->k.ex = EXIT_KRB;
	snprintf(p->k.reason, sizeof(p->k.reason), "Kerberos error");
	if (!p->json)
		printf("Kerberos (local configuration and KDC)\n");
	if ((kret = krb5_init_context(&ctx)) != 0) {
		kstep(p, ST_FAIL, "krb5", "cannot initialise Kerberos (code %ld): check krb5.conf "
		      "(KRB5_CONFIG)", (long)kret);
		snprintf(p->k.fix, sizeof(p->k.fix), "check krb5.conf");
		return;
	}
	kret = krb5_sname_to_principal(ctx, p->host, p->service, KRB5_NT_SRV_HST, &server);
	if (kret == 0)
		kret = krb5_unparse_name(ctx, server, &name);
	if (kret != 0) {
		ticket_failed(p, ctx, kret, "service principal");
		goto out;
	}
	if (krb5_princ_size(ctx, server) >= 2) {
		const krb5_data *d = krb5_princ_component(ctx, server, 1);

		snprintf(canon, sizeof(canon), "%.*s", (int)d->length, d->data);
	}
	snprintf(realm, sizeof(realm), "%.*s", (int)krb5_princ_realm(ctx, server)->length,
		 krb5_princ_realm(ctx, server)->data);
	if (krb5_get_host_realm(ctx, p->host, &realms) == 0 && realms != NULL &&
	    realms[0] != NULL)
		snprintf(hrealm, sizeof(hrealm), "%s", realms[0]);
	(void)krb5_get_default_realm(ctx, &dflt);
	kset(p, "service_principal", "%s", name);
	kset(p, "requested_host", "%s", p->host);
	kset(p, "principal_host", "%s", canon);
	kset(p, "realm", "%s", realm);
	kstep(p, ST_INFO, "service principal", "%s (service %s on host %s)",
	      explain_safe(name, safe, sizeof(safe)), p->service, p->host);
	if (strcmp(canon, p->host) == 0)
		kstep(p, ST_INFO, "host name", "krb5_sname_to_principal kept %s as is (no "
		      "canonicalisation: dns_canonicalize_hostname / rdns did not change it)",
		      p->host);
	else
		kstep(p, ST_INFO, "host name", "krb5_sname_to_principal turned %s into %s "
		      "(canonicalisation: lower case, DNS forward lookup per "
		      "dns_canonicalize_hostname, reverse lookup per rdns)", p->host,
		      explain_safe(canon, safe, sizeof(safe)));
	if (realm[0] != '\0')
		kstep(p, ST_INFO, "realm", "%s (krb5_get_host_realm: %s; default realm %s)",
		      realm, hrealm[0] ? hrealm : "no mapping", dflt ? dflt : "none");
	else
		kstep(p, ST_INFO, "realm", "none in the principal (referral realm): no "
		      "[domain_realm] entry for %s; the KDC of the default realm %s is asked "
		      "and may refer to another", p->host, dflt ? dflt : "(none)");

	kret = krb5_cc_default(ctx, &cc);
	if (kret == 0)
		kret = krb5_cc_get_principal(ctx, cc, &client);
	if (kret == 0)
		kret = krb5_unparse_name(ctx, client, &cname);
	if (kret != 0) {
		ticket_failed(p, ctx, kret, "your ticket");
		goto out;
	}
	kset(p, "client_principal", "%s", cname);
	kstep(p, ST_INFO, "you are", "%s (credentials cache %s:%s)",
	      explain_safe(cname, safe, sizeof(safe)), krb5_cc_get_type(ctx, cc),
	      krb5_cc_get_name(ctx, cc));
	in.client = client;
	in.server = server;
	kret = krb5_get_credentials(ctx, 0, cc, &in, &out);
	if (kret != 0) {
		ticket_failed(p, ctx, kret, "service ticket");
		goto out;
	}
	if (krb5_unparse_name(ctx, out->server, &tname) != 0)
		tname = NULL;
	time_text(out->times.starttime ? out->times.starttime : out->times.authtime, t1,
		  sizeof(t1));
	time_text(out->times.endtime, t2, sizeof(t2));
	time_text(out->times.renew_till, t3, sizeof(t3));
	kstep(p, ST_OK, "service ticket", "obtained for %s",
	      explain_safe(tname ? tname : name, safe, sizeof(safe)));
	kset(p, "ticket_server", "%s", safe);
	if (krb5_decode_ticket(&out->ticket, &tkt) == 0) {
		if (krb5_enctype_to_name(tkt->enc_part.enctype, 0, buf, sizeof(buf)) != 0)
			snprintf(buf, sizeof(buf), "enctype %d", (int)tkt->enc_part.enctype);
		kstep(p, ST_INFO, "ticket enctype", "%s (the server's key; kvno %u)", buf,
		      (unsigned)tkt->enc_part.kvno);
		kset(p, "ticket_enctype", "%s", buf);
		kset(p, "kvno", "%u", (unsigned)tkt->enc_part.kvno);
	}
	if (krb5_enctype_to_name(out->keyblock.enctype, 0, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "enctype %d", (int)out->keyblock.enctype);
	kstep(p, ST_INFO, "session key", "%s", buf);
	kset(p, "session_enctype", "%s", buf);
	kstep(p, ST_INFO, "valid", "from %s until %s%s%s", t1, t2,
	      out->times.renew_till ? ", renewable until " : "",
	      out->times.renew_till ? t3 : "");
	kset(p, "start", "%s", t1);
	kset(p, "end", "%s", t2);
	flag_names(out->ticket_flags, buf, sizeof(buf));
	kstep(p, ST_INFO, "flags", "%s", buf);
	kset(p, "flags", "%s", buf);
	p->k.ok = 1;
	p->k.ex = 0;
	p->k.reason[0] = '\0';
out:
	if (tkt != NULL)
		krb5_free_ticket(ctx, tkt);
	if (out != NULL)
		krb5_free_creds(ctx, out);
	krb5_free_unparsed_name(ctx, tname);
	krb5_free_unparsed_name(ctx, cname);
	krb5_free_unparsed_name(ctx, name);
	if (realms != NULL)
		krb5_free_host_realm(ctx, realms);
	krb5_free_default_realm(ctx, dflt);
	if (client != NULL)
		krb5_free_principal(ctx, client);
	if (server != NULL)
		krb5_free_principal(ctx, server);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
}

/* --- TLS ---------------------------------------------------------------------- */

static void
name_text(X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;

	out[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
	len = BIO_get_mem_data(b, &data);
	snprintf(out, cap, "%.*s", (int)(len > 0 ? len : 0), data);
	BIO_free(b);
}

static void
san_text(X509 *x, char *out, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d = NULL;
		int len = 0;
		char ip[64] = "";

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
		} else if (g->type == GEN_IPADD && g->d.iPAddress->length == 4) {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);

			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		}
		if (used + 2 >= cap)
			break;
		if (d != NULL)
			used += (size_t)snprintf(out + used, cap - used, "%sDNS:%.*s",
						 used ? ", " : "", len, (const char *)d);
		else if (ip[0] != '\0')
			used += (size_t)snprintf(out + used, cap - used, "%sIP:%s",
						 used ? ", " : "", ip);
		if (used >= cap)
			used = cap - 1;
	}
	GENERAL_NAMES_free(gens);
}

static int
verify_cb(int ok, X509_STORE_CTX *st)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tlsinfo *ti = ssl != NULL ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	X509 *x = X509_STORE_CTX_get_current_cert(st);
	int depth = X509_STORE_CTX_get_error_depth(st);

	if (ti == NULL || x == NULL)
		return ok;
	if (!ok && ti->verr == 0)
		ti->verr = X509_STORE_CTX_get_error(st);
	if (depth >= 0 && depth < 4) {
		char sub[300];

		name_text(X509_get_subject_name(x), sub, sizeof(sub));
		snprintf(ti->chain[depth], sizeof(ti->chain[depth]), "%s", sub);
		if (depth > ti->depth_max)
			ti->depth_max = depth;
	}
	if (depth == 0 && !ti->have_leaf) {
		const ASN1_TIME *na = X509_get0_notAfter(x);
		struct tm tm;
		int days = 0, secs = 0;

		ti->have_leaf = 1;
		name_text(X509_get_subject_name(x), ti->subject, sizeof(ti->subject));
		name_text(X509_get_issuer_name(x), ti->issuer, sizeof(ti->issuer));
		san_text(x, ti->names, sizeof(ti->names));
		if (ASN1_TIME_to_tm(na, &tm) == 1)
			strftime(ti->not_after, sizeof(ti->not_after), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (ASN1_TIME_diff(&days, &secs, NULL, na) == 1)
			ti->days_left = days;
	}
	return ok;
}

/* TLS on c now (implicit TLS, or after STLS's +OK), with the certificate reported. */
static int
tls_step(struct probe *p, struct section *s, struct pop3c *c, SSL_CTX **ctx_out)
{
	struct tlsinfo ti;
	struct capture cp;
	char err[512], detail[PROBE_TEXT_MAX], a[EXPLAIN_SAFE_MAX], b[EXPLAIN_SAFE_MAX];
	int rc;

	memset(&ti, 0, sizeof(ti));
	*ctx_out = kp_tls_client_ctx(p->cafile, err, sizeof(err));
	if (*ctx_out == NULL) {
		step(p, s, ST_FAIL, "TLS", "%s", err);
		verdict(s, EXIT_USAGE, "cannot set up TLS", "check --cafile");
		return -1;
	}
	SSL_CTX_set_verify(*ctx_out, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_app_data(*ctx_out, &ti);
	cap_begin(&cp);
	rc = pop3c_tls(c, *ctx_out, p->host);
	cap_end(&cp, p->verbose, detail, sizeof(detail));
	SSL_CTX_set_app_data(*ctx_out, NULL);
	if (ti.have_leaf) {
		step(p, s, ST_INFO, "certificate", "subject %s, issued by %s",
		     explain_safe(ti.subject, a, sizeof(a)), explain_safe(ti.issuer, b, sizeof(b)));
		step(p, s, ST_INFO, "names", "%s",
		     ti.names[0] ? explain_safe(ti.names, a, sizeof(a)) : "no subjectAltName");
		for (int d = 1; d <= ti.depth_max && d < 4; d++)
			if (ti.chain[d][0] != '\0')
				step(p, s, ST_INFO, "chain", "depth %d: %s", d,
				     explain_safe(ti.chain[d], a, sizeof(a)));
		step(p, s, ti.days_left < 0 ? ST_FAIL : ti.days_left < 14 ? ST_WARN : ST_OK,
		     "expiry", "%s (%s%ld day%s)", ti.not_after, ti.days_left < 0 ? "expired " : "in ",
		     ti.days_left < 0 ? -ti.days_left : ti.days_left,
		     ti.days_left == 1 || ti.days_left == -1 ? "" : "s");
	}
	if (rc == 0)
		step(p, s, ST_OK, "host name", "the certificate is valid for %s", p->host);
	else if (ti.verr == X509_V_ERR_HOSTNAME_MISMATCH)
		step(p, s, ST_FAIL, "host name", "the certificate is not valid for the host name "
		     "%s (it names %s)", p->host, ti.names[0] ? explain_safe(ti.names, a, sizeof(a)) :
		     "no subjectAltName");
	else if (ti.verr != 0)
		step(p, s, ST_FAIL, "chain", "does not verify: %s",
		     X509_verify_cert_error_string(ti.verr));
	if (rc != 0) {
		step(p, s, ST_FAIL, "TLS", "%s", detail);
		verdict(s, EXIT_NET, detail, ti.verr == X509_V_ERR_HOSTNAME_MISMATCH ?
			"connect by a name the certificate carries, or have the server's "
			"certificate issued for this host name" : ti.verr != 0 ?
			"give the server's CA with --cafile, or renew the certificate" :
			"check that the port speaks TLS");
		return -1;
	}
	step(p, s, ST_OK, "TLS", "%s", kp_tls_describe(c->tls, a, sizeof(a)));
	return 0;
}

/* --- POP3 --------------------------------------------------------------------- */

struct capa_acc {
	struct pop3c *c;
	char lines[PROBE_TEXT_MAX], mechs[256];
};

static int
capa_cb(void *arg, const char *line)
{
	struct capa_acc *ca = arg;
	char safe[EXPLAIN_SAFE_MAX];
	size_t n = strcspn(line, " "), used = strlen(ca->lines);

	explain_safe(line, safe, sizeof(safe));
	if (used + 2 < sizeof(ca->lines))
		snprintf(ca->lines + used, sizeof(ca->lines) - used, "%s%s", used ? ", " : "", safe);
	if (n == 4 && strncasecmp(line, "STLS", 4) == 0)
		ca->c->capa_stls = 1;
	if (n == 4 && strncasecmp(line, "SASL", 4) == 0) {
		const char *q = line + n;

		snprintf(ca->mechs, sizeof(ca->mechs), "%s", explain_safe(q + (*q == ' '), safe,
									   sizeof(safe)));
		while (*q == ' ') {
			size_t m;

			q++;
			m = strcspn(q, " ");
			if (m == 6 && strncasecmp(q, "GSSAPI", 6) == 0)
				ca->c->capa_sasl_gssapi = 1;
			q += m;
		}
	}
	return 0;
}

/* CAPA, reported line by line; the flags STLS and SASL GSSAPI into c. */
static int
capa_step(struct probe *p, struct section *s, struct pop3c *c, struct capa_acc *ca)
{
	int rc;

	memset(ca, 0, sizeof(*ca));
	ca->c = c;
	c->have_capa = c->capa_stls = c->capa_sasl_gssapi = 0;
	pop3c_send(c, "CAPA");
	rc = pop3c_reply(c);
	if (rc < 0) {
		step(p, s, ST_FAIL, "CAPA", "connection lost: %s", kp_strerror(rc));
		verdict(s, EXIT_NET, "connection lost after CAPA", "check the server's log");
		return -1;
	}
	if (rc != KP_POP3_OK) {
		step(p, s, ST_WARN, "CAPA", "not supported (an RFC 1939 server): no list of "
		     "mechanisms");
		return 0;
	}
	c->have_capa = 1;
	if ((rc = pop3c_lines(c, capa_cb, ca)) != 0) {
		step(p, s, ST_FAIL, "CAPA", "bad answer: %s", kp_strerror(rc));
		verdict(s, EXIT_PROTO, "bad CAPA answer", "check the server");
		return -1;
	}
	step(p, s, ST_OK, "CAPA", "%s", ca->lines);
	return 0;
}

static const char *
fix_for_exit(int ex, const char *detail)
{
	const char *label, *fix;
	enum kp_krb_why why = kp_krb5_classify_text(detail);

	switch (ex) {
	case EXIT_NET:
		return "check that the server runs and listens there, and the network";
	case EXIT_CREDS:
		return "run kinit";
	case EXIT_SKEW:
		return kp_krb_why_text(KP_KRB_SKEW);
	case EXIT_REFUSED:
		return "the server refused: its log has the Kerberos detail (keytab out of "
		       "date, principal not allowed for the mailbox)";
	case EXIT_INUSE:
		return "another session holds the mailbox: try again later";
	case EXIT_KRB:
		why_label(why, &label, &fix);
		return why != KP_KRB_UNKNOWN ? fix : "check the server's keytab against the KDC "
		       "(kvno, enctypes) and krb5.conf";
	default:
		return "the server does not behave as a POP3 server should: see the detail";
	}
}

static void
stat_and_quit(struct probe *p, struct section *s, struct pop3c *c)
{
	char safe[EXPLAIN_SAFE_MAX];
	int rc;

	if (c->state == PC_TRANSACTION) {
		pop3c_send(c, "STAT");
		rc = pop3c_reply(c);
		if (rc < 0)
			step(p, s, ST_FAIL, "STAT", "connection lost: %s", kp_strerror(rc));
		else
			step(p, s, rc == KP_POP3_OK ? ST_OK : ST_WARN, "STAT", "%s%s",
			     rc == KP_POP3_OK ? "" : "-ERR ",
			     explain_safe(c->reply.text, safe, sizeof(safe)));
	}
	if (c->state != PC_TRANSACTION && c->state != PC_AUTHORIZATION)
		return;
	rc = pop3c_quit(c);
	step(p, s, rc == 0 ? ST_OK : ST_WARN, "QUIT", "%s", rc == 0 ? "nothing fetched or "
	     "deleted" : "no +OK to QUIT");
}

static void
connected_step(struct probe *p, struct section *s, struct pop3c *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[NI_MAXHOST] = "?";

	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
		(void)getnameinfo((struct sockaddr *)&ss, len, addr, sizeof(addr), NULL, 0,
				  NI_NUMERICHOST);
	step(p, s, ST_OK, "connect", "%s port %s (%s)", p->host, s->port, addr);
}

static int
connect_step(struct probe *p, struct section *s, struct pop3c *c)
{
	struct capture cp;
	char detail[PROBE_TEXT_MAX];
	int rc;

	cap_begin(&cp);
	rc = pop3c_connect(c, p->host, s->port, p->timeout);
	cap_end(&cp, p->verbose, detail, sizeof(detail));
	if (rc != 0) {
		step(p, s, ST_FAIL, "connect", "%s", detail);
		verdict(s, EXIT_NET, detail, "check that the server runs and listens on this "
			"port (and the firewall)");
		return -1;
	}
	connected_step(p, s, c);
	return 0;
}

static int
greeting_step(struct probe *p, struct section *s, struct pop3c *c)
{
	struct capture cp;
	char detail[PROBE_TEXT_MAX], safe[EXPLAIN_SAFE_MAX];
	int rc;

	cap_begin(&cp);
	rc = pop3c_greeting(c);
	cap_end(&cp, p->verbose, detail, sizeof(detail));
	if (rc != 0) {
		step(p, s, ST_FAIL, "greeting", "%s", detail);
		verdict(s, c->state == PC_FAILED && !c->not_pop3 ? EXIT_NET : EXIT_PROTO, detail,
			s->mode == MODE_POP3 ? "a POP3S port needs --tls; a KPOP-only port -a kpop" :
			"check the server");
		return -1;
	}
	step(p, s, ST_OK, "greeting", "%s", explain_safe(c->line, safe, sizeof(safe)));
	return 0;
}

/* One connection testing AUTH GSSAPI: plaintext (STLS when offered) or implicit TLS. */
static void
probe_gssapi(struct probe *p, struct section *s)
{
	struct pop3c *c = calloc(1, sizeof(*c));
	SSL_CTX *tctx = NULL;
	struct capa_acc ca;
	struct capture cp;
	char detail[PROBE_TEXT_MAX], why[PROBE_TEXT_MAX + 64];
	int ex, rc;

	if (c == NULL) {
		verdict(s, EXIT_USAGE, "out of memory", NULL);
		return;
	}
	c->fd = -1;
	if (connect_step(p, s, c) != 0)
		goto out;
	if (s->mode == MODE_TLS && tls_step(p, s, c, &tctx) != 0)
		goto out;
	if (greeting_step(p, s, c) != 0 || capa_step(p, s, c, &ca) != 0)
		goto out;
	if (s->mode == MODE_POP3 && c->capa_stls) {
		pop3c_send(c, "STLS");
		rc = pop3c_reply(c);
		if (rc != KP_POP3_OK) {
			step(p, s, ST_FAIL, "STLS", "offered but refused: %s", rc < 0 ?
			     kp_strerror(rc) : explain_safe(c->reply.text, detail, sizeof(detail)));
			verdict(s, rc < 0 ? EXIT_NET : EXIT_PROTO, "STLS refused", "check the server's "
				"TLS certificate and key");
			goto out;
		}
		step(p, s, ST_OK, "STLS", "offered and accepted");
		kp_io_discard_input(&c->io);
		if (tls_step(p, s, c, &tctx) != 0 || capa_step(p, s, c, &ca) != 0)
			goto out;
	} else if (s->mode == MODE_POP3) {
		step(p, s, ST_WARN, "STLS", "not offered: the session is not protected by TLS (a "
		     "GSSAPI security layer can still protect it)");
	}
	if (!c->have_capa)
		step(p, s, ST_WARN, "SASL mechanisms", "unknown (no CAPA): trying GSSAPI anyway");
	else
		step(p, s, c->capa_sasl_gssapi ? ST_OK : ST_FAIL, "SASL mechanisms", "%s",
		     ca.mechs[0] ? ca.mechs : "none offered (no SASL line in CAPA)");
	if (c->have_capa && !c->capa_sasl_gssapi) {
		verdict(s, EXIT_PROTO, "the server does not offer AUTH GSSAPI", "enable GSSAPI "
			"on the server (kpopd: a keytab with the pop/HOST key), or use KPOP");
		stat_and_quit(p, s, c);
		goto out;
	}
	if (!p->k.ok) {
		step(p, s, ST_FAIL, "AUTH GSSAPI", "not tried: %s", p->k.reason);
		verdict(s, p->k.ex, p->k.reason, p->k.fix);
		stat_and_quit(p, s, c);
		goto out;
	}
	cap_begin(&cp);
	ex = cauth_gssapi(c, p->service, p->host, p->user, 0, 256);
	cap_end(&cp, p->verbose, detail, sizeof(detail));
	if (ex == EXIT_REFUSED) {
		/* Where the server said no tells which side: before any challenge it could
		 * not accept the ticket; after its AP-REP the Kerberos part had worked. */
		const char *kvno = kget(p, "kvno"), *etype = kget(p, "ticket_enctype");
		char fix[PROBE_TEXT_MAX];

		if (c->auth_rounds == 0)
			snprintf(fix, sizeof(fix), "the server could not accept the ticket the KDC "
				 "issued (kvno %s, %s): its keytab lacks that key version or enctype "
				 "(exported before a rekey?), or the clocks differ.  On the server: "
				 "kpopd -t -k (or klist -ke KEYTAB); its log names the cause", kvno,
				 etype);
		else
			snprintf(fix, sizeof(fix), "the Kerberos exchange worked (the server "
				 "proved its key), then the login was refused: %s may not use that "
				 "mailbox (realms, usermap) or the mailbox failed; the server's log "
				 "says which", kget(p, "client_principal"));
		step(p, s, ST_FAIL, "AUTH GSSAPI", "%s", detail);
		snprintf(why, sizeof(why), "AUTH GSSAPI failed: %s", detail);
		verdict(s, ex, why, fix);
		stat_and_quit(p, s, c);
		goto out;
	}
	if (ex != 0) {
		step(p, s, ST_FAIL, "AUTH GSSAPI", "%s", detail);
		snprintf(why, sizeof(why), "AUTH GSSAPI failed: %s", detail);
		verdict(s, ex, why, fix_for_exit(ex, detail));
		stat_and_quit(p, s, c);
		goto out;
	}
	step(p, s, ST_OK, "AUTH GSSAPI", "mutual authentication succeeded: the server proved "
	     "it holds the key of %s/%s", p->service, p->host);
	{
		const void *v = NULL;
		unsigned maxbuf = 0;

		if (c->sasl_conn != NULL && sasl_getprop(c->sasl_conn, SASL_MAXOUTBUF, &v) ==
		    SASL_OK && v != NULL)
			maxbuf = *(const unsigned *)v;
		if (c->ssf == 0)
			step(p, s, ST_INFO, "security layer", "none (asked for up to privacy: the "
			     "server offers no layer%s)", c->tls != NULL ? " on top of TLS" : "");
		else
			step(p, s, ST_OK, "security layer", "%s (ssf %u, the strongest the server "
			     "offers), max buffer %u", c->ssf == 1 ? "integrity" : "privacy", c->ssf,
			     maxbuf);
	}
	verdict(s, 0, "mutual authentication succeeded", NULL);
	stat_and_quit(p, s, c);
out:
	pop3c_close(c);
	free(c);
	if (tctx != NULL)
		SSL_CTX_free(tctx);
}

/* One connection testing the KPOP handshake (and, with -u, the login and STAT). */
static void
probe_kpop(struct probe *p, struct section *s)
{
	struct pop3c *c = calloc(1, sizeof(*c));
	struct capture cp;
	char detail[PROBE_TEXT_MAX], why[PROBE_TEXT_MAX + 64];
	int ex;

	if (c == NULL) {
		verdict(s, EXIT_USAGE, "out of memory", NULL);
		return;
	}
	c->fd = -1;
	if (!p->k.ok) {
		step(p, s, ST_FAIL, "KPOP handshake", "not tried: %s", p->k.reason);
		verdict(s, p->k.ex, p->k.reason, p->k.fix);
		goto out;
	}
	if (connect_step(p, s, c) != 0)
		goto out;
	cap_begin(&cp);
	ex = cauth_kpop_handshake(c, p->service, p->host);
	cap_end(&cp, p->verbose, detail, sizeof(detail));
	if (ex != 0) {
		step(p, s, ST_FAIL, "KPOP handshake", "%s", detail);
		snprintf(why, sizeof(why), "KPOP handshake failed: %s", detail);
		verdict(s, ex, why, fix_for_exit(ex, detail));
		goto out;
	}
	step(p, s, ST_OK, "KPOP handshake", "mutual authentication succeeded: the server's "
	     "AP-REP verified (it holds the key of %s/%s)", p->service, p->host);
	if (greeting_step(p, s, c) != 0)
		goto out;
	if (p->user != NULL) {
		cap_begin(&cp);
		ex = cauth_kpop_login(c, p->user);
		cap_end(&cp, p->verbose, detail, sizeof(detail));
		if (ex != 0) {
			step(p, s, ST_FAIL, "login", "%s", detail);
			verdict(s, ex, detail, fix_for_exit(ex, detail));
			stat_and_quit(p, s, c);
			goto out;
		}
		step(p, s, ST_OK, "login", "USER %s accepted", p->user);
	} else {
		step(p, s, ST_INFO, "login", "not tried (give -u USER to log in and STAT)");
	}
	verdict(s, 0, "mutual authentication succeeded", NULL);
	stat_and_quit(p, s, c);
out:
	pop3c_close(c);
	free(c);
}

/* --- output ------------------------------------------------------------------- */

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch); /* (text is escaped ASCII already; Latin-1 if not) */
		else
			putchar(ch);
	}
	putchar('"');
}

static void
json_kv(const char *key, const char *val, int comma)
{
	json_str(key);
	putchar(':');
	json_str(val);
	if (comma)
		putchar(',');
}

static void
json_steps(const struct step *st, size_t n)
{
	static const char *const names[] = { "info", "ok", "warning", "failed" };
	size_t i;

	printf("\"steps\":[");
	for (i = 0; i < n; i++) {
		printf("%s{", i ? "," : "");
		json_kv("step", st[i].name, 1);
		json_kv("status", names[st[i].st], 1);
		json_kv("detail", st[i].detail, 0);
		putchar('}');
	}
	putchar(']');
}

static void
print_json(const struct probe *p, int ex)
{
	size_t i;

	putchar('{');
	json_kv("host", p->host, 1);
	json_kv("service", p->service, 1);
	printf("\"kerberos\":{\"ok\":%s,", p->k.ok ? "true" : "false");
	for (i = 0; i < p->k.nkv; i++)
		json_kv(p->k.kv[i].key, p->k.kv[i].val, 1);
	json_steps(p->k.steps, p->k.nsteps);
	printf("},\"connections\":[");
	for (i = 0; i < p->nsecs; i++) {
		const struct section *s = &p->secs[i];

		printf("%s{", i ? "," : "");
		json_kv("port", s->port, 1);
		json_kv("mode", mode_text(s->mode), 1);
		json_kv("mechanism", mech_name(s->mode), 1);
		json_steps(s->steps, s->nsteps);
		putchar('}');
	}
	printf("],\"verdicts\":[");
	for (i = 0; i < p->nsecs; i++) {
		const struct section *s = &p->secs[i];

		printf("%s{", i ? "," : "");
		json_kv("mechanism", mech_name(s->mode), 1);
		json_kv("port", s->port, 1);
		printf("\"ok\":%s,\"exit\":%d,", s->ok ? "true" : "false", s->ex);
		json_kv("result", s->ok ? "OK" : "FAILED", 1);
		json_kv("reason", s->reason, 1);
		json_kv("fix", s->fix, 0);
		putchar('}');
	}
	printf("],\"exit\":%d}\n", ex);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: kpop probe HOST [options]\n"
		"  -p, --port PORT      only this port (default: 1109 POP3 and KPOP, 110, 995)\n"
		"  -a, --auth MECH      gssapi, kpop or all (default: all; with -p, gssapi,\n"
		"                       and kpop too on 1109)\n"
		"      --tls            the port given speaks implicit TLS (as 995 does)\n"
		"      --cafile FILE    trust this CA for the server's certificate\n"
		"      --service NAME   Kerberos service (default pop)\n"
		"  -u, --user NAME      mailbox: authzid for GSSAPI, USER for KPOP (then STAT)\n"
		"  -t, --timeout SEC    network timeout (default 10)\n"
		"      --json           one JSON object on standard output\n"
		"  -v, --verbose        protocol trace on stderr\n"
		"exit status: 0 if a Kerberos mechanism worked, else the first failure's\n"
		"  (as for kpop: 2 network, 3 protocol, 4 no ticket, 5 realm/service, ...)\n");
}

static void
add(struct probe *p, const char *port, enum mode m)
{
	struct section *s;

	if (p->nsecs >= PROBE_SECTIONS_MAX)
		return;
	s = &p->secs[p->nsecs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->port, sizeof(s->port), "%s", port);
	s->mode = m;
	s->ex = EXIT_PROTO;
}

int
probe_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "auth", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "service", required_argument, NULL, 1000 },
		{ "tls", no_argument, NULL, 1001 },
		{ "cafile", required_argument, NULL, 1002 },
		{ "json", no_argument, NULL, 1003 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe *p = calloc(1, sizeof(*p));
	unsigned long n;
	size_t i;
	int opt, ex = EXIT_USAGE, first_fail = 0;

	if (p == NULL)
		return EXIT_USAGE;
	p->service = "pop";
	p->timeout = 10;
	while ((opt = getopt_long(argc, argv, "H:p:a:u:t:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H': p->host = optarg; break;
		case 'p':
			if (kp_parse_ulong(optarg, 1, 65535, &n) != 0) {
				fprintf(stderr, "kpop probe: --port: expected 1-65535\n");
				goto out;
			}
			p->port = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "gssapi") == 0)
				p->mechs = MECH_GSSAPI;
			else if (strcmp(optarg, "kpop") == 0)
				p->mechs = MECH_KPOP;
			else if (strcmp(optarg, "all") == 0)
				p->mechs = MECH_GSSAPI | MECH_KPOP;
			else {
				fprintf(stderr, "kpop probe: --auth: expected gssapi, kpop or all\n");
				goto out;
			}
			break;
		case 'u': p->user = optarg; break;
		case 't':
			if (kp_parse_ulong(optarg, 1, 3600, &n) != 0) {
				fprintf(stderr, "kpop probe: --timeout: expected 1-3600 seconds\n");
				goto out;
			}
			p->timeout = (int)n;
			break;
		case 1000: p->service = optarg; break;
		case 1001: p->tls = 1; break;
		case 1002: p->cafile = optarg; break;
		case 1003: p->json = 1; break;
		case 'v': p->verbose = 1; break;
		case 'h': usage(stdout); ex = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (p->host == NULL && optind < argc)
		p->host = argv[optind++];
	if (p->host == NULL || optind < argc || p->host[0] == '\0' ||
	    strlen(p->host) >= sizeof(((struct pop3c *)0)->host)) {
		usage(stderr);
		goto out;
	}
	kp_log_open("kpop", 0, p->verbose ? KP_LOG_DEBUG : KP_LOG_WARN);
	if (p->port == NULL) {
		if (p->mechs == 0)
			p->mechs = MECH_GSSAPI | MECH_KPOP;
		if (p->mechs & MECH_GSSAPI)
			add(p, "1109", MODE_POP3);
		if (p->mechs & MECH_KPOP)
			add(p, "1109", MODE_KPOP);
		if (p->mechs & MECH_GSSAPI) {
			add(p, "110", MODE_POP3);
			add(p, "995", MODE_TLS);
		}
	} else {
		int tls = p->tls || strcmp(p->port, "995") == 0;

		if (p->mechs == 0)
			p->mechs = MECH_GSSAPI | (strcmp(p->port, "1109") == 0 ? MECH_KPOP : 0);
		if (p->mechs & MECH_GSSAPI)
			add(p, p->port, tls ? MODE_TLS : MODE_POP3);
		if ((p->mechs & MECH_KPOP) && !tls)
			add(p, p->port, MODE_KPOP);
		if (p->nsecs == 0) {
			fprintf(stderr, "kpop probe: KPOP cannot run inside implicit TLS\n");
			goto out;
		}
	}
	if (!p->json)
		printf("kpop probe %s: service %s, nothing is fetched or deleted\n", p->host,
		       p->service);
	probe_kerberos(p);
	for (i = 0; i < p->nsecs; i++) {
		struct section *s = &p->secs[i];

		if (!p->json)
			printf("%s on port %s (%s)\n", mech_name(s->mode), s->port, mode_text(s->mode));
		if (s->mode == MODE_KPOP)
			probe_kpop(p, s);
		else
			probe_gssapi(p, s);
	}
	ex = -1;
	for (i = 0; i < p->nsecs; i++) {
		if (p->secs[i].ok)
			ex = 0;
		else if (first_fail == 0)
			first_fail = p->secs[i].ex != 0 ? p->secs[i].ex : EXIT_PROTO;
	}
	/* the ticket step runs first: without a ticket nothing else could work */
	if (ex != 0)
		ex = p->k.ok ? first_fail : p->k.ex;
	if (p->json) {
		print_json(p, ex);
		goto out;
	}
	printf("Verdict\n");
	for (i = 0; i < p->nsecs; i++) {
		const struct section *s = &p->secs[i];

		printf("  %-6s port %-5s %s%s\n", mech_name(s->mode), s->port,
		       s->ok ? "OK - " : "FAILED - ", s->reason);
		if (!s->ok && s->fix[0] != '\0')
			printf("                      fix: %s\n", s->fix);
	}
	printf("%s (exit %d)\n", ex == 0 ? "Kerberos authentication works" :
	       "no Kerberos mechanism worked", ex);
out:
	free(p);
	return ex;
}
