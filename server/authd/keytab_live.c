/* keytab_live.c - kpopd -t -k: a live Kerberos round trip with the KDC using only the
 * keytab, ending in kpopd's own GSSAPI acceptor. */
#include "config.h"
#include "server/authd/keytab_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krb5.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "server/authd/gss_accept.h"

/* One principal of the service in the keytab and the keys it has there. */
struct keyset {
	krb5_principal princ;
	char name[KP_NAME_MAX];
	int n;
	krb5_kvno kvno[KP_SELFCHECK_KEYS_MAX];
	krb5_enctype etype[KP_SELFCHECK_KEYS_MAX];
};

static void
etype_name(krb5_enctype e, char *out, size_t cap)
{
	if (krb5_enctype_to_name(e, 0, out, cap) != 0)
		snprintf(out, cap, "enctype %d", (int)e);
}

/* "kvno 3 aes256-cts-hmac-sha1-96, kvno 3 aes128-cts-hmac-sha1-96" */
static void
keys_text(const struct keyset *k, char *out, size_t cap)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < k->n && o < cap; i++) {
		char en[64];

		etype_name(k->etype[i], en, sizeof(en));
		o += (size_t)snprintf(out + o, cap - o, "%skvno %u %s", i ? ", " : "",
				      (unsigned)k->kvno[i], en);
	}
}

/* The principals to check: every two-component principal of c->service in the
 * keytab, or only c->server_principal when pinned.  Returns how many (at most
 * KP_SELFCHECK_PRINCIPALS_MAX), or -1 if the keytab cannot be read. */
static int
collect(krb5_context ctx, krb5_keytab kt, const struct kp_conf *c, struct keyset *ks)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	int n = 0, i;

	if (krb5_kt_start_seq_get(ctx, kt, &cur) != 0)
		return -1;
	while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
		const krb5_data *svc = krb5_princ_component(ctx, e.principal, 0);
		char *pname = NULL;
		int want;

		if (krb5_unparse_name(ctx, e.principal, &pname) != 0)
			pname = NULL;
		if (c->server_principal != NULL)
			want = pname != NULL && strcmp(pname, c->server_principal) == 0;
		else
			want = svc != NULL && krb5_princ_size(ctx, e.principal) == 2 &&
			       svc->length == strlen(c->service) &&
			       memcmp(svc->data, c->service, svc->length) == 0;
		for (i = 0; want && pname != NULL && i < n; i++)
			if (strcmp(ks[i].name, pname) == 0)
				break;
		if (want && pname != NULL && strlen(pname) < sizeof(ks[0].name)) {
			if (i == n && n < KP_SELFCHECK_PRINCIPALS_MAX &&
			    krb5_copy_principal(ctx, e.principal, &ks[n].princ) == 0) {
				memcpy(ks[n].name, pname, strlen(pname) + 1);
				ks[n++].n = 0;
			}
			if (i < n && ks[i].n < KP_SELFCHECK_KEYS_MAX) {
				ks[i].kvno[ks[i].n] = e.vno;
				ks[i].etype[ks[i].n++] = e.key.enctype;
			}
		}
		krb5_free_unparsed_name(ctx, pname);
		krb5_free_keytab_entry_contents(ctx, &e);
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
	return n;
}

/* The fix for a failed AS exchange with the keytab's key. */
static const char *
as_fix(krb5_error_code code)
{
	switch (code) {
	case KRB5KDC_ERR_PREAUTH_FAILED:
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KRB_AP_ERR_MODIFIED:
		return "the KDC's key is not the keytab's: the keytab is out of date (the key "
		       "changed after it was exported).  Export it again: kadmin.local ktadd "
		       "-norandkey -k KEYTAB PRINCIPAL (plain kadmin ktadd makes a new key, which "
		       "clients holding tickets for the old one will fail on until they renew)";
	case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
	case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return "the KDC does not know this principal: kadmin addprinc -randkey PRINCIPAL, "
		       "then ktadd -k KEYTAB PRINCIPAL";
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
		return "no KDC of the realm answered: check kdc in krb5.conf [realms] (or DNS SRV "
		       "records) and that port 88 is reachable";
	case KRB5KRB_AP_ERR_SKEW:
		return "this host's clock is too far from the KDC's: run NTP (chrony)";
	case KRB5KDC_ERR_ETYPE_NOSUPP:
	case KRB5_PROG_ETYPE_NOSUPP:
	case KRB5_KT_NOTFOUND:
		return "the keytab has no key of an enctype the KDC allows for it: export keys "
		       "of the KDC's enctypes (kadmin getprinc PRINCIPAL lists them)";
	case KRB5KDC_ERR_POLICY:
	case KRB5KDC_ERR_CLIENT_REVOKED:
		return "the KDC refuses this principal tickets (disabled, locked or "
		       "+disallow_all_tix): kadmin modprinc PRINCIPAL";
	default:
		return "see the Kerberos message; KRB5_TRACE=/dev/stderr kpopd -t -k shows the "
		       "exchange";
	}
}

