/* split.h - system-user mode: one session in two processes (README "Processes").
 *
 * The pool worker stays root and becomes the session parent: it never reads a byte
 * the client sent.  It forks the front, which becomes worker_user (in worker_chroot
 * if set) and runs TLS, the line engine and AUTHORIZATION.  The front's requests to
 * the auth service pass through the parent, which keeps the verdict for itself and
 * hands the front only the user name and the security layer.  With the verdict the
 * parent becomes the user, opens the maildrop and serves TRANSACTION over a stream
 * socketpair; the front relays that stream to the client under TLS and the layer. */
#ifndef KP_SERVER_SPLIT_H
#define KP_SERVER_SPLIT_H

#include "server/conf.h"
#include "server/master.h"

/* The mode needs it: a root daemon without mail_uid. */
int kp_split_wanted(const struct kp_conf *c);

/* Look up worker_user for the fronts (before any connection; again after a reload).
 * 0, or KP_E_CONFIG after logging why. */
int kp_split_prepare(const struct kp_conf *c);

/* Serve a->fd as one split session; close_in_front: a descriptor the front must not
 * keep (the worker's channel to the master), or -1.  Returns the back half's result
 * (0: the session ended with QUIT), or a KP_E_*. */
int kp_split_serve(const struct kp_conf *c, const struct kp_serve_args *a, kp_serve_fn serve,
		   int close_in_front);

#endif
