/* auth.c - the authentication decision: SASL GSSAPI (RFC 4752 on GSS-API, through
 * server/authd/gss_accept.c) against the keytab, then principal -> local user
 * through usermap; USER/PASS checked against the KDC and our keytab. */
#include "config.h"
#include "server/authd/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gssapi/gssapi.h>
#include <krb5.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authd/gss_accept.h"
#include "server/usermap.h"

struct kp_auth {
	const struct kp_conf *conf;
	struct kp_gss_accept *gss;  /* NULL between exchanges */
	char local[128], remote[128];
	char principal[KP_NAME_MAX];
	char user[KP_NAME_MAX];
	char error[1024];
	int done;
	int tls;                    /* TLS protects the session: no layer on top */
	unsigned ssf, peer_maxbuf;  /* the negotiated security layer */
	struct kp_buf layer_ctx;    /* its exported GSS context (secret) */
};

/* The acceptor credential, acquired at the first AUTH and kept for every later
 * session of this process (for the configuration it was acquired with): a
 * credential over the MEMORY: keytab the auth service loaded once, so a session no
 * longer pays gss_acquire_cred_from and gss_release_cred.  Replay protection is
 * unchanged: the replay cache is consulted for every AP-REQ, whichever credential. */
static struct kp_gss_cred *acceptor;
static const struct kp_conf *acceptor_conf;

static struct kp_gss_cred *
acceptor_cred(const struct kp_conf *c)
{
	if (acceptor != NULL && acceptor_conf != c) {
		kp_gss_cred_free(acceptor);
		acceptor = NULL;
	}
	if (acceptor == NULL && kp_gss_cred_new(c, &acceptor) == 0)
		acceptor_conf = c;
	return acceptor;
}

int
kp_auth_global_init(const struct kp_conf *c)
{
	OM_uint32 maj, min;
	gss_OID_set mechs = GSS_C_NO_OID_SET;

	(void)c;
	/* The mechanism list and plugins load once here, not in every session
	 * process; no credential is acquired and no keytab is read. */
	maj = gss_indicate_mechs(&min, &mechs);
	if (GSS_ERROR(maj)) {
		kp_log(KP_LOG_ERR, "GSS-API: no mechanisms available");
		return KP_E_CONFIG;
	}
	gss_release_oid_set(&min, &mechs);
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
	kp_buf_init(&a->layer_ctx, KP_IPC_GSSCTX_MAX, 1);
	snprintf(a->local, sizeof(a->local), "%s", local != NULL ? local : "");
	snprintf(a->remote, sizeof(a->remote), "%s", remote != NULL ? remote : "");
	*auth_out = a;
	return 0;
}

void
kp_auth_reset(struct kp_auth *a)
{
	kp_gss_accept_free(a->gss);
	a->gss = NULL;
	a->done = 0;
	a->principal[0] = a->user[0] = '\0';
	a->ssf = a->peer_maxbuf = 0;
	kp_buf_free(&a->layer_ctx);
}

void
kp_auth_free(struct kp_auth *a)
{
	if (a == NULL)
		return;
	kp_auth_reset(a);
	free(a);
}

const char *
kp_auth_mechs(const struct kp_auth *a)
{
	(void)a;
	return "GSSAPI";
}

/* Is authz the name libsasl2 reported as the authenticated identity: principal
 * without its realm, when that realm is the default realm? */
static int
is_bare_principal(const char *authz, const char *principal)
{
	const char *at = strchr(principal, '@');
	krb5_context ctx;
	char *realm = NULL;
	int same = 0;

	if (at == NULL || strlen(authz) != (size_t)(at - principal) ||
	    memcmp(authz, principal, (size_t)(at - principal)) != 0)
		return 0;
	if (krb5_init_context(&ctx) != 0)
		return 0;
	if (krb5_get_default_realm(ctx, &realm) == 0) {
		same = strcmp(at + 1, realm) == 0;
		krb5_free_default_realm(ctx, realm);
	}
	krb5_free_context(ctx);
	return same;
}

int
kp_auth_authzid_ok(const char *authz, const char *principal, const char *user)
{
	return authz[0] == '\0' || strcmp(authz, principal) == 0 || strcmp(authz, user) == 0 ||
	       is_bare_principal(authz, principal);
}

/* Authorization, the rules of the SASL proxy policy kpopd used with libsasl2: the
 * authenticated principal must map to a local user; an authzid, if the client sent
 * one, must name that same user, or the principal (with or, in the default realm,
 * without its realm).  Older clients end the authzid with a NUL: exactly one is
 * tolerated (kp_ssf_answer_parse already removed it and refused any other; checked
 * again here, where the identity is decided).  Sets a->user and a->principal, or
 * a->error. */
