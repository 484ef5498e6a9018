/* kpop_verify.c - legacy KPOP's AP-REQ checked with krb5_rd_req against the keytab
 * and the replay cache; the AP-REP or a KRB-ERROR built for the wire half. */
#include "config.h"
#include "server/authd/kpop_verify.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <krb5.h>

#include "kp_err.h"
#include "kp_krb.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authd/ticket_diag.h"

/* A KRB-ERROR for code, as krb5_recvauth sends one. */
static void
make_krb_error(krb5_context ctx, krb5_error_code code, struct kp_buf *out)
{
	krb5_error err;
	krb5_data d = { 0 };
	krb5_principal placeholder = NULL;

	memset(&err, 0, sizeof(err));
	/* an enctype we do not permit has no error number of its own on the wire:
	 * the KDC's "encryption type not supported" says it to the client */
	if (code == KRB5_NOPERM_ETYPE)
		code = KRB5KDC_ERR_ETYPE_NOSUPP;
	err.error = (krb5_ui_4)(code - ERROR_TABLE_BASE_krb5);
	if (err.error > 127)
		err.error = KRB5KRB_ERR_GENERIC - ERROR_TABLE_BASE_krb5;
	if (krb5_us_timeofday(ctx, &err.stime, &err.susec) != 0)
		return;
	if (krb5_parse_name(ctx, "????", &placeholder) != 0)
		return;
	err.server = placeholder;
	if (krb5_mk_error(ctx, &err, &d) == 0) {
		kp_buf_add(out, d.data, d.length);
		krb5_free_data_contents(ctx, &d);
	}
	krb5_free_principal(ctx, placeholder);
}

int
kp_kpop_too_large(size_t len, struct kp_buf *err_out, char *why, size_t whycap)
{
	krb5_context ctx = NULL;

	snprintf(why, whycap, "AP-REQ of %zu octets is over the limit of %d (Active "
		 "Directory's largest MaxTokenSize): refused with KRB_ERR_FIELD_TOOLONG", len,
		 KP_AUTH_TOKEN_MAX);
	if (krb5_init_context(&ctx) != 0)
		return KP_E_AUTH;
	make_krb_error(ctx, KRB5KRB_ERR_FIELD_TOOLONG, err_out);
	krb5_free_context(ctx);
	return KP_E_AUTH;
}

/* The ticket's service must be ours ("pop", or "pop3" when kpop_pop3 is set), or the
 * exact pinned principal. */
static int
service_ok(const struct kp_conf *c, krb5_context ctx, krb5_const_principal server,
	   char *why, size_t cap)
{
	const krb5_data *svc;
	char *name = NULL;
	int ok = 0;

	if (krb5_unparse_name(ctx, server, &name) != 0)
		return 0;
	if (c->server_principal != NULL) {
		ok = strcmp(name, c->server_principal) == 0;
		if (!ok)
			snprintf(why, cap, "the ticket is for %s, not for the pinned "
				 "server_principal %s", name, c->server_principal);
	} else if (krb5_princ_size(ctx, server) == 2) {
		svc = krb5_princ_component(ctx, server, 0);
		ok = (svc->length == strlen(c->service) &&
		      memcmp(svc->data, c->service, svc->length) == 0) ||
		     (c->kpop_pop3 && svc->length == 4 && memcmp(svc->data, "pop3", 4) == 0);
	}
	if (!ok && why[0] == '\0')
		snprintf(why, cap, "the ticket is for %s, not for a %s/HOST service", name,
			 c->service);
	krb5_free_unparsed_name(ctx, name);
	return ok;
}

/* The client's address as libkrb5 wants it, from BEGIN's "addr;port": 0, or -1
 * when there is none (unknown, or not IPv4/IPv6).  An IPv4-mapped IPv6 address is
 * the IPv4 address a ticket would list. */
static int
peer_address(const char *peer, unsigned char bytes[16], krb5_address *out)
{
	char a[64];
	size_t n;

	if (peer == NULL || (n = strcspn(peer, ";")) == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, peer, n);
	a[n] = '\0';
	out->magic = KV5M_ADDRESS;
	out->contents = bytes;
	if (inet_pton(AF_INET, a, bytes) == 1) {
		out->addrtype = ADDRTYPE_INET;
		out->length = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, a, bytes) != 1)
		return -1;
	if (memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(bytes, bytes + 12, 4);
		out->addrtype = ADDRTYPE_INET;
		out->length = 4;
		return 0;
	}
	out->addrtype = ADDRTYPE_INET6;
	out->length = 16;
	return 0;
}

