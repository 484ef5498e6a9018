/* policy.c - a user's RFC 2449 LOGIN-DELAY and EXPIRE: global, or from policy_file. */
#include "config.h"
#include "server/authd/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kp_err.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"

static uint32_t
expire_wire(int days)
{
	return days == KP_CONF_EXPIRE_NEVER ? KP_IPC_EXPIRE_NEVER : (uint32_t)days;
}

/* Apply the "key=value" words after the user name to *out.  0 or KP_E_SYNTAX. */
static int
apply_words(char *p, struct kp_policy *out)
{
	char *w, *save = NULL, *eq;
	int v;

	for (w = strtok_r(p, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		eq = strchr(w, '=');
		if (eq == NULL)
			return KP_E_SYNTAX;
		*eq++ = '\0';
		if (strcmp(w, "login_delay") == 0 && kp_conf_parse_login_delay(eq, &v) == 0)
			out->login_delay = (uint32_t)v;
		else if (strcmp(w, "expire_days") == 0 && kp_conf_parse_expire(eq, &v) == 0)
			out->expire_days = expire_wire(v);
		else
			return KP_E_SYNTAX;
	}
	return 0;
}

int
kp_policy_for(const struct kp_conf *c, const char *user, struct kp_policy *out, char *why,
	      size_t whycap)
{
	char line[KP_CONF_LINE_MAX + 2];
	struct kp_policy pol;
	int lineno = 0, found = 0, rc = 0;
	FILE *f;

	out->login_delay = (uint32_t)c->login_delay;
	out->expire_days = expire_wire(c->expire_days);
	if (whycap > 0)
		why[0] = '\0';
	if (c->policy_file == NULL)
		return 0;
	f = fopen(c->policy_file, "r");
	if (f == NULL) {
		snprintf(why, whycap, "policy_file %s: %s", c->policy_file, strerror(errno));
		return KP_E_CONFIG;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *name;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(why, whycap, "policy_file %s:%d: line longer than %d characters",
				 c->policy_file, lineno, KP_CONF_LINE_MAX);
			rc = KP_E_CONFIG;
			break;
		}
		p[strcspn(p, "\r\n")] = '\0';
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\0')
			continue;
		name = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		pol = *out;
		if (apply_words(p, &pol) != 0) {
			snprintf(why, whycap, "policy_file %s:%d: expected \"user [login_delay="
				 "SECONDS] [expire_days=DAYS|never]\"", c->policy_file, lineno);
			rc = KP_E_CONFIG;
		} else if (!found && strcmp(name, user) == 0) {
			/* the first line for the user wins; the rest is still checked */
			*out = pol;
			found = 1;
		}
	}
	fclose(f);
	if (rc != 0) {
		out->login_delay = (uint32_t)c->login_delay;
		out->expire_days = expire_wire(c->expire_days);
	}
	return rc;
}
