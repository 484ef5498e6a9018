/* kp_dotlock.h - the NFS-safe dotlock FILE.lock (the method of liblockfile, which
 * Debian's MDAs use), shared by kpopd's mbox spools and kpop's mbox delivery. */
#ifndef KP_DOTLOCK_H
#define KP_DOTLOCK_H

#include <limits.h>

struct kp_dotlock {
	char path[PATH_MAX];     /* FILE.lock */
	int held;
};

/* Take FILE.lock: a unique file FILE.lock.PID.HOST holding "PID TAG\n" (the pid
 * first, as liblockfile writes it, so that its stale check reads ours) is link()ed
 * to FILE.lock, and the unique file's link count decides, since over NFS link's
 * answer may be lost.  A lock older than KP_DOTLOCK_STALE_SEC is stale and
 * removed, and so is one whose body dead_holder (may be NULL) says was left by a
 * holder that died.  Up to tries attempts, one second apart.
 * Returns 0 (held: release it with kp_dotlock_release), KP_E_INUSE (somebody
 * else's lock stayed), KP_E_TOOLONG (the path does not fit) or KP_E_IO (the
 * directory does not let us create the lock; errno is kept). */
int kp_dotlock_take(struct kp_dotlock *l, const char *file, const char *tag, int tries,
		    int (*dead_holder)(const char *body));

/* Remove the lock if held; idempotent. */
void kp_dotlock_release(struct kp_dotlock *l);

#endif
