/* auth.h - the authentication decision: the SASL GSSAPI server exchange (RFC 4752 on
 * GSS-API, server/authd/gss_accept.c) against the keytab, and principal -> local
 * user.  A session reaches it only through these calls, so that privilege
 * separation can move it into its own process. */
#ifndef KP_AUTH_H
#define KP_AUTH_H

#include <stddef.h>
#include "server/conf.h"

struct kp_auth;

/* Once per process before any session (loads the GSS-API mechanisms, so that the
 * sessions it forks need not; touches no keytab).  0 or KP_E_CONFIG. */
int kp_auth_global_init(const struct kp_conf *c);

/* Per-session state.  local/remote: "ip;port" strings of the connection (may be
 * NULL; kept for the auth service's logs). */
int kp_auth_new(const struct kp_conf *c, const char *local, const char *remote,
		struct kp_auth **auth_out);
void kp_auth_free(struct kp_auth *a);

/* Space-separated SASL mechanisms this server offers ("GSSAPI"). */
const char *kp_auth_mechs(const struct kp_auth *a);

#define KP_AUTH_CONTINUE 1

/* One step of the exchange for mech.  The first call starts it: has_in says whether
 * the client sent an initial response (in/inlen, possibly empty).  Returns
 * KP_AUTH_CONTINUE with a challenge in *out and *outlen (valid until the next call);
 * 0 when authentication and authorization succeeded (*out may carry final server
 * data, *outlen 0 if none; the user and principal are then set); KP_E_SYNTAX for an
 * unknown mechanism; KP_E_AUTH on failure (kp_auth_error tells why, for the log). */
int kp_auth_step(struct kp_auth *a, const char *mech, const void *in, size_t inlen,
		 int has_in, const void **out, size_t *outlen);

/* After KP_AUTH_CONTINUE: the client's next response must be empty (GSSAPI's
 * last accept token is out, the layer offer follows). */
int kp_auth_awaits_empty(const struct kp_auth *a);

/* Abandon an exchange (client cancelled with "*" or a step failed); the next
 * kp_auth_step starts afresh. */
void kp_auth_reset(struct kp_auth *a);

/* After success: the authenticated principal and the local user it maps to. */
const char *kp_auth_principal(const struct kp_auth *a);
const char *kp_auth_user(const struct kp_auth *a);

/* The session runs over TLS: no SASL security layer is offered on top of it. */
void kp_auth_set_tls(struct kp_auth *a, int on);

/* What the session needs to apply the negotiated security layer (PRIVSEP.md: part of
 * the verdict).  ssf: 0 none, 1 integrity, > 1 privacy (the cipher's strength).
 * peer_maxbuf: the largest wrapped token the client accepts.  ctx/ctxlen: the
 * established GSS context as gss_export_sec_context bytes (a secret; NULL without a
 * layer), owned by a until kp_auth_layer_clear, kp_auth_reset or kp_auth_free. */
struct kp_auth_layer {
	unsigned ssf;
	unsigned peer_maxbuf;
	const void *ctx;
	size_t ctxlen;
};

/* After success: fill *out (all zero without a layer).  0, or KP_E_LAYER before a
 * successful exchange. */
int kp_auth_layer(const struct kp_auth *a, struct kp_auth_layer *out);

/* Wipe the exported context once the session has imported it: one owner only. */
void kp_auth_layer_clear(struct kp_auth *a);

/* USER/PASS (only over TLS): get initial credentials for user in the default realm
 * with password from the KDC, then verify them against our own keytab so that a
 * spoofed KDC cannot log anyone in; map the principal to a local user.  Returns 0
 * (principal_out and user_out set) or KP_E_AUTH with the reason in why. */
int kp_auth_password(const struct kp_conf *c, const char *user, const char *password,
		     char *principal_out, size_t pcap, char *user_out, size_t ucap,
		     char *why, size_t whycap);

/* The SASL proxy policy for an authzid (GSSAPI and PLAIN alike): empty, or the
 * same user as the one authenticated: the principal, the local user it maps to,
 * or the principal without its realm when that is the default realm.  1 if
 * allowed, else 0. */
int kp_auth_authzid_ok(const char *authz, const char *principal, const char *user);

/* Why the last step failed, with Kerberos/GSS detail: for the log, never the wire. */
const char *kp_auth_error(const struct kp_auth *a);

#endif
