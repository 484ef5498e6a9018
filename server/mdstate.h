/* mdstate.h - RFC 2449 LOGIN-DELAY and EXPIRE on one open maildrop: the time of the
 * last login and the messages retrieved in earlier sessions, kept in a small file
 * in the maildrop (kp_maildrop_state_at) that is written whole to a temporary
 * file, fsync'd and renamed over the old one, under the maildrop's session lock. */
#ifndef KP_MDSTATE_H
#define KP_MDSTATE_H

#include <stdint.h>
#include <time.h>
#include "server/maildrop.h"

struct kp_mdstate;

/* Read the state of md (open, so locked; md must outlive the state).  A missing
 * file is an empty state; an unreadable or malformed one is logged and treated as
 * empty (nothing then counts as retrieved before: nothing expires).  Returns 0
 * with *out set, or KP_E_NOMEM. */
int kp_mdstate_open(struct kp_maildrop *md, struct kp_mdstate **out);

/* LOGIN-DELAY: seconds the next login must still wait for delay seconds to pass
 * since the last recorded login (0: it may log in now). */
long kp_mdstate_login_wait(const struct kp_mdstate *st, uint32_t delay, time_t now);

/* Record a login at now, durably, before the +OK.  0, or KP_E_IO (logged; the
 * maildrop has no place for the file, or writing it failed). */
int kp_mdstate_login(struct kp_mdstate *st, time_t now);

/* Message n (1-based) was retrieved with RETR in this session. */
void kp_mdstate_retrieved(struct kp_mdstate *st, unsigned long n);

/* UPDATE, before the maildrop's commit: mark deleted the messages EXPIRE removes
 * and log each.  days 0: every message retrieved, in this session or an earlier
 * one; days > 0: those retrieved in an earlier session that are at least days
 * old (counted from delivery, the Maildir file's mtime, or, for an mbox spool,
 * from the first retrieval).  Returns how many were marked. */
unsigned long kp_mdstate_expire(struct kp_mdstate *st, uint32_t days, time_t now);

/* UPDATE, after the commit: record the retrievals of the messages that are still
 * there, this session's at now.  0 or KP_E_IO (logged). */
int kp_mdstate_save(struct kp_mdstate *st, time_t now);

void kp_mdstate_free(struct kp_mdstate *st);

#endif
