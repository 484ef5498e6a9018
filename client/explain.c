/* explain.c - why the client failed, in plain words, and its exit status. */
#include "config.h"
#include "client/explain.h"

#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

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
