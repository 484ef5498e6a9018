/* explain.c - why the client failed, in plain words, and its exit status. */
#include "config.h"
#include "client/explain.h"

#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "kp_log.h"

const char *
explain_safe(const char *text, char *out, size_t cap)
{
	if (cap == 0)
		return "";
	kp_log_escape(text, strlen(text), out, cap);
	return out;
}

int
explain_exit_for(enum kp_krb_why why)
{
	switch (why) {
	case KP_KRB_NO_TICKET:
	case KP_KRB_EXPIRED:
	case KP_KRB_BAD_PASSWORD:
		return EXIT_CREDS;
	case KP_KRB_SKEW:
		return EXIT_SKEW;
	case KP_KRB_REPLAY:
		return EXIT_REFUSED;
	default:
		return EXIT_KRB;
	}
}

/* Ask GSS-API directly for a context to service@host: its status codes are what
 * libsasl2 hides.  Returns the category and fills text. */
static enum kp_krb_why
diagnose(const char *service, const char *host, char *text, size_t cap)
{
	OM_uint32 maj, min, min2;
	gss_buffer_desc nb, out = GSS_C_EMPTY_BUFFER;
	gss_name_t name = GSS_C_NO_NAME;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	char target[512];
	enum kp_krb_why why = KP_KRB_UNKNOWN;

	text[0] = '\0';
	snprintf(target, sizeof(target), "%s@%s", service, host);
	nb.value = target;
	nb.length = strlen(target);
	maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &name);
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, cap);
		return KP_KRB_UNKNOWN;
	}
	maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, name, (gss_OID)gss_mech_krb5,
				   GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
				   GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
	if (GSS_ERROR(maj)) {
		kp_gss_status_text(maj, min, text, cap);
		why = kp_krb5_classify((long)(int32_t)min);
		if (why == KP_KRB_UNKNOWN) {
			if (GSS_ROUTINE_ERROR(maj) == GSS_S_CREDENTIALS_EXPIRED)
				why = KP_KRB_EXPIRED;
			else if (GSS_ROUTINE_ERROR(maj) == GSS_S_NO_CRED)
				why = KP_KRB_NO_TICKET;
			else
				why = kp_krb5_classify_text(text);
		}
	}
	gss_release_buffer(&min2, &out);
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min2, &ctx, GSS_C_NO_BUFFER);
	gss_release_name(&min2, &name);
	return why;
}

static void
say(enum kp_krb_why why, const char *service, const char *host)
{
	const char *text = kp_krb_why_text(why);

	if (why == KP_KRB_NO_SERVICE)
		fprintf(stderr, "kpop: authentication failed: the KDC does not know the server "
			"principal %s/%s: check the host name you connect to, or ask the admin "
			"to create it\n", service, host);
	else if (text != NULL)
		fprintf(stderr, "kpop: authentication failed: %s\n", text);
	else
		fprintf(stderr, "kpop: authentication failed: Kerberos error\n");
}

int
explain_krb_failure(const char *service, const char *host, const char *detail)
{
	char text[1024], safe[EXPLAIN_SAFE_MAX];
	enum kp_krb_why why = diagnose(service, host, text, sizeof(text));

	if (why == KP_KRB_UNKNOWN)
		why = kp_krb5_classify_text(detail);
	say(why, service, host);
	/* library texts, but they can quote names and data the server sent */
	if (text[0] != '\0')
		fprintf(stderr, "  GSS-API: %s\n", explain_safe(text, safe, sizeof(safe)));
	if (detail != NULL && detail[0] != '\0')
		fprintf(stderr, "  SASL: %s\n", explain_safe(detail, safe, sizeof(safe)));
	return explain_exit_for(why);
}

