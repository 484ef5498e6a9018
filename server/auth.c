/* auth.c - the authentication decision: SASL GSSAPI (libsasl2) against the keytab,
 * then principal -> local user through usermap. */
#include "config.h"
#include "server/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl/sasl.h>
#include <krb5.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "kp_saslio.h"
#include "server/usermap.h"

/* libsasl2 stores every callback as int (*)(void); the detour through void (*)(void)
 * says the cast is deliberate (-Wcast-function-type). */
#define SASL_CB_FN(f) ((int (*)(void))(void (*)(void))(f))

struct kp_auth {
	const struct kp_conf *conf;
	sasl_conn_t *conn;       /* NULL between exchanges */
	sasl_callback_t *cbs_owned; /* the connection's callbacks, freed with it */
	gss_cred_id_t cred;      /* acceptor credential for any service key */
	char local[128], remote[128];
	char principal[KP_NAME_MAX];
	char user[KP_NAME_MAX];
	char error[768];
	int done;
	int tls;                 /* TLS protects the session: no layer on top */
	struct kp_saslio *layer; /* the negotiated security layer, if any */
};

static const struct kp_conf *global_conf;

static int
sasl_log_cb(void *ctx, int level, const char *message)
{
	size_t n;

	(void)ctx;
	if (message == NULL)
		return SASL_OK;
	n = strcspn(message, "\r\n");
	/* libsasl2 reports steps that did not finish the exchange as "server step
	 * failed: 2/3", on every successful login too: noise that misleads whoever
	 * reads the log; real failures are logged by the session with the GSS
	 * detail. */
	if (strstr(message, "step failed") != NULL)
		return SASL_OK;
	kp_log(level <= SASL_LOG_ERR ? KP_LOG_WARN : KP_LOG_DEBUG, "sasl: %.*s", (int)n, message);
	return SASL_OK;
}

