/* authc.h - a session's side of the auth service (server/authd/authd.c): every
 * authentication and authorization question goes over one SOCK_SEQPACKET channel as
 * a kp_ipc request, and comes back as an answer; the keytab never is in this
 * process.  The auth service enforces the order (kp_ipc_rules); these calls only
 * send what the session needs next. */
#ifndef KP_SERVER_AUTHC_H
#define KP_SERVER_AUTHC_H

#include <stddef.h>
#include <stdint.h>
#include "kp_buf.h"
#include "kp_ipc_msg.h"

struct kp_authc {
	int fd;                  /* the channel; -1 once broken */
	uint32_t sid;            /* session id for the auth service's logs */
	uint32_t mode;           /* enum kp_ipc_mode of the listener */
	int tls;                 /* the session runs inside TLS (BEGIN says so) */
	int begun;               /* BEGIN sent (or pending) and not ENDed */
	struct kp_buf begin_msg; /* BEGIN, encoded, until it goes with the first request */
	int begin_pending;
	int kpop_ok;             /* KPOP authenticated: USER follows whatever TLS does */
	char peer[KP_IPC_ADDR_MAX], local[KP_IPC_ADDR_MAX];
	unsigned char *rx;       /* KP_IPC_MSG_MAX + 1: the last answer (wiped) */
	size_t rxlen;
	struct kp_ipc_msg ans;   /* the last answer, decoded (points into rx) */
	char why[KP_IPC_REASON_MAX]; /* the last failure, for the log */
	uint32_t tries_left;
};

/* Set once any session of this process lost its channel (the auth service is gone
 * or dropped us): a reusable worker must not take another session then. */
extern int kp_authc_channel_lost;

/* A client on channel fd.  0 or KP_E_NOMEM. */
int kp_authc_init(struct kp_authc *a, int fd, uint32_t sid, uint32_t mode,
		  const char *peer, const char *local);
/* Forget the session (sends END if one was begun); the channel stays open. */
void kp_authc_end(struct kp_authc *a);
void kp_authc_free(struct kp_authc *a);
/* Wipe the last answer (the verdict with its exported context): the END can wait
 * until the client has its reply. */
void kp_authc_wipe_answer(struct kp_authc *a);
/* Forget the session without END: whoever relays the channel ended it. */
void kp_authc_forget(struct kp_authc *a);

/* The session is (now) inside TLS: the next request begins afresh with tls set. */
void kp_authc_set_tls(struct kp_authc *a, int on);

/* Results: 0 verdict (kp_authc_verdict), KP_AUTH_CONTINUE (1, GSS: the challenge in
 * *out; *next, when not NULL, the challenge that answers an empty response to it:
 * valid until the next call), KP_E_AUTH (refused: a->why; a->tries_left), KP_E_IO (the auth service is
 * gone or dropped us: end the session). */
#define KP_AUTHC_CONTINUE 1
int kp_authc_gss_step(struct kp_authc *a, const void *in, size_t inlen, int has_in,
		      const void **out, size_t *outlen, const void **next, size_t *nextlen);
void kp_authc_gss_cancel(struct kp_authc *a);
/* A password for user (USER/PASS), or AUTH PLAIN's when authzid is not NULL (""
 * if the client sent none): the auth service checks both the same way. */
int kp_authc_password(struct kp_authc *a, const char *authzid, const char *user,
		      const char *password);
/* KPOP: 0 with the AP-REP in *out (empty: no mutual auth asked), or KP_E_AUTH with a
 * KRB-ERROR in *out for the client (may be empty), or KP_E_IO.  toolong: 0, or the
 * length the client announced for an AP-REQ over KP_AUTH_TOKEN_MAX (apreq empty):
 * the answer is then the KRB-ERROR that says so. */
int kp_authc_kpop_apreq(struct kp_authc *a, const void *apreq, size_t len, uint32_t toolong,
			const void **out, size_t *outlen);
int kp_authc_kpop_user(struct kp_authc *a, const char *user);

/* After a verdict: valid until the next call. */
const struct kp_ipc_verdict *kp_authc_verdict(const struct kp_authc *a);

#endif
