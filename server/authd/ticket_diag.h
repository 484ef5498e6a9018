/* ticket_diag.h - why a Kerberos ticket was not accepted, in words an admin can act
 * on: what the AP-REQ says without its key (the ticket's server principal, enctype
 * and key version) compared with the keytab the auth service holds, and the krb5
 * error that the acceptor returned.  Runs only in the auth service. */
#ifndef KP_TICKET_DIAG_H
#define KP_TICKET_DIAG_H

#include <stddef.h>
#include "server/conf.h"

/* What kp_ticket_diag found. */
enum kp_ticket_cause {
	KP_TICKET_NONE = 0,   /* no cause found: the line only says what the ticket is */
	KP_TICKET_GARBLED,    /* truncated or garbled token */
	KP_TICKET_ENCTYPE,    /* the ticket's enctype is not permitted here */
	KP_TICKET_PINNED,     /* not the pinned server_principal */
	KP_TICKET_NOPRINC,    /* its principal is not in the keytab */
	KP_TICKET_KVNO,       /* its kvno is not in the keytab (stale keytab) */
	KP_TICKET_NOKEY,      /* no key of its enctype for that kvno */
	KP_TICKET_OTHER       /* skew, replay, expiry, a key that does not open it */
};

/* token: what the client sent, a GSS-API initial context token of the krb5
 * mechanism (RFC 2743 3.1 / RFC 4121 4.1 framing) or a bare AP-REQ (KPOP); len
 * octets.  code: the krb5 error the acceptor gave (a GSS minor status or
 * krb5_rd_req's return; 0 if none is known).
 * Writes one line to out (cap bytes, always NUL-terminated): "ticket for PRINCIPAL
 * kvno N ENCTYPE: CAUSE" where the ticket could be read, the cause with its fix
 * where one was found.  Returns the cause found (KP_TICKET_NONE: out only says what
 * the ticket is, or is empty). */
enum kp_ticket_cause kp_ticket_diag(const struct kp_conf *c, const void *token, size_t len,
				    long code, char *out, size_t cap);

/* The log line for a failed accept: kp_ticket_diag's cause, then "[what: detail]"
 * (what: the call that failed, detail: its status text); without a cause, what the
 * ticket is, "what: detail", and the generic hint for code (kp_krb.h).  Returns
 * the cause. */
enum kp_ticket_cause kp_ticket_why(const struct kp_conf *c, const void *token, size_t len,
				   long code, const char *what, const char *detail, char *out,
				   size_t cap);

#endif