static int
sasl_getopt_cb(void *ctx, const char *plugin, const char *option, const char **result,
	       unsigned *len)
{
	(void)ctx;
	(void)plugin;
	if (strcmp(option, "mech_list") == 0) {
		*result = "GSSAPI";
	} else if (strcmp(option, "log_level") == 0) {
		*result = kp_log_level() >= KP_LOG_DEBUG ? "5" : "1";
	} else if (strcmp(option, "keytab") == 0 && global_conf != NULL &&
		   global_conf->keytab != NULL) {
		*result = global_conf->keytab;
	} else {
		return SASL_FAIL;
	}
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
default_realm_append(char *principal, size_t cap)
{
	krb5_context ctx;
	char *realm = NULL;
	size_t n = strlen(principal);
	int rc = -1;

	if (krb5_init_context(&ctx) != 0)
		return -1;
	if (krb5_get_default_realm(ctx, &realm) == 0) {
		if (n + 1 + strlen(realm) < cap) {
			principal[n] = '@';
			memcpy(principal + n + 1, realm, strlen(realm) + 1);
			rc = 0;
		}
		krb5_free_default_realm(ctx, realm);
	}
	krb5_free_context(ctx);
	return rc;
}

/* Authorization: the authenticated principal must map to a local user; an authzid,
 * if the client sent one, must name that same user (or the principal itself). */
static int
sasl_proxy_cb(sasl_conn_t *conn, void *ctx, const char *requested_user, unsigned rlen,
	      const char *auth_identity, unsigned alen, const char *def_realm, unsigned urlen,
	      struct propctx *propctx)
{
	struct kp_auth *a = ctx;
	char principal[KP_NAME_MAX], authz[KP_NAME_MAX], why[512];

	(void)def_realm;
	(void)urlen;
	(void)propctx;
	if (alen == 0 || alen >= sizeof(principal) || rlen >= sizeof(authz)) {
		snprintf(a->error, sizeof(a->error), "identity of bad length");
		sasl_seterror(conn, 0, "identity of bad length");
		return SASL_BADAUTH;
	}
	memcpy(principal, auth_identity, alen);
	principal[alen] = '\0';
	/* Older clients end the authzid with a NUL: tolerate exactly one. */
	if (rlen > 0 && requested_user[rlen - 1] == '\0')
		rlen--;
	memcpy(authz, requested_user, rlen);
	authz[rlen] = '\0';
	if (memchr(principal, '\0', alen) != NULL || memchr(authz, '\0', rlen) != NULL) {
		snprintf(a->error, sizeof(a->error), "NUL inside an identity");
		return SASL_BADAUTH;
	}
	/* libsasl2's GSSAPI plugin drops the realm exactly when it is the default
	 * realm (it compares the name with its realm-less import): put it back, so
	 * that usermap sees the real principal and checks its realm. */
	if (strchr(principal, '@') == NULL &&
	    default_realm_append(principal, sizeof(principal)) != 0) {
		snprintf(a->error, sizeof(a->error), "cannot determine the default realm");
		return SASL_BADAUTH;
	}
	if (kp_usermap_map(a->conf, principal, a->user, sizeof(a->user), why, sizeof(why)) != 0) {
		snprintf(a->error, sizeof(a->error), "principal %s not authorized: %s", principal,
			 why);
		sasl_seterror(conn, 0, "not authorized");
		return SASL_NOAUTHZ;
	}
	/* No authzid: libsasl2 passes the authenticated name itself (as the plugin
	 * wrote it, realm stripped when default) as the requested user. */
	if (rlen == alen && memcmp(requested_user, auth_identity, alen) == 0)
		rlen = 0;
	if (rlen != 0 && strcmp(authz, principal) != 0 && strcmp(authz, a->user) != 0) {
		char esc[KP_NAME_MAX * 4];

		kp_log_escape(authz, rlen, esc, sizeof(esc));
		snprintf(a->error, sizeof(a->error), "principal %s may not act as \"%s\"", principal,
			 esc);
		a->user[0] = '\0';
		return SASL_NOAUTHZ;
	}
	snprintf(a->principal, sizeof(a->principal), "%s", principal);
	return SASL_OK;
}

int
kp_auth_global_init(const struct kp_conf *c)
{
	static sasl_callback_t cbs[] = {
		{ SASL_CB_LOG, SASL_CB_FN(sasl_log_cb), NULL },
		{ SASL_CB_GETOPT, SASL_CB_FN(sasl_getopt_cb), NULL },
		{ SASL_CB_LIST_END, NULL, NULL }
	};
	int r;

	global_conf = c;
	r = sasl_server_init(cbs, "kpopd");
	if (r != SASL_OK) {
		kp_log(KP_LOG_ERR, "sasl_server_init: %s", sasl_errstring(r, NULL, NULL));
		return KP_E_CONFIG;
	}
	return 0;
}

/* An acceptor credential for every key of our service in the keytab: a host-based
 * name with no host part ("pop") matches pop/ANYHOST (MIT krb5 >= 1.10), unless one
 * principal is pinned by server_principal. */
static int
acquire_cred(struct kp_auth *a)
{
	OM_uint32 maj, min;
	gss_buffer_desc nb;
	gss_name_t name = GSS_C_NO_NAME;
	gss_key_value_element_desc el;
	gss_key_value_set_desc store;
	gss_OID_set_desc mechs = { 1, (gss_OID)gss_mech_krb5 };
	char text[512];

	if (a->conf->server_principal != NULL) {
		nb.value = a->conf->server_principal;
		nb.length = strlen(a->conf->server_principal);
		maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
	} else {
		nb.value = a->conf->service;
		nb.length = strlen(a->conf->service);
		maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &name);
	}
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "gss_import_name: %s", text);
		return KP_E_CONFIG;
	}
	el.key = "keytab";
	el.value = a->conf->keytab;
	store.count = a->conf->keytab != NULL ? 1 : 0;
	store.elements = &el;
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT,
				    &store, &a->cred, NULL, NULL);
	gss_release_name(&min, &name);
	if (GSS_ERROR(maj)) {
		OM_uint32 min2;

		kp_gss_status_text(maj, min, text, sizeof(text));
		kp_log(KP_LOG_ERR, "cannot use the keytab %s for service %s: %s",
		       a->conf->keytab != NULL ? a->conf->keytab : "(default)",
		       a->conf->service, text);
		(void)min2;
		a->cred = GSS_C_NO_CREDENTIAL;
		return KP_E_CONFIG;
	}
	return 0;
}

int
kp_auth_new(const struct kp_conf *c, const char *local, const char *remote,
	    struct kp_auth **auth_out)
{
	struct kp_auth *a;

	*auth_out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return KP_E_NOMEM;
	a->conf = c;
	a->cred = GSS_C_NO_CREDENTIAL;
	snprintf(a->local, sizeof(a->local), "%s", local != NULL ? local : "");
	snprintf(a->remote, sizeof(a->remote), "%s", remote != NULL ? remote : "");
	*auth_out = a;
	return 0;
}