/* A failure's text (the acceptor's, which carries only the GSS message texts)
 * as the code whose fix applies; 0 if not recognised. */
static krb5_error_code
code_of_text(const char *text)
{
	switch (kp_krb5_classify_text(text)) {
	case KP_KRB_SKEW:
		return KRB5KRB_AP_ERR_SKEW;
	case KP_KRB_WRONG_KEY:
		return KRB5KRB_AP_ERR_BAD_INTEGRITY;
	case KP_KRB_NO_KDC:
		return KRB5_KDC_UNREACH;
	case KP_KRB_NO_SERVICE:
		return KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN;
	default:
		return 0;
	}
}

/* Once the keytab's key is refused: what kvno the KDC issues tickets with, asked
 * with the caller's own credentials cache (an admin who ran kinit).  0 or -1. */
static int
kdc_kvno(krb5_context ctx, krb5_principal princ, krb5_kvno *kvno_out,
	 krb5_enctype *etype_out)
{
	krb5_ccache cc = NULL;
	krb5_creds in, *out = NULL;
	krb5_ticket *tkt = NULL;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	if (krb5_cc_default(ctx, &cc) != 0 || krb5_cc_get_principal(ctx, cc, &in.client) != 0)
		goto cleanup;
	in.server = princ;
	if (krb5_get_credentials(ctx, 0, cc, &in, &out) == 0 &&
	    krb5_decode_ticket(&out->ticket, &tkt) == 0) {
		*kvno_out = tkt->enc_part.kvno;
		*etype_out = tkt->enc_part.enctype;
		rc = 0;
	}
cleanup:
	in.server = NULL;
	if (in.client != NULL)
		krb5_free_principal(ctx, in.client);
	if (tkt != NULL)
		krb5_free_ticket(ctx, tkt);
	if (out != NULL)
		krb5_free_creds(ctx, out);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	return rc;
}

/* The initiator's half of RFC 4752 against kpopd's acceptor, in this process: the
 * context with mutual authentication, then the acceptor's wrapped layer offer
 * answered with "no layer".  0, or a problem described in why. */
static int
accept_round_trip(const struct kp_conf *c, struct kp_gss_cred *acred, krb5_ccache cc,
		  const char *pname, char *why, size_t cap)
{
	OM_uint32 maj, min, flags = 0;
	gss_cred_id_t icred = GSS_C_NO_CREDENTIAL;
	gss_ctx_id_t ictx = GSS_C_NO_CONTEXT;
	gss_name_t target = GSS_C_NO_NAME;
	gss_buffer_desc nb, in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	struct kp_gss_accept *g = NULL;
	enum kp_gss_step step = KP_GSS_CONTINUE;
	const void *chal = NULL;
	size_t chal_len = 0;
	int rc = KP_E_AUTH, round, established = 0;
	char text[512];

	nb.value = (void *)pname;
	nb.length = strlen(pname);
	maj = gss_krb5_import_cred(&min, cc, NULL, NULL, &icred);
	if (!GSS_ERROR(maj))
		maj = gss_import_name(&min, &nb, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &target);
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, sizeof(text));
		snprintf(why, cap, "the initiator side could not start: %s", text);
		goto cleanup;
	}
	if (kp_gss_accept_new(c, acred, 0, &g) != 0) {
		snprintf(why, cap, "out of memory");
		goto cleanup;
	}
	for (round = 0; round < 8 && step != KP_GSS_DONE; round++) {
		if (!established) {
			in.value = (void *)chal;
			in.length = chal_len;
			maj = gss_init_sec_context(&min, icred, &ictx, target, (gss_OID)gss_mech_krb5,
						   GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG, 0,
						   GSS_C_NO_CHANNEL_BINDINGS,
						   round == 0 ? GSS_C_NO_BUFFER : &in, NULL, &out,
						   &flags, NULL);
			if (GSS_ERROR(maj)) {
				kp_gss_status_text(maj, min, text, sizeof(text));
				snprintf(why, cap, "%s (the acceptor's answer, e.g. its AP-REP, "
					 "was refused)", text);
				goto cleanup;
			}
			established = maj == GSS_S_COMPLETE;
		} else {
			/* the layer offer: 4 bytes; answer "no layer, no buffer" */
			static unsigned char answer[4] = { KP_GSS_LAYER_NONE, 0, 0, 0 };
			gss_buffer_desc plain = GSS_C_EMPTY_BUFFER, ans = { 4, answer };
			int conf = 0;

			in.value = (void *)chal;
			in.length = chal_len;
			maj = gss_unwrap(&min, ictx, &in, &plain, &conf, NULL);
			if (GSS_ERROR(maj) || plain.length != 4 ||
			    !(((unsigned char *)plain.value)[0] & KP_GSS_LAYER_NONE)) {
				gss_release_buffer(&min, &plain);
				snprintf(why, cap, "the acceptor's security-layer offer was not "
					 "readable or offered no \"no layer\" (sasl_min_ssf?)");
				goto cleanup;
			}
			gss_release_buffer(&min, &plain);
			maj = gss_wrap(&min, ictx, 0, GSS_C_QOP_DEFAULT, &ans, &conf, &out);
			if (GSS_ERROR(maj)) {
				kp_gss_status_text(maj, min, text, sizeof(text));
				snprintf(why, cap, "gss_wrap: %s", text);
				goto cleanup;
			}
		}
		if (kp_gss_accept_step(g, out.value, out.length, 1, &chal, &chal_len, &step) != 0) {
			snprintf(why, cap, "kpopd's acceptor refused the ticket: %s",
				 kp_gss_accept_error(g));
			goto cleanup;
		}
		gss_release_buffer(&min, &out);
	}
	if (step != KP_GSS_DONE) {
		snprintf(why, cap, "the exchange did not finish in %d rounds", round);
		goto cleanup;
	}
	if (!(flags & GSS_C_MUTUAL_FLAG)) {
		snprintf(why, cap, "no mutual authentication");
		goto cleanup;
	}
	if (strcmp(kp_gss_accept_principal(g), pname) != 0) {
		snprintf(why, cap, "the acceptor saw %s, not %s", kp_gss_accept_principal(g), pname);
		goto cleanup;
	}
	rc = 0;