/* GSS-API's initiator, with no client keytab to fall back on, asks
 * krb5_cccol_have_content whether any cache of the collection holds a ticket.  In
 * MIT krb5 before 1.21 (Debian 12 ships 1.20.1) that function frees the principal
 * of a cache whose krb5_cc_get_principal failed without it ever being set: a ticket
 * cache that exists but cannot be read (mode 0600 and someone else's, truncated)
 * made kpop die of SIGSEGV about one run in two.  The same walk here, done safely:
 * a cache that fails before one that reads is reported, and GSS-API is not called
 * (also with a client keytab, which GSS-API would have used instead: a broken
 * cache is worth a sentence, and kpop reads no keytab). */
int
explain_ccache_unreadable(void)
{
	krb5_context ctx;
	krb5_cccol_cursor cur;
	krb5_ccache cc;
	krb5_principal me;
	krb5_error_code code = 0;
	char name[256] = "", safe[EXPLAIN_SAFE_MAX];
	const char *msg;
	int ex = -1;

	if (krb5_init_context(&ctx) != 0)
		return -1; /* GSS-API will say why */
	if (krb5_cccol_cursor_new(ctx, &cur) != 0)
		goto out;
	while (krb5_cccol_cursor_next(ctx, cur, &cc) == 0 && cc != NULL) {
		me = NULL;
		code = krb5_cc_get_principal(ctx, cc, &me);
		if (code != 0)
			snprintf(name, sizeof(name), "%s:%s", krb5_cc_get_type(ctx, cc),
				 krb5_cc_get_name(ctx, cc));
		krb5_free_principal(ctx, me);
		krb5_cc_close(ctx, cc);
		if (code == 0 || code != KRB5_FCC_NOFILE)
			break;
	}
	krb5_cccol_cursor_free(ctx, &cur);
	if (code != 0 && code != KRB5_FCC_NOFILE) {
		msg = krb5_get_error_message(ctx, code);
		fprintf(stderr, "kpop: authentication failed: cannot read your ticket cache %s "
			"(it belongs to another user or is damaged): run kinit\n", name);
		fprintf(stderr, "  Kerberos: %s\n", explain_safe(msg, safe, sizeof(safe)));
		krb5_free_error_message(ctx, msg);
		ex = EXIT_CREDS;
	}
out:
	krb5_free_context(ctx);
	return ex;
}

/* n with thousands separators ("70,000"), as people read sizes. */
static const char *
grouped(size_t n, char *out, size_t cap)
{
	char digits[32];
	size_t len, i, o = 0;

	len = (size_t)snprintf(digits, sizeof(digits), "%zu", n);
	for (i = 0; i < len && o + 2 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

int
explain_is_too_large(const char *text)
{
	return text != NULL && (strcasestr(text, "too large") != NULL ||
				strcasestr(text, "too long") != NULL ||
				strcasestr(text, "too big") != NULL);
}

int
explain_too_large(const char *host, size_t octets)
{
	char a[32], b[32];

	fprintf(stderr, "kpop: authentication failed: the server %s refused a %s-octet ticket "
		"as too large\n", host, grouped(octets, a, sizeof(a)));
	fprintf(stderr, "  (a ticket grows with the groups your account is in, as Active "
		"Directory's PAC does; kpopd accepts up to %s octets, Windows' largest "
		"MaxTokenSize: ask the admin to raise the server's limit or to trim the "
		"account's groups)\n", grouped(KP_AUTH_TOKEN_MAX, b, sizeof(b)));
	return EXIT_REFUSED;
}

int
explain_krb5_code(const char *what, long code, const char *message)
{
	enum kp_krb_why why = kp_krb5_classify(code);
	const char *text = kp_krb_why_text(why);
	char safe[EXPLAIN_SAFE_MAX];

	fprintf(stderr, "kpop: %s failed: %s\n", what, text != NULL ? text : "Kerberos error");
	if (message != NULL)
		fprintf(stderr, "  Kerberos: %s (%ld)\n", explain_safe(message, safe, sizeof(safe)),
			code);
	return explain_exit_for(why);
}
