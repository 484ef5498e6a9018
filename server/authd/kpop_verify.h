/* kpop_verify.h - the key-holding half of legacy KPOP: check a client's AP-REQ
 * against the keytab and the replay cache, build the AP-REP or the KRB-ERROR.
 * Runs only in the auth service; the wire half is server/kpop_server.c. */
#ifndef KP_KPOP_VERIFY_H
#define KP_KPOP_VERIFY_H

#include <stddef.h>
#include "kp_buf.h"
#include "server/conf.h"

/* Verify apreq (len bytes) from peer (BEGIN's "addr;port", the PROXY header's
 * client behind a proxy; NULL or "" when unknown: a ticket that lists addresses
 * must list peer's, as krb5_rd_req checks with the remote address set).  On success returns 0: principal_out holds the
 * client's principal, rep_out the AP-REP if the client asked for mutual
 * authentication (else empty), *mutual_out says which.  On failure returns
 * KP_E_AUTH: err_out holds a KRB-ERROR for the client (may be empty) and why the
 * reason for the log.  rep_out and err_out must be initialised kp_bufs. */
int kp_kpop_verify(const struct kp_conf *c, const void *apreq, size_t len, const char *peer,
		   char *principal_out, size_t cap, int *mutual_out, struct kp_buf *rep_out,
		   struct kp_buf *err_out, char *why, size_t whycap);

/* An AP-REQ announced as len octets, over KP_AUTH_TOKEN_MAX and so never read:
 * err_out gets the KRB-ERROR KRB_ERR_FIELD_TOOLONG for the client, why the reason
 * for the log.  Returns KP_E_AUTH. */
int kp_kpop_too_large(size_t len, struct kp_buf *err_out, char *why, size_t whycap);

#endif
