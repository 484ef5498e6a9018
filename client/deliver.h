/* deliver.h - storing fetched messages durably: Maildir, mbox, an MDA or stdout.
 * A message counts as stored only after sink_commit returned 0 and, for a Maildir,
 * sink_sync returned 0 after it: only then may the client record it or send DELE. */
#ifndef KP_DELIVER_H
#define KP_DELIVER_H

#include <stddef.h>
#include <sys/types.h>

#include "kp_dotlock.h"
#include "kp_limits.h"

/* The header bytes held back before an mbox From_ line or an MDA's %f can be
 * written: the envelope sender is the Return-Path header, which MTAs put first.
 * 64 KiB covers any real header block (long Received chains); past it, the sender
 * is the fallback and the held bytes go out unchanged. */
#define SINK_HOLD_MAX (64 * 1024)

/* Maildir: committed messages held in tmp/ (open, being fsynced by helper threads)
 * until sink_sync makes the batch durable; one pipelined window of them. */
#define SINK_BATCH_MAX KP_PIPELINE_WINDOW

/* The envelope sender used when a message has no usable Return-Path. */
#define SINK_SENDER_FALLBACK "kpop@localhost"

enum sink_kind { SINK_MAILDIR, SINK_MBOX, SINK_MDA, SINK_STDOUT };

struct sink_conf {
	enum sink_kind kind;
	const char *path;      /* Maildir directory, mbox file, or the MDA command line */
	const char *user;      /* the MDA's %u: the local user */
	int from_line;         /* MDA: write an mbox From_ line first */
};

/* sink_commit's result when the MDA said EX_TEMPFAIL (75): not stored, try later. */
#define SINK_DEFERRED 1

struct sink {
	enum sink_kind kind;
	char path[4096];       /* Maildir directory, mbox file, MDA command */
	char user[256];
	int from_line;         /* write a From_ line (mbox, stdout; MDA if asked) */
	int quote;             /* mboxrd quoting of ^>*From  lines (mbox, stdout) */
	int fd;                /* the message being written (Maildir tmp file, mbox, MDA spool) */
	int dirfd;             /* Maildir root */
	int newfd;             /* Maildir new/, for the batched fsync */
	int unsynced;          /* Maildir: committed messages waiting in tmp/ for sink_sync */
	int batch_fd[SINK_BATCH_MAX];      /* ... their open files */
	char batch_name[SINK_BATCH_MAX][256]; /* ... and names in tmp/ */
	struct sink_syncer *syncer; /* Maildir: the fsync threads (NULL: fsync in sink_sync) */
	char tmpname[256];     /* Maildir: name in tmp/ */
	off_t mbox_start;      /* mbox: size before this message, for rollback */
	struct kp_dotlock lock;/* mbox: FILE.lock, held from sink_begin to commit/abort */
	pid_t mda_pid;         /* the MDA of the current message */
	char **argv;           /* the MDA command, split into words (owned) */
	char *hold;            /* header bytes held back (SINK_HOLD_MAX) */
	size_t nhold;
	int holding;           /* still looking for the end of the header */
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

/* Split an MDA command into words ('...', "..." and \ quote; nothing else of the
 * shell).  Returns 0 and a NULL-terminated owned vector, or KP_E_SYNTAX. */
int sink_split_command(const char *cmd, char ***argv_out);

/* Open the destination (creating a Maildir's tmp/ new/ cur/ as needed).  Prints
 * the reason and returns -1 on failure. */
int sink_open(struct sink *s, const struct sink_conf *conf);

/* Start, fill and finish one message.  sink_commit returns 0 when the message is
 * stored (fsync of the mbox after its append under a dotlock and an fcntl lock, or
 * the MDA exited 0) or, for a Maildir, written to tmp/ and handed to the fsync
 * threads: sink_sync then makes the batch durable.  SINK_DEFERRED: the MDA asked to try
 * later.  -1: failure, said why and rolled back (tmp file removed, mbox truncated). */
int sink_begin(struct sink *s);
int sink_write(struct sink *s, const char *data, size_t n);
int sink_commit(struct sink *s);
void sink_abort(struct sink *s);

/* Make every committed message durable.  Maildir: wait for each file's fsync
 * (KP_SYNC_THREADS run them side by side, sharing journal commits), link it into
 * new/, then one fsync of new/.  0, or -1 (said why; the
 * whole batch counts as not stored, its files are removed). */
int sink_sync(struct sink *s);

void sink_close(struct sink *s);

#endif
