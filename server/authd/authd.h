/* authd.h - the auth service: the only process that holds the keytab.  It answers
 * the kp_ipc requests of every session worker (kp_ipc_msg.h, permits in
 * kp_ipc_rules) with one typed verdict per login, and trusts a worker no more than
 * the network: a peer that breaks the protocol is dropped, the others carry on. */
#ifndef KP_AUTHD_H
#define KP_AUTHD_H

#include "server/conf.h"

/* In a freshly forked child of the (root) daemon: copy the keytab into a MEMORY:
 * keytab, become auth_user, then serve until the master's channel ctl closes and
 * no peer is left.  New peers arrive over ctl (KP_IPC_PEER with the descriptor).
 * first_peer >= 0: a peer to serve from the start (kpopd -i); ctl may then be -1.
 * Does not return. */
void kp_authd_main(struct kp_conf *c, int ctl, int first_peer) __attribute__((noreturn));

/* Send a new peer's descriptor to the auth service on ctl (the master's side).
 * 0 or a KP_E_*. */
int kp_authd_add_peer(int ctl, int fd, long pid);

#endif
