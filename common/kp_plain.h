/* kp_plain.h - the SASL PLAIN message (RFC 4616): [authzid] NUL authcid NUL passwd,
 * parsed strictly into bounded, NUL-terminated fields. */
#ifndef KP_PLAIN_H
#define KP_PLAIN_H

#include <stddef.h>
#include "kp_limits.h"

/* The caps are those of the IPC PASSWORD request the fields go into. */
struct kp_plain {
	char authzid[KP_NAME_MAX];           /* "" if the client sent none */
	char authcid[KP_NAME_MAX];
	char password[KP_IPC_PASSWORD_MAX];  /* a secret: wipe the struct after use */
};

/* Parse msg/len (the decoded client response).  Exactly two NULs separate the
 * three fields; authcid and password must not be empty.  Returns 0 with *out
 * filled; KP_E_SYNTAX (fewer than two NULs, an empty authcid or password),
 * KP_E_NUL (a third NUL: inside the password), KP_E_TOOBIG (a field longer than
 * its array holds).  out is zeroed on entry and wiped again on failure; the caller
 * wipes it (explicit_bzero) when done. */
int kp_plain_parse(const void *msg, size_t len, struct kp_plain *out);

#endif
