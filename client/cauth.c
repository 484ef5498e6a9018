/* cauth.c - the client's authentication: AUTH GSSAPI (libsasl2) and legacy KPOP. */
#include "config.h"
#include "client/cauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krb5.h>
#include <sasl/sasl.h>

#include "kp_b64.h"
#include "kp_err.h"
#include "kp_log.h"
#include "client/explain.h"

#define SASL_CB_FN(f) ((int (*)(void))(void (*)(void))(f))

static int
cb_user(void *ctx, int id, const char **result, unsigned *len)
{
	const char *authzid = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = (id == SASL_CB_USER && authzid != NULL) ? authzid : "";
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	kp_log(level <= SASL_LOG_ERR ? KP_LOG_DEBUG : KP_LOG_DEBUG, "sasl: %s", message);
	return SASL_OK;
}

/* The server answered -ERR: refused, in use, or something else. */
static int
server_said_no(struct pop3c *c, const char *what)
{
	char text[EXPLAIN_SAFE_MAX];

	/* (the response code is only letters, digits, '-' and '/': kp_pop3_parse_reply) */
	explain_safe(c->reply.text, text, sizeof(text));
	if (strcmp(c->reply.code, "IN-USE") == 0) {
		fprintf(stderr, "kpop: the mailbox on %s is in use by another session: %s\n",
			c->host, text);
		return EXIT_INUSE;
	}
	if (strncmp(c->reply.code, "SYS/", 4) == 0) {
		fprintf(stderr, "kpop: %s: the server has a problem: %s\n", what, text);
		return EXIT_PROTO;
	}
	fprintf(stderr, "kpop: the server refused %s: %s%s%s%s\n", what,
		c->reply.code[0] ? "[" : "", c->reply.code, c->reply.code[0] ? "] " : "", text);
	fprintf(stderr, "  (the server's log has the Kerberos detail; check that your principal "
		"may use this mailbox)\n");
	return EXIT_REFUSED;
}

/* Our own Kerberos token is over what kpop sends at all (KP_CLIENT_TOKEN_MAX). */
static int
token_too_large(const char *host, size_t octets)
{
	fprintf(stderr, "kpop: your Kerberos ticket for %s is %zu octets, more than kpop "
		"sends (%d): the account is in too many groups for any POP3 server\n", host,
		octets, KP_CLIENT_TOKEN_MAX);
	return EXIT_KRB;
}

/* The server said +OK before the SASL exchange completed: it never proved that it
 * holds the service key (its AP-REP and the wrapped security-layer offer are what
 * prove it), so it may be anyone.  Nothing it says from here on is trusted. */
static int
skipped_mutual(struct pop3c *c, const char *service, const char *host)
{
	fprintf(stderr, "kpop: %s answered +OK before the Kerberos exchange was complete: "
		"the server skipped mutual authentication (it did not prove it holds the key "
		"of %s/%s); not trusting it\n", host, service, host);
	pop3c_set_state(c, PC_FAILED);
	return EXIT_PROTO;
}

