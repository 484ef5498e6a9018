/* proctitle.c - process titles for ps. */
#include "config.h"
#include "server/proctitle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *area;      /* argv[0] .. the end of the last contiguous string */
static size_t area_len;
/* The environment moved to the heap, kept for the life of the process: setenv()
 * overwrites entries of environ in place or replaces the array, and the strings
 * and array it dropped would otherwise be unreachable (valgrind: definitely lost).
 * A copy of the pointers, then; volatile: nothing reads it, and the compiler must
 * not drop the store. */
static char **volatile moved_env;

void
kp_proctitle_init(int argc, char **argv)
{
	char *end, **env;
	int i, n;

	/* the name ps -o comm and top show (the title goes in the arguments below):
	 * the same for every role, so set once */
	(void)prctl(PR_SET_NAME, "kpopd", 0, 0, 0);
	if (argc < 1 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		;
	/* the environment strings usually follow argv: move them to the heap so that
	 * the whole stretch can hold the title */
	env = calloc((size_t)n + 1, sizeof(*env));
	if (env == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		if ((env[i] = strdup(environ[i])) == NULL) {
			/* keep the old environment; the title stays short */
			while (i-- > 0)
				free(env[i]);
			free(env);
			return;
		}
	}
	moved_env = calloc((size_t)n + 2, sizeof(*env));
	if (moved_env != NULL) {
		memcpy(moved_env, env, ((size_t)n + 1) * sizeof(*env));
		moved_env[n + 1] = (char *)env;
	}
	environ = env;
	area = argv[0];
	area_len = (size_t)(end - area);
	for (i = 1; i < argc; i++)
		argv[i] = NULL; /* nobody may read the old arguments any more */
}

void
kp_proctitle(const char *fmt, ...)
{
	char title[256];
	va_list ap;
	int n;

	n = snprintf(title, sizeof(title), "kpopd: ");
	va_start(ap, fmt);
	vsnprintf(title + n, sizeof(title) - (size_t)n, fmt, ap);
	va_end(ap);
	if (area == NULL || area_len < 2)
		return;
	memset(area, 0, area_len);
	memcpy(area, title, strlen(title) < area_len - 1 ? strlen(title) : area_len - 1);
}
