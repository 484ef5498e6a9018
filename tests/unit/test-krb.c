/* test-krb.c - unit tests of kp_krb: every mapped krb5 code is recognised from its
 * own message text too, and every category has advice. */
#include "config.h"

#include <krb5.h>
#include <com_err.h>

#include "kp_krb.h"
#include "tap.h"

int
main(void)
{
	static const long codes[] = {
		KRB5_FCC_NOFILE, KRB5_CC_NOTFOUND, KRB5KRB_AP_ERR_TKT_EXPIRED,
		KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, KRB5KRB_AP_ERR_SKEW, KRB5_KDC_UNREACH,
		KRB5_REALM_CANT_RESOLVE, KRB5KRB_AP_ERR_BADKEYVER, KRB5_KT_NOTFOUND,
		KRB5KRB_AP_ERR_REPEAT, KRB5KDC_ERR_PREAUTH_FAILED, KRB5_NOPERM_ETYPE
	};
	char text[512];
	size_t i;
	int w;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char msg[300];

		T_OK(kp_krb5_classify(codes[i]) != KP_KRB_UNKNOWN, error_message(codes[i]));
		snprintf(msg, sizeof(msg), "GSSAPI Error: Unspecified GSS failure (%s)",
			 error_message(codes[i]));
		T_EQ_INT(kp_krb5_classify_text(msg), kp_krb5_classify(codes[i]), msg);
	}
	T_EQ_INT(kp_krb5_classify(KRB5_FCC_NOFILE), KP_KRB_NO_TICKET, "no ccache");
	T_EQ_INT(kp_krb5_classify(KRB5KRB_AP_ERR_SKEW), KP_KRB_SKEW, "skew");
	T_EQ_INT(kp_krb5_classify(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN), KP_KRB_NO_SERVICE, "service");
	T_EQ_INT(kp_krb5_classify(12345), KP_KRB_UNKNOWN, "unknown code");
	T_EQ_INT(kp_krb5_classify_text("No Kerberos credentials available (default cache: x)"),
		 KP_KRB_NO_TICKET, "GSS no credentials text");
	T_EQ_INT(kp_krb5_classify_text("something else"), KP_KRB_UNKNOWN, "unknown text");
	T_EQ_INT(kp_krb5_classify_text(NULL), KP_KRB_UNKNOWN, "NULL text");
	T_EQ_INT(kp_krb5_classify(KRB5KRB_AP_ERR_BADADDR), KP_KRB_ADDRESS, "address");
	for (w = KP_KRB_NO_TICKET; w <= KP_KRB_ADDRESS; w++)
		T_OK(kp_krb_why_text((enum kp_krb_why)w) != NULL, "advice for every category");
	T_OK(strstr(kp_krb_why_text(KP_KRB_NO_TICKET), "kinit") != NULL, "no ticket: kinit");
	T_OK(kp_krb_why_text(KP_KRB_UNKNOWN) == NULL, "no advice for unknown");
	/* (minor codes are only meaningful as GSS-API returned them: the end-to-end
	 * tests check the minor text of real failures) */
	kp_gss_status_text(GSS_S_CREDENTIALS_EXPIRED, 0, text, sizeof(text));
	T_OK(strstr(text, "expired") != NULL, "GSS major status text");
	kp_gss_status_text(GSS_S_FAILURE, 0, text, 8);
	T_EQ_INT(strlen(text) < 8, 1, "status text bounded");
	return tap_summary();
}
