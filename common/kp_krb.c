/* kp_krb.c - Kerberos and GSS-API status codes as text: detail for logs, a plain
 * English explanation for people. */
#include "config.h"
#include "kp_krb.h"

#include <stdio.h>
#include <string.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <com_err.h>

static const struct {
	long code;
	enum kp_krb_why why;
} codes[] = {
	{ KRB5_FCC_NOFILE, KP_KRB_NO_TICKET },
	{ KRB5_CC_NOTFOUND, KP_KRB_NO_TICKET },
	{ KRB5_CC_NOSUPP, KP_KRB_NO_TICKET },
	{ KRB5_CC_END, KP_KRB_NO_TICKET },
	{ KRB5KRB_AP_ERR_TKT_EXPIRED, KP_KRB_EXPIRED },
	{ KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, KP_KRB_NO_SERVICE },
	{ KRB5KRB_AP_ERR_SKEW, KP_KRB_SKEW },
	{ KRB5_KDC_UNREACH, KP_KRB_NO_KDC },
	{ KRB5_REALM_CANT_RESOLVE, KP_KRB_NO_KDC },
	{ KRB5_REALM_UNKNOWN, KP_KRB_NO_KDC },
	{ KRB5KRB_AP_ERR_BADKEYVER, KP_KRB_WRONG_KEY },
	{ KRB5_KT_NOTFOUND, KP_KRB_WRONG_KEY },
	{ KRB5KRB_AP_ERR_NOKEY, KP_KRB_WRONG_KEY },
	{ KRB5KRB_AP_ERR_BAD_INTEGRITY, KP_KRB_WRONG_KEY },
	{ KRB5KRB_AP_ERR_REPEAT, KP_KRB_REPLAY },
	{ KRB5KDC_ERR_PREAUTH_FAILED, KP_KRB_BAD_PASSWORD },
	{ KRB5_NOPERM_ETYPE, KP_KRB_ENCTYPE },
	{ KRB5KDC_ERR_ETYPE_NOSUPP, KP_KRB_ENCTYPE },
	{ KRB5KRB_AP_ERR_BADADDR, KP_KRB_ADDRESS },
};

/* Texts GSS-API and libsasl2 print that carry no error code of the table. */
static const struct {
	const char *text;
	enum kp_krb_why why;
} texts[] = {
	{ "No Kerberos credentials available", KP_KRB_NO_TICKET },
	{ "No credentials cache found", KP_KRB_NO_TICKET },
	{ "No credentials were supplied", KP_KRB_NO_TICKET },
	{ "not found in Kerberos database", KP_KRB_NO_SERVICE },
	{ "Ticket expired", KP_KRB_EXPIRED },
	{ "credentials have expired", KP_KRB_EXPIRED },
	{ "Clock skew too great", KP_KRB_SKEW },
	{ "Cannot contact any KDC", KP_KRB_NO_KDC },
	{ "Cannot find KDC", KP_KRB_NO_KDC },
	{ "Incorrect net address", KP_KRB_ADDRESS },
};

void
kp_gss_status_text(OM_uint32 major, OM_uint32 minor, char *out, size_t cap)
{
	size_t n = 0;
	int pass;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (pass = 0; pass < 2; pass++) {
		OM_uint32 ctx = 0, min;
		OM_uint32 code = pass == 0 ? major : minor;
		int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;

		if (pass == 1 && minor == 0)
			break;
		do {
			gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;

			if (GSS_ERROR(gss_display_status(&min, code, type, (gss_OID)gss_mech_krb5,
							 &ctx, &msg)))
				break;
			if (n < cap) {
				int r = snprintf(out + n, cap - n, "%s%.*s", n > 0 ? "; " : "",
						 (int)msg.length, (const char *)msg.value);

				if (r > 0)
					n += (size_t)r < cap - n ? (size_t)r : cap - n - 1;
			}
			gss_release_buffer(&min, &msg);
		} while (ctx != 0);
	}
}

enum kp_krb_why
kp_krb5_classify(long code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].why;
	return KP_KRB_UNKNOWN;
}

enum kp_krb_why
kp_krb5_classify_text(const char *text)
{
	size_t i;

	if (text == NULL)
		return KP_KRB_UNKNOWN;
	/* Most specific first: the codes' own messages, then the extra texts. */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *m = error_message(codes[i].code);

		if (m != NULL && m[0] != '\0' && strstr(text, m) != NULL)
			return codes[i].why;
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strstr(text, texts[i].text) != NULL)
			return texts[i].why;
	return KP_KRB_UNKNOWN;
}

struct _krb5_context *
kp_krb5_shared(void)
{
	static krb5_context ctx;

	if (ctx == NULL && krb5_init_context(&ctx) != 0)
		ctx = NULL;
	return ctx;
}

const char *
kp_krb_why_text(enum kp_krb_why why)
{
	switch (why) {
	case KP_KRB_NO_TICKET:
		return "you have no Kerberos ticket: run kinit";
	case KP_KRB_EXPIRED:
		return "your Kerberos ticket has expired: run kinit again";
	case KP_KRB_NO_SERVICE:
		return "the KDC does not know the server principal: check the host name you "
		       "connect to, or ask the admin to create pop/HOST";
	case KP_KRB_SKEW:
		return "the clocks of this machine, the server and the KDC differ too much: "
		       "fix time synchronisation (NTP)";
	case KP_KRB_NO_KDC:
		return "no KDC for the realm could be reached: check krb5.conf and the network";
	case KP_KRB_WRONG_KEY:
		return "the server's keytab has no matching key: the admin must re-export the "
		       "pop/HOST key";
	case KP_KRB_REPLAY:
		return "this Kerberos authenticator was already used (replay): try again";
	case KP_KRB_BAD_PASSWORD:
		return "wrong password";
	case KP_KRB_ENCTYPE:
		return "the server does not permit the encryption type of the ticket (the "
		       "service's keys are of a type the server refuses, e.g. RC4 only): the "
		       "admin must give the service account AES keys";
	case KP_KRB_ADDRESS:
		return "the ticket lists network addresses and not the one the server sees "
		       "(kinit -a, or noaddresses = false in krb5.conf; behind NAT or a proxy "
		       "that is expected): get an addressless ticket with kinit -A";
	default:
		return NULL;
	}
}
