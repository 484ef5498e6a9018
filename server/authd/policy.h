/* policy.h - whose RFC 2449 LOGIN-DELAY and EXPIRE apply to a user: the global
 * login_delay and expire_days, or the user's line in policy_file.  The auth
 * service decides it and sends it in the verdict. */
#ifndef KP_POLICY_H
#define KP_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "server/conf.h"

struct kp_policy {
	uint32_t login_delay;  /* seconds */
	uint32_t expire_days;  /* days, or KP_IPC_EXPIRE_NEVER */
};

/* The policy of user.  policy_file: "user [login_delay=S] [expire_days=N|never]"
 * per line, '#' comments, the first line for the user wins and a setting it does
 * not name is the global one.  The whole file is checked on every lookup: an
 * unreadable file, an over-long line or a bad setting anywhere returns KP_E_CONFIG
 * with the place in why (the login is refused: no policy nobody set is applied),
 * else 0 with *out filled. */
int kp_policy_for(const struct kp_conf *c, const char *user, struct kp_policy *out,
		  char *why, size_t whycap);

#endif