int
cauth_gssapi(struct pop3c *c, const char *service, const char *host, const char *authzid,
	     unsigned min_ssf, unsigned max_ssf)
{
	static int inited;
	sasl_callback_t cbs[4];
	sasl_conn_t *conn = NULL;
	sasl_security_properties_t props;
	const char *out = NULL, *mech = NULL;
	unsigned outlen = 0;
	char *b64 = NULL, *line = NULL;
	unsigned char *in = NULL;
	size_t inlen, sent = 0; /* the size of the last token we sent */
	int r, rc, ex = EXIT_PROTO;
	/* set only when sasl_client_step returned SASL_OK: the server's AP-REP verified
	 * and its wrapped security-layer offer unwrapped with the session key.  A +OK
	 * counts as success only then (RFC 4752 section 3.1, RFC 5034 section 4). */
	int sasl_complete = 0;

	if (!inited) {
		if (sasl_client_init(NULL) != SASL_OK) {
			fprintf(stderr, "kpop: cannot initialise libsasl2\n");
			return EXIT_USAGE;
		}
		inited = 1;
	}
	cbs[0].id = SASL_CB_USER;
	cbs[0].proc = SASL_CB_FN(cb_user);
	cbs[0].context = (void *)authzid;
	cbs[1].id = SASL_CB_AUTHNAME;
	cbs[1].proc = SASL_CB_FN(cb_user);
	cbs[1].context = (void *)authzid;
	cbs[2].id = SASL_CB_LOG;
	cbs[2].proc = SASL_CB_FN(cb_log);
	cbs[2].context = NULL;
	cbs[3].id = SASL_CB_LIST_END;
	cbs[3].proc = NULL;
	cbs[3].context = NULL;
	b64 = malloc(KP_B64_ENCLEN(KP_CLIENT_TOKEN_MAX));
	line = malloc(KP_AUTH_LINE_MAX + 1);
	in = malloc(KP_AUTH_TOKEN_MAX);
	if (b64 == NULL || line == NULL || in == NULL) {
		fprintf(stderr, "kpop: out of memory\n");
		ex = EXIT_USAGE;
		goto done;
	}
	r = sasl_client_new(service, host, NULL, NULL, cbs, 0, &conn);
	if (r != SASL_OK) {
		fprintf(stderr, "kpop: sasl_client_new: %s\n", sasl_errstring(r, NULL, NULL));
		ex = EXIT_USAGE;
		goto done;
	}
	memset(&props, 0, sizeof(props));
	props.min_ssf = min_ssf;
	props.max_ssf = max_ssf;
	props.maxbufsize = max_ssf > 0 ? KP_SASL_MAXBUF : 0;
	sasl_setprop(conn, SASL_SEC_PROPS, &props);
	/* Never SASL_CHANNEL_BINDING with GSSAPI (libsasl2 2.1.28). */
	if ((ex = explain_ccache_unreadable()) >= 0)
		goto done;
	ex = EXIT_PROTO;
	r = sasl_client_start(conn, "GSSAPI", NULL, &out, &outlen, &mech);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		ex = explain_krb_failure(service, host, sasl_errdetail(conn));
		goto done;
	}
	if (kp_b64_encode(out, outlen, b64, KP_B64_ENCLEN(KP_CLIENT_TOKEN_MAX), NULL) != 0) {
		ex = token_too_large(host, outlen);
		goto done;
	}
	c->auth_rounds = 0;
	sent = outlen;
	/* RFC 5034: the initial response only if the line stays within 255 octets. */
	if (strlen("AUTH GSSAPI ") + strlen(b64) + 2 <= KP_CMD_LINE_MAX) {
		pop3c_send(c, "AUTH GSSAPI %s", outlen > 0 ? b64 : "=");
		c->in_auth = 1; /* from here on, tokens both ways are redacted in -v */
	} else {
		pop3c_send(c, "AUTH GSSAPI");
		c->in_auth = 1;
		rc = pop3c_reply_big(c, line, KP_AUTH_LINE_MAX);
		if (rc < 0)
			goto io_fail;
		if (rc == KP_POP3_OK) {
			ex = skipped_mutual(c, service, host);
			goto done;
		}
		if (rc != KP_POP3_CONT) {
			ex = server_said_no(c, "AUTH GSSAPI");
			goto done;
		}
		pop3c_send(c, "%s", b64); /* (that "+" asked for the token: not counted) */
	}
	for (;;) {
		rc = pop3c_reply_big(c, line, KP_AUTH_LINE_MAX);
		if (rc < 0)
			goto io_fail;
		if (rc == KP_POP3_OK) {
			if (!sasl_complete) {
				ex = skipped_mutual(c, service, host);
				goto done;
			}
			break;
		}
		if (rc == KP_POP3_ERR) {
			/* copy: c->reply points into line */
			snprintf(c->line, sizeof(c->line), "%s", c->reply.text);
			c->reply.text = c->line;
			if (sent > KP_CMD_LINE_MAX && explain_is_too_large(c->reply.text))
				ex = explain_too_large(host, sent);
			else
				ex = server_said_no(c, "authentication");
			goto done;
		}
		c->auth_rounds++;
		if (sasl_complete) {
			/* GSSAPI ends with our answer to the layer offer: nothing follows */
			fprintf(stderr, "kpop: the server sent another AUTH challenge after the "
				"Kerberos exchange was complete\n");
			pop3c_send(c, "*");
			goto done;
		}
		if (kp_b64_decode(c->reply.text, strlen(c->reply.text), in, KP_AUTH_TOKEN_MAX,
				  &inlen) != 0) {
			fprintf(stderr, "kpop: the server sent a malformed AUTH challenge\n");
			pop3c_send(c, "*");
			goto done;
		}
		r = sasl_client_step(conn, (const char *)in, (unsigned)inlen, NULL, &out, &outlen);
		if (r != SASL_OK && r != SASL_CONTINUE) {
			const char *d = sasl_errdetail(conn);

			pop3c_send(c, "*");
			(void)pop3c_reply(c);
			if (r == SASL_TOOWEAK) {
				fprintf(stderr, "kpop: the server does not offer the SASL security "
					"layer asked for (none is offered over TLS)\n");
				ex = EXIT_PROTO;
			} else if (kp_krb5_classify_text(d) != KP_KRB_UNKNOWN)
				ex = explain_krb_failure(service, host, d);
			else {
				char safe[EXPLAIN_SAFE_MAX];

				fprintf(stderr, "kpop: authentication failed: the server's answer did "
					"not verify (mutual authentication): %s\n",
					explain_safe(d != NULL ? d : "", safe, sizeof(safe)));
				ex = EXIT_KRB;
			}
			goto done;
		}
		sasl_complete = r == SASL_OK;
		if (kp_b64_encode(out, outlen, b64, KP_B64_ENCLEN(KP_CLIENT_TOKEN_MAX),
				  NULL) != 0) {
			pop3c_send(c, "*");
			ex = token_too_large(host, outlen);
			goto done;
		}
		sent = outlen;
		pop3c_send(c, "%s", b64);
	}
	kp_log(KP_LOG_DEBUG, "AUTH GSSAPI succeeded");
	{
		const void *p = NULL;

		if (sasl_getprop(conn, SASL_SSF, &p) == SASL_OK && p != NULL)
			c->ssf = *(const unsigned *)p;
	}
	if (c->ssf < min_ssf) {
		fprintf(stderr, "kpop: the server did not agree to the security layer asked for\n");
		ex = EXIT_PROTO;
		goto done;
	}
	if (c->ssf > 0) {
		/* the layer starts right after the +OK's CRLF */
		kp_io_discard_input(&c->io);
		if (kp_saslio_start(&c->io, conn, &c->layer) != 0) {
			fprintf(stderr, "kpop: cannot start the SASL security layer\n");
			ex = EXIT_PROTO;
			goto done;
		}
		c->sasl_conn = conn; /* lives as long as the connection */
		conn = NULL;
		kp_log(KP_LOG_DEBUG, "SASL security layer ssf %u", c->ssf);
	}
	pop3c_set_state(c, PC_TRANSACTION);
	ex = 0;
	goto done;
