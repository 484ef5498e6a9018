/* state.h - which messages of an account are already stored: the UIDL state file.
 *
 * One file per account, "kpop-state 1 IDENT" then one unique id a line.  A unique
 * id enters the file only after its message was durably stored (state_add, an
 * append of one whole line), so the file never makes kpop skip a message that is
 * not stored; a fetch killed at any point leaves a valid file.  state_save rewrites
 * it atomically (temp file, fsync, rename, fsync of the directory).  A torn last
 * line, a line that is not a valid unique id, or a file for another IDENT only costs
 * duplicates: it is never read as "stored". */
#ifndef KP_STATE_H
#define KP_STATE_H

#include <stddef.h>

struct state {
	char path[4096];
	char ident[600];     /* who the unique ids belong to: user@host:port */
	char **slot;         /* hash set of owned strings; NULL = empty slot */
	size_t cap, n;
	int fd;              /* O_APPEND, for state_add */
	int lockfd;          /* PATH.lock, flock'ed while the state is open */
};

/* Is this a unique id as RFC 1939 allows (1-70 octets 0x21-0x7E)?  Others are
 * never recorded, and their messages are always fetched. */
int state_uidl_ok(const char *uidl);

/* The default file for a key: $XDG_STATE_HOME/kpop/KEY or ~/.local/state/kpop/KEY
 * (directories created, mode 0700).  KEY is made safe for a file name.  Returns 0
 * or KP_E_TOOBIG / KP_E_IO (printed). */
int state_default_path(const char *key, char *out, size_t cap);

/* Lock and load path (a missing file is an empty state).  KP_E_INUSE when another
 * kpop holds it; other errors are printed.  On failure nothing needs closing. */
int state_open(struct state *st, const char *path, const char *ident);

int state_has(const struct state *st, const char *uidl);

/* Record a durably stored message.  0, or KP_E_* if the line could not be
 * appended (printed; it is still kept in memory for state_save). */
int state_add(struct state *st, const char *uidl);

/* Drop every id for which keep(arg, uidl) returns 0, then rewrite the file
 * atomically.  keep NULL: keep all (compaction). */
int state_save(struct state *st, int (*keep)(void *arg, const char *uidl), void *arg);

void state_close(struct state *st);

#endif
