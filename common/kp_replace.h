/* kp_replace.h - a file replaced whole: no reader (on any node of a farm sharing the
 * directory, or after a crash) ever sees half of it.  It is written to a hidden
 * temporary beside it, named after the host and the process, then flushed,
 * fsynced and renamed over the old one; the directory is fsynced where the new
 * name must survive a crash too. */
#ifndef KP_REPLACE_H
#define KP_REPLACE_H

#include <limits.h>
#include <stdio.h>

struct kp_replace {
	int dirfd;
	const char *name;
	FILE *f;
	char tmp[NAME_MAX + 1];
};

/* Create the temporary for name in dirfd (mode 0600, not through a link).  Returns
 * the stream to write, or NULL with errno set (nothing to clean up). */
FILE *kp_replace_begin(struct kp_replace *r, int dirfd, const char *name);

/* Make the written file name's content: fflush, fsync, close, rename, then fsync
 * the directory if sync_dir.  0, or -1 with errno set: the temporary is gone and
 * the old file (if any) stays. */
int kp_replace_commit(struct kp_replace *r, int sync_dir);

/* Give up: close and remove the temporary. */
void kp_replace_abort(struct kp_replace *r);

#endif
