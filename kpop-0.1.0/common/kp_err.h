/* kp_err.h - the error codes every kpop function returns (0 or a negative KP_E_*). */
#ifndef KP_ERR_H
#define KP_ERR_H

enum kp_err {
	KP_OK = 0,
	KP_E_NOMEM = -1,    /* allocation failed */
	KP_E_TOOBIG = -2,   /* a bounded buffer or a limit would be exceeded */
	KP_E_TOOLONG = -3,  /* an input line exceeded its cap; the line was drained */
	KP_E_NUL = -4,      /* an input line contained a NUL byte; the line was drained */
	KP_E_EOF = -5,      /* the peer closed the connection */
	KP_E_TIMEOUT = -6,  /* no input within the timeout */
	KP_E_IO = -7,       /* read/write/syscall error (errno is kept) */
	KP_E_PROTO = -8,    /* the peer broke the protocol */
	KP_E_SYNTAX = -9,   /* malformed argument (number, base64, config value) */
	KP_E_RANGE = -10,   /* well-formed but out of range */
	KP_E_AUTH = -11,    /* authentication or authorization failed */
	KP_E_INUSE = -12,   /* the maildrop is locked by another session */
	KP_E_NOTFOUND = -13,/* no such file, user or message */
	KP_E_CONFIG = -14,  /* bad configuration */
	KP_E_LAYER = -15,   /* TLS or SASL security layer failure */
	KP_E_INTERNAL = -16 /* a broken invariant inside kpop */
};

/* Static English text for a KP_E_* code; never NULL. */
const char *kp_strerror(int err);

#endif
