/* kp_err.c - English text for the KP_E_* error codes. */
#include "config.h"
#include "kp_err.h"

const char *
kp_strerror(int err)
{
	switch (err) {
	case KP_OK: return "success";
	case KP_E_NOMEM: return "out of memory";
	case KP_E_TOOBIG: return "limit exceeded";
	case KP_E_TOOLONG: return "line too long";
	case KP_E_NUL: return "NUL byte in line";
	case KP_E_EOF: return "connection closed by peer";
	case KP_E_TIMEOUT: return "timed out";
	case KP_E_IO: return "I/O error";
	case KP_E_PROTO: return "protocol violation";
	case KP_E_SYNTAX: return "syntax error";
	case KP_E_RANGE: return "out of range";
	case KP_E_AUTH: return "authentication failed";
	case KP_E_INUSE: return "mailbox in use";
	case KP_E_NOTFOUND: return "not found";
	case KP_E_CONFIG: return "configuration error";
	case KP_E_LAYER: return "security layer error";
	case KP_E_INTERNAL: return "internal error";
	default: return "unknown error";
	}
}