int
kp_kpop_verify(const struct kp_conf *c, const void *apreq, size_t len, const char *peer,
	       char *principal_out, size_t cap, int *mutual_out, struct kp_buf *rep_out,
	       struct kp_buf *err_out, char *why, size_t whycap)
{
	krb5_context ctx = NULL;
	krb5_auth_context ac = NULL;
	krb5_keytab kt = NULL;
	krb5_rcache rc_ = NULL;
	krb5_ticket *ticket = NULL;
	krb5_flags ap_opts = 0;
	krb5_error_code kret;
	krb5_data req, rep = { 0 }, piece;
	char *client = NULL;
	unsigned char abytes[16];
	krb5_address addr;
	int rc = KP_E_AUTH;

	principal_out[0] = '\0';
	why[0] = '\0';
	*mutual_out = 0;
	if ((ctx = kp_krb5_shared()) == NULL) {
		snprintf(why, whycap, "krb5_init_context failed");
		return KP_E_AUTH;
	}
	if ((kret = krb5_auth_con_init(ctx, &ac)) != 0)
		goto krb_fail;
	/* With no server principal given, krb5_rd_req would skip the replay cache:
	 * set one explicitly (in KRB5RCACHEDIR / rcache_dir). */
	piece.data = c->service;
	piece.length = (unsigned int)strlen(c->service);
	if ((kret = krb5_get_server_rcache(ctx, &piece, &rc_)) != 0)
		goto krb_fail;
	if ((kret = krb5_auth_con_setrcache(ctx, ac, rc_)) != 0)
		goto krb_fail;
	/* An addressful ticket (kinit -a, noaddresses = false) is good only from an
	 * address it lists: with the remote address set krb5_rd_req checks that
	 * (KRB5KRB_AP_ERR_BADADDR); an addressless ticket, the default, passes. */
	if (peer_address(peer, abytes, &addr) == 0 &&
	    (kret = krb5_auth_con_setaddrs(ctx, ac, NULL, &addr)) != 0)
		goto krb_fail;
	kret = c->keytab != NULL ? krb5_kt_resolve(ctx, c->keytab, &kt) : krb5_kt_default(ctx, &kt);
	if (kret != 0)
		goto krb_fail;
	req.data = (char *)apreq;
	req.length = (unsigned int)len;
	kret = krb5_rd_req(ctx, &ac, &req, NULL, kt, &ap_opts, &ticket);
	if (kret != 0) {
		const char *m = krb5_get_error_message(ctx, kret);

		/* the client hears the cause too, as far as a KRB-ERROR code can say it */
		if (kp_ticket_why(c, apreq, len, kret, "krb5_rd_req", m, why, whycap) ==
		    KP_TICKET_ENCTYPE)
			kret = KRB5_NOPERM_ETYPE;
		krb5_free_error_message(ctx, m);
		make_krb_error(ctx, kret, err_out);
		goto cleanup;
	}
	if (!service_ok(c, ctx, ticket->server, why, whycap)) {
		make_krb_error(ctx, KRB5KRB_AP_WRONG_PRINC, err_out);
		goto cleanup;
	}
	if ((kret = krb5_unparse_name(ctx, ticket->enc_part2->client, &client)) != 0)
		goto krb_fail;
	if (strlen(client) >= cap) {
		snprintf(why, whycap, "client principal too long");
		goto cleanup;
	}
	if (ap_opts & AP_OPTS_MUTUAL_REQUIRED) {
		if ((kret = krb5_mk_rep(ctx, ac, &rep)) != 0)
			goto krb_fail;
		if (kp_buf_add(rep_out, rep.data, rep.length) != 0) {
			snprintf(why, whycap, "AP-REP too large");
			goto cleanup;
		}
		*mutual_out = 1;
	}
	memcpy(principal_out, client, strlen(client) + 1);
	rc = 0;
	goto cleanup;

krb_fail:
	{
		const char *m = krb5_get_error_message(ctx, kret);
		const char *hint = kp_krb_why_text(kp_krb5_classify(kret));

		snprintf(why, whycap, "%s%s%s", m, hint != NULL ? " -- " : "",
			 hint != NULL ? hint : "");
		krb5_free_error_message(ctx, m);
	}
	rc = KP_E_AUTH;
cleanup:
	krb5_free_data_contents(ctx, &rep);
	if (client != NULL)
		krb5_free_unparsed_name(ctx, client);
	if (ticket != NULL)
		krb5_free_ticket(ctx, ticket);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	if (ac != NULL)
		krb5_auth_con_free(ctx, ac); /* also closes the rcache */
	return rc;
}
