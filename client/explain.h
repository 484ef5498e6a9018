/* explain.h - why the client failed, in plain words, and its exit status. */
#ifndef KP_EXPLAIN_H
#define KP_EXPLAIN_H

#include <stddef.h>
#include "kp_krb.h"
#include "kp_limits.h"

/* kpop's exit statuses (documented in kpop(1) and the README). */
enum kpop_exit {
	EXIT_OK_ = 0,
	EXIT_USAGE = 1,      /* bad options or configuration */
	EXIT_NET = 2,        /* cannot connect, network error, timeout */
	EXIT_PROTO = 3,      /* the server broke the protocol or answered -ERR */
	EXIT_CREDS = 4,      /* local Kerberos credentials: no ticket, expired */
	EXIT_KRB = 5,        /* realm/service: server principal unknown, no KDC, keys */
	EXIT_SKEW = 6,       /* clock skew */
	EXIT_REFUSED = 7,    /* the server refused authentication */
	EXIT_DELIVERY = 8,   /* storing mail locally failed */
	EXIT_INUSE = 9       /* the maildrop is locked by another session */
};

/* Room for any reply line (KP_CLIENT_REPLY_MAX) made safe by explain_safe: each byte
 * may take four. */
#define EXPLAIN_SAFE_MAX (4 * KP_CLIENT_REPLY_MAX + 4)

/* Text the server chose (reply texts, unique ids, anything a peer sent), made safe
 * for the user's terminal before it is printed: every byte outside 0x20-0x7E, and
 * the backslash, is written as \xHH, so no control character (ESC sequences, CR,
 * BEL, DEL; and 8-bit bytes, which include the C1 controls such as 0x9B CSI) reaches
 * the terminal.  out holds cap bytes and is always NUL-terminated; text that does
 * not fit is cut with "...".  Returns out.  (Message bodies are data and are never
 * passed through this.) */
const char *explain_safe(const char *text, char *out, size_t cap);

/* Exit status for a Kerberos failure category. */
int explain_exit_for(enum kp_krb_why why);

/* A local Kerberos failure while authenticating to service@host.  detail is what the
 * library said (may be NULL).  Runs a direct GSS-API attempt to get the real status
 * codes, prints the explanation and the detail, and returns the exit status. */
int explain_krb_failure(const char *service, const char *host, const char *detail);

/* Before GSS-API looks for credentials: a ticket cache it cannot read (another
 * user's, damaged) is said plainly and GSS-API is not asked (MIT krb5 1.20 can
 * crash on such a cache, see explain.c).  Returns -1 when GSS-API may go on, else
 * the exit status after the explanation. */
int explain_ccache_unreadable(void);

/* The server refused our Kerberos ticket (octets: the token or AP-REQ we sent)
 * as too large: says so in a sentence with the size and what to do.  Returns
 * EXIT_REFUSED. */
int explain_too_large(const char *host, size_t octets);

/* Does a -ERR text say that what we sent was too large (kpopd: "Kerberos token too
 * large"; other servers: "line too long" and the like)? */
int explain_is_too_large(const char *text);

/* A krb5 error code from the KPOP handshake (or the server's KRB-ERROR). */
int explain_krb5_code(const char *what, long code, const char *message);

#endif
