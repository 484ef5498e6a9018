/* kp_krb.h - Kerberos and GSS-API status codes turned into text: the full detail for
 * logs, and a plain-English explanation for people. */
#ifndef KP_KRB_H
#define KP_KRB_H

#include <stddef.h>
#include <gssapi/gssapi.h>

/* Why Kerberos failed, as a person needs to know it. */
enum kp_krb_why {
	KP_KRB_UNKNOWN = 0,
	KP_KRB_NO_TICKET,       /* no credentials cache / no TGT */
	KP_KRB_EXPIRED,         /* ticket expired */
	KP_KRB_NO_SERVICE,      /* server principal unknown to the KDC */
	KP_KRB_SKEW,            /* clock skew too great */
	KP_KRB_NO_KDC,          /* cannot reach any KDC for the realm */
	KP_KRB_WRONG_KEY,       /* server's keytab lacks the key / kvno mismatch */
	KP_KRB_REPLAY,          /* authenticator replayed */
	KP_KRB_BAD_PASSWORD,    /* pre-authentication failed */
	KP_KRB_ENCTYPE,         /* the ticket's enctype is not permitted by the server */
	KP_KRB_ADDRESS          /* an addressful ticket that does not list the client's address */
};

/* "<major text>; <minor text>" from gss_display_status for both codes (mech krb5). */
void kp_gss_status_text(OM_uint32 major, OM_uint32 minor, char *out, size_t cap);

/* Classify a krb5 error code (a krb5 GSS minor status or a krb5_error_code). */
enum kp_krb_why kp_krb5_classify(long code);

/* Classify from error text (libsasl2's sasl_errdetail() carries only the GSS message
 * texts, not the codes).  KP_KRB_UNKNOWN if nothing is recognised. */
enum kp_krb_why kp_krb5_classify_text(const char *text);

/* Plain-English explanation with the fix, e.g. KP_KRB_NO_TICKET ->
 * "you have no Kerberos ticket: run kinit".  NULL for KP_KRB_UNKNOWN. */
const char *kp_krb_why_text(enum kp_krb_why why);

/* One krb5 context for the life of the process, made at first use (NULL if libkrb5
 * cannot start): a context per call re-reads krb5.conf's state and walks the
 * plugin directories, ~10 us a time, on every login.  Single-threaded callers;
 * krb5.conf changes are seen after a restart or reload (a new auth service). */
struct _krb5_context;
struct _krb5_context *kp_krb5_shared(void);

#endif
