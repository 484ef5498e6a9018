/* maildrop.h - one user's Maildir or mbox spool as a POP3 maildrop: locked for the
 * session, messages numbered at open, deletions only marked until commit (UPDATE). */
#ifndef KP_MAILDROP_H
#define KP_MAILDROP_H

#include <stddef.h>
#include <sys/types.h>
#include "kp_io.h"

struct kp_maildrop;

/* Path prefixes that choose the backend; without one a regular file is an mbox
 * spool (mbox.h) and anything else a Maildir. */
#define KP_MAILBOX_MBOX "mbox:"
#define KP_MAILBOX_MAILDIR "maildir:"

/* Open the Maildir at path (new/ and cur/), take the session lock and number the
 * messages (oldest first), at most max of them: past max the oldest max are served.
 * The caller already runs as the maildrop's user: the opened directory must be
 * owned by owner (else KP_E_AUTH), new/ and cur/ must be directories, not links.
 * A missing Maildir is an empty maildrop.  path may start with KP_MAILBOX_MBOX or
 * KP_MAILBOX_MAILDIR; an mbox spool follows kp_mbox_open's rules.  Returns 0 and
 * sets *md_out, or KP_E_INUSE (another session holds it), KP_E_AUTH, KP_E_NOMEM, KP_E_IO. */
int kp_maildrop_open(const char *path, uid_t owner, unsigned long max,
		     struct kp_maildrop **md_out);

/* Messages found at open, including those beyond max that are not served. */
unsigned long kp_maildrop_found(const struct kp_maildrop *md);

/* Number of messages at open, deleted ones included (message numbers are 1..count). */
unsigned long kp_maildrop_count(const struct kp_maildrop *md);

/* Messages not marked deleted and their total size in octets. */
void kp_maildrop_stat(const struct kp_maildrop *md, unsigned long *count_out,
		      unsigned long long *octets_out);

/* Size as transmitted (CRLF line ends, before dot-stuffing), the unique-id, and
 * whether it is marked deleted.  n is 1-based and must be <= count. */
unsigned long long kp_maildrop_size(const struct kp_maildrop *md, unsigned long n);
const char *kp_maildrop_uidl(const struct kp_maildrop *md, unsigned long n);
int kp_maildrop_deleted(const struct kp_maildrop *md, unsigned long n);

/* When message n arrived: a Maildir file's mtime; 0 for an mbox spool, which
 * records no delivery time. */
time_t kp_maildrop_mtime(const struct kp_maildrop *md, unsigned long n);

/* Where kpopd keeps its small state file for this maildrop (server/mdstate.c): a
 * directory descriptor owned by md and the file's name in it (the Maildir's
 * .kpopd.state; an mbox spool's PATH.kpopd-state), or -1 when the maildrop has
 * none (no Maildir or spool yet). */
int kp_maildrop_state_at(struct kp_maildrop *md, const char **name_out);

/* Mark / unmark. */
void kp_maildrop_mark(struct kp_maildrop *md, unsigned long n);
void kp_maildrop_unmark_all(struct kp_maildrop *md);

/* Stream message n to io, dot-stuffed with CRLF line ends and the final ".CRLF";
 * body_lines < 0 sends everything (RETR), >= 0 the header and that many body lines
 * (TOP).  Returns 0, KP_E_NOTFOUND (the file vanished: nothing was written), or
 * another KP_E_* (a read error, or the write error, e.g. KP_E_TIMEOUT when the peer
 * stopped reading) after the reply may have started: the caller must drop the
 * connection. *octets_out: message bytes read from the file. */
int kp_maildrop_send(struct kp_maildrop *md, unsigned long n, long body_lines,
		     struct kp_io *io, int (*before)(void *arg), void *arg,
		     unsigned long long *octets_out);

/* UPDATE state: remove the marked messages and sync the directories.  Returns 0 or
 * KP_E_IO (some could not be removed); *removed_out counts the removed ones. */
int kp_maildrop_commit(struct kp_maildrop *md, unsigned long *removed_out);

/* Release the lock and memory without removing anything. */
void kp_maildrop_close(struct kp_maildrop *md);

#endif