io_fail:
	fprintf(stderr, "kpop: connection to %s lost during authentication\n", host);
	ex = EXIT_NET;
done:
	c->in_auth = 0;
	if (conn != NULL)
		sasl_dispose(&conn);
	free(b64);
	free(line);
	free(in);
	return ex;
}

/* The size of our cached ticket for server (what made the AP-REQ we sent that
 * large), 0 if it cannot be told. */
static size_t
ticket_octets(krb5_context ctx, krb5_ccache cc, krb5_principal server)
{
	krb5_creds mc, *got = NULL;
	krb5_principal me = NULL;
	size_t n = 0;

	memset(&mc, 0, sizeof(mc));
	if (krb5_cc_get_principal(ctx, cc, &me) != 0)
		return 0;
	mc.client = me;
	mc.server = server;
	if (krb5_get_credentials(ctx, KRB5_GC_CACHED, cc, &mc, &got) == 0) {
		n = got->ticket.length;
		krb5_free_creds(ctx, got);
	}
	krb5_free_principal(ctx, me);
	return n;
}

int
cauth_kpop_handshake(struct pop3c *c, const char *service, const char *host)
{
	krb5_context ctx = NULL;
	krb5_auth_context ac = NULL;
	krb5_ccache cc = NULL;
	krb5_principal server = NULL;
	krb5_error *err = NULL;
	krb5_ap_rep_enc_part *rep = NULL;
	krb5_error_code kret;
	int fd = c->fd, ex;

	if ((kret = krb5_init_context(&ctx)) != 0) {
		fprintf(stderr, "kpop: cannot initialise Kerberos (%ld)\n", (long)kret);
		return EXIT_KRB;
	}
	kret = krb5_cc_default(ctx, &cc);
	if (kret == 0)
		kret = krb5_sname_to_principal(ctx, host, service, KRB5_NT_SRV_HST, &server);
	if (kret == 0)
		kret = krb5_sendauth(ctx, &ac, (krb5_pointer)&fd, "KPOPV1.0", NULL, server,
				     AP_OPTS_MUTUAL_REQUIRED, NULL, NULL, cc, &err, &rep, NULL);
	if (kret == 0 && rep == NULL) {
		/* With AP_OPTS_MUTUAL_REQUIRED krb5_sendauth returns 0 only after
		 * krb5_rd_rep verified the server's AP-REP, and hands it back here; without
		 * it nothing proves who is at the other end, and USER must not be sent. */
		fprintf(stderr, "kpop: %s did not prove its identity in the KPOP handshake (no "
			"verified AP-REP): not continuing\n", host);
		ex = EXIT_PROTO;
	} else if (kret == 0) {
		ex = 0;
		kp_log(KP_LOG_DEBUG, "KPOP handshake with %s/%s succeeded (mutual)", service, host);
	} else if (err != NULL) {
		/* the server's KRB-ERROR: what it found wrong with our ticket */
		long code = (long)err->error + ERROR_TABLE_BASE_krb5;
		const char *m;
		size_t octets;

		if (code == KRB5KRB_ERR_FIELD_TOOLONG &&
		    (octets = ticket_octets(ctx, cc, server)) > 0) {
			ex = explain_too_large(host, octets);
			goto cleanup;
		}
		m = krb5_get_error_message(ctx, (krb5_error_code)code);
		ex = explain_krb5_code("KPOP authentication (refused by the server)", code, m);
		krb5_free_error_message(ctx, m);
		if (ex == EXIT_KRB || ex == EXIT_CREDS)
			ex = EXIT_REFUSED;
	} else {
		const char *m = krb5_get_error_message(ctx, kret);

		if (kret == KRB5_SENDAUTH_REJECTED || kret == KRB5_SENDAUTH_BADAPPLVERS ||
		    kret == KRB5_SENDAUTH_BADAUTHVERS) {
			fprintf(stderr, "kpop: the server refused the KPOP handshake: %s\n", m);
			ex = EXIT_REFUSED;
		} else if (kret == KRB5_CC_END || kret == ECONNRESET || kret == EPIPE ||
			   kret == ECONNABORTED || kret == KRB5_SENDAUTH_BADRESPONSE) {
			/* (krb5_read_message says ECONNABORTED for end of stream) */
			fprintf(stderr, "kpop: %s closed the connection during the KPOP handshake: "
				"%s (is it a KPOP server?)\n", host, m);
			ex = EXIT_PROTO;
		} else if (kret == EAGAIN || kret == EWOULDBLOCK || kret == ETIMEDOUT) {
			/* a blocking read ran into SO_RCVTIMEO (set by kp_io_init) */
			fprintf(stderr, "kpop: %s stopped answering during the KPOP handshake: "
				"timed out\n", host);
			ex = EXIT_NET;
		} else if (kret == KRB5KRB_AP_ERR_MUT_FAIL || kret == KRB5KRB_AP_ERR_MSG_TYPE ||
			   kret == KRB5KRB_AP_ERR_BAD_INTEGRITY || kret == KRB5KRB_AP_ERR_MODIFIED ||
			   kret == KRB5KRB_AP_ERR_BADVERSION || kret == KRB5_BADMSGTYPE ||
			   (kret >= ERROR_TABLE_BASE_asn1 && kret < ERROR_TABLE_BASE_asn1 + 256)) {
			/* krb5_rd_rep (or rd_error) could not decode or verify the answer */
			char safe[EXPLAIN_SAFE_MAX];

			fprintf(stderr, "kpop: authentication failed: the server's answer in the "
				"KPOP handshake did not verify (mutual authentication): %s\n",
				explain_safe(m, safe, sizeof(safe)));
			ex = EXIT_KRB;
		} else {
			char who[300];

			snprintf(who, sizeof(who), "KPOP authentication to %s/%s", service, host);
			ex = explain_krb5_code(who, (long)kret, m);
		}
		krb5_free_error_message(ctx, m);
	}
cleanup:
	if (err != NULL)
		krb5_free_error(ctx, err);
	if (rep != NULL)
		krb5_free_ap_rep_enc_part(ctx, rep);
	if (server != NULL)
		krb5_free_principal(ctx, server);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	if (ac != NULL)
		krb5_auth_con_free(ctx, ac);
	krb5_free_context(ctx);
	return ex;
}

int
cauth_kpop_login(struct pop3c *c, const char *user)
{
	int rc;

	pop3c_send(c, "USER %s", user);
	pop3c_send(c, "PASS krb_ticket"); /* ignored by a KPOP server, as fetchmail sends */
	rc = pop3c_reply(c);
	if (rc < 0)
		return EXIT_NET;
	if (rc != KP_POP3_OK) {
		int ex = server_said_no(c, "USER");

		(void)pop3c_reply(c); /* PASS's answer */
		return ex;
	}
	rc = pop3c_reply(c);
	if (rc < 0)
		return EXIT_NET;
	if (rc != KP_POP3_OK)
		return server_said_no(c, "the KPOP login");
	pop3c_set_state(c, PC_TRANSACTION);
	return 0;
}