cleanup:
	gss_release_buffer(&min, &out);
	if (ictx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ictx, GSS_C_NO_BUFFER);
	if (target != GSS_C_NO_NAME)
		gss_release_name(&min, &target);
	if (icred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &icred);
	kp_gss_accept_free(g);
	return rc;
}

/* One principal: initial credentials from its keytab key, a service ticket to
 * itself, that ticket's key in the keytab, then kpopd's acceptor.  0 or 1. */
static int
check_one(krb5_context ctx, krb5_keytab kt, const struct kp_conf *c,
	  struct kp_gss_cred *acred, const struct keyset *k, int verbose)
{
	krb5_get_init_creds_opt *opt = NULL;
	krb5_ccache cc = NULL;
	krb5_creds tgt, in, *svc = NULL;
	krb5_ticket *tkt = NULL;
	krb5_keytab_entry e;
	krb5_error_code kret;
	char msg[2048], keys[1024], en[64], why[1024];
	const char *m;
	int bad = 0, i, have = 0;

	memset(&tgt, 0, sizeof(tgt));
	memset(&in, 0, sizeof(in));
	keys_text(k, keys, sizeof(keys));
	if ((kret = krb5_cc_new_unique(ctx, "MEMORY", NULL, &cc)) != 0 ||
	    (kret = krb5_get_init_creds_opt_alloc(ctx, &opt)) != 0 ||
	    (kret = krb5_get_init_creds_opt_set_out_ccache(ctx, opt, cc)) != 0)
		goto krb_error;
	kret = krb5_get_init_creds_keytab(ctx, &tgt, k->princ, kt, 0, NULL, opt);
	if (kret != 0) {
		krb5_kvno kv;
		krb5_enctype et;

		m = krb5_get_error_message(ctx, kret);
		if (kdc_kvno(ctx, k->princ, &kv, &et) == 0) {
			etype_name(et, en, sizeof(en));
			snprintf(msg, sizeof(msg), "live: %s: the KDC refused initial credentials "
				 "from the keytab's key (%s); the KDC's key is kvno %u %s, the keytab "
				 "has %s", k->name, m, (unsigned)kv, en, keys);
		} else {
			snprintf(msg, sizeof(msg), "live: %s: the KDC refused initial credentials "
				 "from the keytab's key (%s; the keytab has %s)", k->name, m, keys);
		}
		krb5_free_error_message(ctx, m);
		bad = kp_check_problem(msg, as_fix(kret));
		goto cleanup;
	}
	if (verbose) {
		etype_name(tgt.keyblock.enctype, en, sizeof(en));
		printf("live: %s: initial credentials from the keytab (session key %s)\n",
		       k->name, en);
	}
	in.client = k->princ;
	in.server = k->princ;
	if ((kret = krb5_get_credentials(ctx, 0, cc, &in, &svc)) != 0 ||
	    (kret = krb5_decode_ticket(&svc->ticket, &tkt)) != 0) {
		m = krb5_get_error_message(ctx, kret);
		snprintf(msg, sizeof(msg), "live: %s: the KDC gave no service ticket for it: %s",
			 k->name, m);
		krb5_free_error_message(ctx, m);
		bad = kp_check_problem(msg, as_fix(kret));
		goto cleanup;
	}
	etype_name(tkt->enc_part.enctype, en, sizeof(en));
	for (i = 0; i < k->n; i++)
		have |= k->kvno[i] == tkt->enc_part.kvno && k->etype[i] == tkt->enc_part.enctype;
	if (!have && krb5_kt_get_entry(ctx, kt, k->princ, tkt->enc_part.kvno,
				       tkt->enc_part.enctype, &e) == 0) {
		have = 1;
		krb5_free_keytab_entry_contents(ctx, &e);
	}
	if (!have) {
		snprintf(msg, sizeof(msg), "live: %s: the KDC encrypts tickets for it with kvno "
			 "%u %s, which the keytab does not have (it has %s): every client's "
			 "login would fail", k->name, (unsigned)tkt->enc_part.kvno, en, keys);
		bad = kp_check_problem(msg, "export the current key again: kadmin.local ktadd "
				       "-norandkey -k KEYTAB PRINCIPAL (or allow the keytab's "
				       "enctypes for the principal at the KDC)");
		goto cleanup;
	}
	if (accept_round_trip(c, acred, cc, k->name, why, sizeof(why)) != 0) {
		snprintf(msg, sizeof(msg), "live: %s: a service ticket (kvno %u %s) failed in "
			 "kpopd's GSSAPI acceptor: %s", k->name, (unsigned)tkt->enc_part.kvno, en,
			 why);
		bad = kp_check_problem(msg, as_fix(code_of_text(why)));
		goto cleanup;
	}
	printf("live: %s: ok (the KDC's ticket, kvno %u %s, is accepted by kpopd's GSSAPI "
	       "acceptor with mutual authentication)\n", k->name, (unsigned)tkt->enc_part.kvno,
	       en);
	goto cleanup;
krb_error:
	m = krb5_get_error_message(ctx, kret);
	snprintf(msg, sizeof(msg), "live: %s: %s", k->name, m);
	krb5_free_error_message(ctx, m);
	bad = kp_check_problem(msg, "libkrb5 could not start the check");
cleanup:
	if (tkt != NULL)
		krb5_free_ticket(ctx, tkt);
	if (svc != NULL)
		krb5_free_creds(ctx, svc);
	krb5_free_cred_contents(ctx, &tgt);
	if (opt != NULL)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (cc != NULL)
		krb5_cc_destroy(ctx, cc);
	return bad;
}

