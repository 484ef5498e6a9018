/* account.h - kpop's settings: one keyword table for the config file and the
 * command line, accounts, and the config file reader. */
#ifndef KP_CLIENT_ACCOUNT_H
#define KP_CLIENT_ACCOUNT_H

#include <stddef.h>
#include <stdio.h>
#include "client/deliver.h"

/* Longest account name; names are [A-Za-z0-9._-]. */
#define ACCOUNT_NAME_MAX 64
/* Most accounts in one config file (each costs one connection per run). */
#define ACCOUNTS_MAX 256

/* One account's settings.  Strings are owned (freed by account_free). */
struct account {
	char name[ACCOUNT_NAME_MAX + 1];   /* "" for the one given by -H alone */
	char *host, *port, *auth, *user, *service, *starttls, *cafile, *layer;
	char *state;                       /* the state file; NULL: the default */
	char *dest;                        /* Maildir, mbox file or MDA command */
	int deliver;                       /* enum sink_kind, or -1: none given */
	int deliver_where;                 /* section (or -1 = command line) that set it */
	int tls, del, from_line;
	unsigned long long max_size;       /* 0: no limit */
	unsigned long long timeout;
};

/* Defaults: port by TLS mode, service pop, auth gssapi, starttls opportunistic,
 * no layer, timeout 60, keep. */
void account_init(struct account *a);
void account_copy(struct account *dst, const struct account *src);
void account_free(struct account *a);

/* Set keyword to value (value NULL for a flag given on the command line).
 * section tells which part set a delivery: two deliveries in one section are an
 * error, a later section replaces an earlier one.  Returns 0, or KP_E_CONFIG with
 * the reason in err. */
int account_set(struct account *a, const char *keyword, const char *value, int section,
		char *err, size_t errcap);

/* Is keyword a setting that takes a value (for the command line parser)? */
int config_keyword_takes_value(const char *keyword);

/* Print every keyword with its hint (kpop -h). */
void config_print_keywords(FILE *f);

/* Read path.  Lines are "keyword value", "defaults" or "account NAME", "#" starts
 * a comment.  Settings before the first "account" and after "defaults" are the
 * defaults of the accounts that follow.  On success *accts_out is an owned array
 * of *n_out accounts (and *defaults_out the defaults in force at the end, for a
 * command-line-only account).  Errors are printed as "FILE:LINE: reason" and
 * return KP_E_CONFIG; a missing file is KP_E_NOTFOUND (not printed). */
int config_read(const char *path, struct account **accts_out, size_t *n_out,
		struct account *defaults_out);

/* $XDG_CONFIG_HOME/kpop/config or ~/.config/kpop/config, into out. */
int config_default_path(char *out, size_t cap);

#endif