static int
start_conn(struct kp_auth *a)
{
	sasl_security_properties_t props;
	sasl_callback_t *cbs;
	int r;

	if (a->cred == GSS_C_NO_CREDENTIAL && acquire_cred(a) != 0) {
		snprintf(a->error, sizeof(a->error), "no acceptor credential (see above)");
		return KP_E_AUTH;
	}
	cbs = calloc(2, sizeof(*cbs));
	if (cbs == NULL)
		return KP_E_NOMEM;
	cbs[0].id = SASL_CB_PROXY_POLICY;
	cbs[0].proc = SASL_CB_FN(sasl_proxy_cb);
	cbs[0].context = a;
	cbs[1].id = SASL_CB_LIST_END;
	r = sasl_server_new("pop", a->conf->hostname, NULL, a->local[0] ? a->local : NULL,
			    a->remote[0] ? a->remote : NULL, cbs, 0, &a->conn);
	if (r != SASL_OK) {
		free(cbs);
		snprintf(a->error, sizeof(a->error), "sasl_server_new: %s",
			 sasl_errstring(r, NULL, NULL));
		return KP_E_AUTH;
	}
	/* libsasl2 keeps the callback array: free it with the connection. */
	a->cbs_owned = cbs;
	memset(&props, 0, sizeof(props));
	/* Security layers as configured; none on top of TLS unless asked for. */
	{
		int none = a->tls && !a->conf->sasl_layers_over_tls;

		props.min_ssf = none ? 0 : (sasl_ssf_t)a->conf->sasl_min_ssf;
		props.max_ssf = none ? 0 : (sasl_ssf_t)a->conf->sasl_max_ssf;
	}
	props.maxbufsize = props.max_ssf > 0 ? KP_SASL_MAXBUF : 0;
	props.security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
	sasl_setprop(a->conn, SASL_SEC_PROPS, &props);
	sasl_setprop(a->conn, SASL_GSS_CREDS, a->cred);
	/* Never SASL_CHANNEL_BINDING with GSSAPI: libsasl2 2.1.28 breaks clients. */
	return 0;
}

void
kp_auth_reset(struct kp_auth *a)
{
	if (a->conn != NULL)
		sasl_dispose(&a->conn);
	a->conn = NULL;
	free(a->cbs_owned);
	a->cbs_owned = NULL;
	a->done = 0;
	a->principal[0] = a->user[0] = '\0';
}

void
kp_auth_free(struct kp_auth *a)
{
	OM_uint32 min;

	if (a == NULL)
		return;
	kp_auth_reset(a);
	kp_saslio_free(a->layer);
	if (a->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &a->cred);
	free(a);
}

const char *
kp_auth_mechs(const struct kp_auth *a)
{
	(void)a;
	return "GSSAPI";
}

int
kp_auth_step(struct kp_auth *a, const char *mech, const void *in, size_t inlen, int has_in,
	     const void **out, size_t *outlen)
{
	const char *sout = NULL;
	unsigned soutlen = 0;
	int r, rc, first = 0;

	*out = NULL;
	*outlen = 0;
	if (inlen > KP_AUTH_TOKEN_MAX)
		return KP_E_AUTH;
	if (a->conn == NULL) {
		a->error[0] = '\0';
		a->principal[0] = a->user[0] = '\0';
		if ((rc = start_conn(a)) != 0)
			return rc;
		first = 1;
	}
	if (first)
		r = sasl_server_start(a->conn, mech, has_in ? (in != NULL ? in : "") : NULL,
				      (unsigned)inlen, &sout, &soutlen);
	else
		r = sasl_server_step(a->conn, in != NULL ? in : "", (unsigned)inlen, &sout,
				     &soutlen);
	if (r == SASL_CONTINUE) {
		*out = sout;
		*outlen = soutlen;
		return KP_AUTH_CONTINUE;
	}
	if (r == SASL_NOMECH) {
		snprintf(a->error, sizeof(a->error), "unsupported mechanism");
		return KP_E_SYNTAX;
	}
	if (r != SASL_OK || a->principal[0] == '\0' || a->user[0] == '\0') {
		if (a->error[0] == '\0') {
			const char *d = sasl_errdetail(a->conn);
			enum kp_krb_why why = kp_krb5_classify_text(d);
			const char *hint = kp_krb_why_text(why);

			snprintf(a->error, sizeof(a->error), "%s%s%s", d != NULL ? d : "unknown",
				 hint != NULL ? " -- " : "", hint != NULL ? hint : "");
		}
		return KP_E_AUTH;
	}
	a->done = 1;
	*out = sout;
	*outlen = soutlen;
	return 0;
}

const char *
kp_auth_principal(const struct kp_auth *a)
{
	return a->done ? a->principal : NULL;
}

const char *
kp_auth_user(const struct kp_auth *a)
{
	return a->done ? a->user : NULL;
}

const char *
kp_auth_error(const struct kp_auth *a)
{
	return a->error[0] != '\0' ? a->error : "unknown error";
}

void
kp_auth_set_tls(struct kp_auth *a, int on)
{
	a->tls = on;
}

int
kp_auth_start_layer(struct kp_auth *a, struct kp_io *io, unsigned *ssf_out)
{
	const void *p = NULL;
	unsigned ssf = 0;

	*ssf_out = 0;
	if (a->conn == NULL || !a->done)
		return KP_E_LAYER;
	if (sasl_getprop(a->conn, SASL_SSF, &p) == SASL_OK && p != NULL)
		ssf = *(const unsigned *)p;
	if (ssf == 0)
		return 0;
	if (kp_saslio_start(io, a->conn, &a->layer) != 0)
		return KP_E_LAYER;
	*ssf_out = ssf;
	return 0;
}