int
kp_selfcheck_live(const struct kp_conf *c, int verbose)
{
	static struct keyset ks[KP_SELFCHECK_PRINCIPALS_MAX];
	struct kp_gss_cred *acred = NULL;
	krb5_context ctx = NULL;
	krb5_keytab kt = NULL;
	char name[1024], msg[1400];
	int n, i, bad = 0;

	/* The check's own tickets are no replays to remember: nothing is written to
	 * rcache_dir (whose files the auth service's user must own). */
	setenv("KRB5RCACHETYPE", "none", 1);
	setenv("KRB5RCACHENAME", "none:", 1);
	if (krb5_init_context(&ctx) != 0)
		return kp_check_problem("live: libkrb5 cannot start", "check KRB5_CONFIG");
	kp_check_keytab_name(ctx, c, name, sizeof(name));
	if (krb5_kt_resolve(ctx, name, &kt) != 0 || (n = collect(ctx, kt, c, ks)) < 0) {
		snprintf(msg, sizeof(msg), "live: keytab %s cannot be read", name);
		bad = kp_check_problem(msg, "see the checks above");
		goto cleanup;
	}
	if (n == 0) {
		snprintf(msg, sizeof(msg), "live: keytab %s has no %s to check", name,
			 c->server_principal != NULL ? c->server_principal : "service key");
		bad = kp_check_problem(msg, "see the checks above");
		goto cleanup;
	}
	if (kp_gss_cred_new(c, &acred) != 0) {
		bad = kp_check_problem("live: kpopd's GSSAPI acceptor cannot use the keytab (the "
				       "reason is logged above)", "see the checks above");
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		bad += check_one(ctx, kt, c, acred, &ks[i], verbose);
cleanup:
	for (i = 0; i < KP_SELFCHECK_PRINCIPALS_MAX; i++)
		if (ks[i].princ != NULL) {
			krb5_free_principal(ctx, ks[i].princ);
			ks[i].princ = NULL;
		}
	kp_gss_cred_free(acred);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return bad;
}
