/* sancanary.c - the proof that make check-sanitizers hears from child processes
 * (tests/lib/sanitizer-check.sh --canary): a forked child that, like kpopd's
 * workers, has dropped root (to nobody, when run as root) makes one mistake of the
 * kind named and exits normally; its sanitizer report must land in the log
 * directory.  Usage: sancanary leak|overflow|undefined.  Exit 0 once the child is
 * reaped (whatever its status: the report is what is checked).  In a build without
 * sanitizers the mistakes are harmless: nothing is read or written out of bounds
 * except under ASan's eyes, and the leak is freed by the exit. */
#include "config.h"

#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;
static char *volatile keep; /* the leaked block passes through here, so no compiler drops it */

/* In a function of its own: once it returns no live stack slot of main still holds
 * the pointer, which LeakSanitizer would count as a reference. */
__attribute__((noinline)) static void lose(size_t n)
{
	char *p = malloc(n);
	if (p != NULL)
		memset(p, 'x', n);
	keep = p;
	keep = NULL; /* lost: LeakSanitizer reports n bytes at exit */
}

static void drop(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0) {
		perror("sancanary: dropping root");
		_exit(2);
	}
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	pid_t pid = fork();
	if (pid < 0) {
		perror("sancanary: fork");
		return 1;
	}
	if (pid == 0) {
		drop();
		if (strcmp(what, "leak") == 0) {
			lose(77);
		} else if (strcmp(what, "overflow") == 0) {
			char *p = malloc(16);
			volatile size_t i = 16;
			if (p != NULL) {
				memset(p, 0, 16);
				sink = p[i]; /* one past the end: heap-buffer-overflow */
				free(p);
			}
		} else if (strcmp(what, "undefined") == 0) {
			volatile int big = INT_MAX;
			sink = big + argc; /* signed overflow */
		} else {
			fprintf(stderr, "usage: sancanary leak|overflow|undefined\n");
			_exit(1);
		}
		exit(0);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid) {
		perror("sancanary: waitpid");
		return 1;
	}
	return 0;
}
