/* fsynccount.c - LD_PRELOAD shim for tests: appends "dir" or "file" to the file
 * named by KP_FSYNC_LOG for every fsync() call, then does the real fsync. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fsync(int fd)
{
	static int (*real)(int);
	const char *log = getenv("KP_FSYNC_LOG");
	struct stat st;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (log != NULL && fstat(fd, &st) == 0) {
		int l = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		const char *what = S_ISDIR(st.st_mode) ? "dir\n" : "file\n";

		if (l >= 0) {
			(void)!write(l, what, strlen(what));
			close(l);
		}
	}
	return real(fd);
}
