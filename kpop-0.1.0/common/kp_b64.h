/* kp_b64.h - RFC 4648 base64, strict decoding. */
#ifndef KP_B64_H
#define KP_B64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, plus the terminating NUL. */
#define KP_B64_ENCLEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode n bytes into out (cap bytes, NUL-terminated).  Returns 0 or KP_E_TOOBIG. */
int kp_b64_encode(const void *in, size_t n, char *out, size_t cap, size_t *len_out);

/* Decode strictly: alphabet A-Z a-z 0-9 + /, length a multiple of 4, '=' only as
 * final padding, unused bits zero; no whitespace.  An empty string decodes to 0 bytes.
 * Returns 0, KP_E_SYNTAX (bad input) or KP_E_TOOBIG (output cap). */
int kp_b64_decode(const char *in, size_t n, void *out, size_t cap, size_t *len_out);

#endif
