/* deliver.h - storing fetched messages durably: Maildir, mbox or standard output.
 * A message counts as stored only after commit returned 0: only then may the
 * client send DELE for it. */
#ifndef KP_DELIVER_H
#define KP_DELIVER_H

#include <stddef.h>
#include <sys/types.h>

enum sink_kind { SINK_MAILDIR, SINK_MBOX, SINK_STDOUT };

struct sink {
	enum sink_kind kind;
	char path[4096];       /* Maildir directory or mbox file */
	int fd;                /* the message being written (Maildir tmp file, mbox) */
	int dirfd;             /* Maildir root */
	char tmpname[512];     /* Maildir: name in tmp/ */
	off_t mbox_start;      /* mbox: size before this message, for rollback */
	int mbox_lockfd;       /* mbox: the dotlock held during the session */
	int bol;               /* at beginning of a line (mbox From quoting) */
	int last_nl;           /* last byte written was LF */
	/* mbox: the start of a line held back until "From " decides: the run of '>'
	 * only counted (any length), then at most the 5 bytes of "From " */
	unsigned long long ngt;
	char pend[5];
	size_t npend;
	unsigned long counter;
	int err;               /* sticky error of the current message */
};

/* Open the destination (creating a Maildir's tmp/ new/ cur/ as needed; locking an
 * mbox for the whole session).  Prints the reason and returns -1 on failure. */
int sink_open(struct sink *s, enum sink_kind kind, const char *path);

/* Start, fill and finish one message.  sink_commit makes it durable (fsync of the
 * file and the directory, or fsync of the mbox) and returns 0; on any failure it
 * rolls back (removes the tmp file, truncates the mbox) and returns -1. */
int sink_begin(struct sink *s);
int sink_write(struct sink *s, const char *data, size_t n);
int sink_commit(struct sink *s);
void sink_abort(struct sink *s);

void sink_close(struct sink *s);

#endif