static int
authorize(struct kp_auth *a, const char *principal, const char *authzid, size_t rlen)
{
	char authz[KP_NAME_MAX], why[512];

	if (authzid == NULL)
		rlen = 0;
	if (principal == NULL || principal[0] == '\0' || strlen(principal) >= KP_NAME_MAX ||
	    rlen >= sizeof(authz)) {
		snprintf(a->error, sizeof(a->error), "identity of bad length");
		return KP_E_AUTH;
	}
	if (rlen > 0 && authzid[rlen - 1] == '\0')
		rlen--;
	memcpy(authz, authzid != NULL ? authzid : "", rlen);
	authz[rlen] = '\0';
	if (memchr(authz, '\0', rlen) != NULL) {
		snprintf(a->error, sizeof(a->error), "NUL inside an identity");
		return KP_E_AUTH;
	}
	if (kp_usermap_map(a->conf, principal, a->user, sizeof(a->user), why, sizeof(why)) != 0) {
		snprintf(a->error, sizeof(a->error), "principal %s not authorized: %s", principal,
			 why);
		return KP_E_AUTH;
	}
	if (!kp_auth_authzid_ok(authz, principal, a->user)) {
		char esc[KP_NAME_MAX * 4];

		kp_log_escape(authz, rlen, esc, sizeof(esc));
		snprintf(a->error, sizeof(a->error), "principal %s may not act as \"%s\"",
			 principal, esc);
		a->user[0] = '\0';
		return KP_E_AUTH;
	}
	snprintf(a->principal, sizeof(a->principal), "%s", principal);
	return 0;
}

int
kp_auth_step(struct kp_auth *a, const char *mech, const void *in, size_t inlen, int has_in,
	     const void **out, size_t *outlen)
{
	enum kp_gss_step step;
	const char *authzid;
	size_t authzlen;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (strcasecmp(mech, "GSSAPI") != 0) {
		snprintf(a->error, sizeof(a->error), "unsupported mechanism");
		return KP_E_SYNTAX;
	}
	if (inlen > KP_AUTH_TOKEN_MAX)
		return KP_E_AUTH;
	if (a->gss == NULL) {
		struct kp_gss_cred *cred;

		a->error[0] = '\0';
		a->principal[0] = a->user[0] = '\0';
		if ((cred = acceptor_cred(a->conf)) == NULL) {
			snprintf(a->error, sizeof(a->error), "no acceptor credential (see above)");
			return KP_E_AUTH;
		}
		if ((rc = kp_gss_accept_new(a->conf, cred, a->tls, &a->gss)) != 0)
			return KP_E_AUTH;
	}
	rc = kp_gss_accept_step(a->gss, in, inlen, has_in, out, outlen, &step);
	if (rc != 0) {
		snprintf(a->error, sizeof(a->error), "%s", kp_gss_accept_error(a->gss));
		return KP_E_AUTH;
	}
	if (step == KP_GSS_CONTINUE)
		return KP_AUTH_CONTINUE;
	authzid = kp_gss_accept_authzid(a->gss, &authzlen);
	if (authorize(a, kp_gss_accept_principal(a->gss), authzid, authzlen) != 0)
		return KP_E_AUTH;
	a->ssf = kp_gss_accept_ssf(a->gss);
	a->peer_maxbuf = kp_gss_accept_peer_maxbuf(a->gss);
	/* The layer's context leaves the exchange now, as it will leave the auth
	 * service in the verdict. */
	if (a->ssf > 0 && kp_gss_accept_export(a->gss, &a->layer_ctx) != 0) {
		snprintf(a->error, sizeof(a->error), "cannot export the GSS context for the "
			 "security layer (see above)");
		a->principal[0] = a->user[0] = '\0';
		return KP_E_AUTH;
	}
	a->done = 1;
	return 0;
}

int
kp_auth_awaits_empty(const struct kp_auth *a)
{
	return a->gss != NULL && !a->done && kp_gss_accept_awaits_empty(a->gss);
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
kp_auth_layer(const struct kp_auth *a, struct kp_auth_layer *out)
{
	memset(out, 0, sizeof(*out));
	if (!a->done)
		return KP_E_LAYER;
	out->ssf = a->ssf;
	out->peer_maxbuf = a->peer_maxbuf;
	if (a->ssf > 0) {
		out->ctx = a->layer_ctx.data;
		out->ctxlen = a->layer_ctx.len;
	}
	return 0;
}

void
kp_auth_layer_clear(struct kp_auth *a)
{
	kp_buf_free(&a->layer_ctx);
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
