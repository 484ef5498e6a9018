/* mbox.h - a classic mbox spool (/var/mail/USER) as a POP3 maildrop: the backend
 * behind maildrop.h when the maildrop is a regular file (see maildrop.c). */
#ifndef KP_MBOX_H
#define KP_MBOX_H

#include <stddef.h>
#include <sys/types.h>
#include "kp_io.h"

struct kp_mbox;

/* Open the spool at path, which must be a regular file owned by owner (a symlink,
 * anything else or somebody else's file: KP_E_AUTH), lock it for the session
 * (fcntl, plus a dotlock PATH.lock when the directory lets us create one) and
 * split it into messages on From_ lines, at most max of them (the oldest).  A
 * missing spool is an empty maildrop.  Returns 0 and sets *mb_out, or KP_E_INUSE,
 * KP_E_AUTH, KP_E_NOMEM, KP_E_IO (not an mbox: the file does not start with a
 * From_ line). */
int kp_mbox_open(const char *path, uid_t owner, unsigned long max, struct kp_mbox **mb_out);

/* The rest mirror kp_maildrop_*: see maildrop.h for each contract. */
unsigned long kp_mbox_found(const struct kp_mbox *mb);
unsigned long kp_mbox_count(const struct kp_mbox *mb);
void kp_mbox_stat(const struct kp_mbox *mb, unsigned long *count_out,
		  unsigned long long *octets_out);
unsigned long long kp_mbox_size(const struct kp_mbox *mb, unsigned long n);
const char *kp_mbox_uidl(const struct kp_mbox *mb, unsigned long n);
int kp_mbox_deleted(const struct kp_mbox *mb, unsigned long n);
void kp_mbox_mark(struct kp_mbox *mb, unsigned long n);
void kp_mbox_unmark_all(struct kp_mbox *mb);
int kp_mbox_send(struct kp_mbox *mb, unsigned long n, long body_lines, struct kp_io *io,
		 int (*before)(void *arg), void *arg, unsigned long long *octets_out);

/* UPDATE: compact the spool in place under the lock (kept messages and anything
 * appended since open shifted down, ftruncate, fsync).  Returns 0 or KP_E_IO (the
 * spool changed under us in a way we do not understand: nothing was written, or
 * a write failed). */
int kp_mbox_commit(struct kp_mbox *mb, unsigned long *removed_out);

/* Where kpopd keeps the spool's state (server/mdstate.c): PATH.kpopd-state next to
 * the spool, as the dotlock and the journal are.  Returns the directory's
 * descriptor (owned by mb) with the name in *name_out, or -1 (no spool, so no
 * lock held; or the directory cannot be opened). */
int kp_mbox_state_at(struct kp_mbox *mb, const char **name_out);

/* Where the UPDATE journal goes when the spool's directory does not let the user
 * create files (kpopd.conf mbox_journal_dir); NULL or "": nowhere else.  Set
 * before kp_mbox_open. */
void kp_mbox_set_journal_dir(const char *dir);

/* Unlock (dotlock removed) and free; nothing is changed in the spool. */
void kp_mbox_close(struct kp_mbox *mb);

/* Take the session's fcntl lock on fd again before UPDATE (shared storage may
 * have lost it).  0, or -1 after logging: delete nothing. */
int kp_relock(int fd);

#endif