/* A principal of our service in the keytab (the pinned one if configured), for
 * verifying initial credentials against a key only we hold. */
static krb5_error_code
our_service_principal(krb5_context ctx, const struct kp_conf *c, krb5_keytab kt,
		      krb5_principal *out)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_error_code kret;

	*out = NULL;
	if (c->server_principal != NULL)
		return krb5_parse_name(ctx, c->server_principal, out);
	if ((kret = krb5_kt_start_seq_get(ctx, kt, &cur)) != 0)
		return kret;
	while ((kret = krb5_kt_next_entry(ctx, kt, &e, &cur)) == 0) {
		const krb5_data *svc = krb5_princ_component(ctx, e.principal, 0);

		if (krb5_princ_size(ctx, e.principal) == 2 && svc->length == strlen(c->service) &&
		    memcmp(svc->data, c->service, svc->length) == 0)
			kret = krb5_copy_principal(ctx, e.principal, out);
		krb5_free_keytab_entry_contents(ctx, &e);
		if (*out != NULL || kret != 0)
			break;
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
	if (*out == NULL)
		return kret != 0 && kret != KRB5_KT_END ? kret : KRB5_KT_NOTFOUND;
	return 0;
}

int
kp_auth_password(const struct kp_conf *c, const char *user, const char *password,
		 char *principal_out, size_t pcap, char *user_out, size_t ucap, char *why,
		 size_t whycap)
{
	krb5_context ctx = NULL;
	krb5_principal princ = NULL, server = NULL;
	krb5_creds creds;
	krb5_keytab kt = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_verify_init_creds_opt vopt;
	krb5_error_code kret;
	char *name = NULL;
	int rc = KP_E_AUTH, have_creds = 0;

	memset(&creds, 0, sizeof(creds));
	principal_out[0] = user_out[0] = why[0] = '\0';
	if (!kp_usermap_valid_user(user)) {
		snprintf(why, whycap, "invalid user name");
		return KP_E_AUTH;
	}
	if ((kret = krb5_init_context(&ctx)) != 0) {
		snprintf(why, whycap, "krb5_init_context: %ld", (long)kret);
		return KP_E_AUTH;
	}
	/* the user name in the default realm: never a principal the client chose */
	if ((kret = krb5_parse_name_flags(ctx, user, KRB5_PRINCIPAL_PARSE_NO_REALM, &princ)) != 0)
		goto krb_fail;
	{
		char *realm = NULL;

		if ((kret = krb5_get_default_realm(ctx, &realm)) != 0)
			goto krb_fail;
		kret = krb5_set_principal_realm(ctx, princ, realm);
		krb5_free_default_realm(ctx, realm);
		if (kret != 0)
			goto krb_fail;
	}
	if ((kret = krb5_get_init_creds_opt_alloc(ctx, &opt)) != 0)
		goto krb_fail;
	kret = krb5_get_init_creds_password(ctx, &creds, princ, password, NULL, NULL, 0, NULL, opt);
	if (kret != 0)
		goto krb_fail;
	have_creds = 1;
	kret = c->keytab != NULL ? krb5_kt_resolve(ctx, c->keytab, &kt) : krb5_kt_default(ctx, &kt);
	if (kret != 0)
		goto krb_fail;
	/* the KDC's answer must also open a ticket for one of our own keys */
	krb5_verify_init_creds_opt_init(&vopt);
	krb5_verify_init_creds_opt_set_ap_req_nofail(&vopt, 1);
	if ((kret = our_service_principal(ctx, c, kt, &server)) != 0)
		goto krb_fail;
	if ((kret = krb5_verify_init_creds(ctx, &creds, server, kt, NULL, &vopt)) != 0)
		goto krb_fail;
	if ((kret = krb5_unparse_name(ctx, princ, &name)) != 0)
		goto krb_fail;
	if (kp_usermap_map(c, name, user_out, ucap, why, whycap) != 0)
		goto cleanup;
	snprintf(principal_out, pcap, "%s", name);
	rc = 0;
	goto cleanup;
krb_fail:
	{
		const char *m = krb5_get_error_message(ctx, kret);

		snprintf(why, whycap, "password check for %s: %s", user, m);
		krb5_free_error_message(ctx, m);
	}
cleanup:
	if (name != NULL)
		krb5_free_unparsed_name(ctx, name);
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (opt != NULL)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	if (princ != NULL)
		krb5_free_principal(ctx, princ);
	if (server != NULL)
		krb5_free_principal(ctx, server);
	krb5_free_context(ctx);
	return rc;
}
