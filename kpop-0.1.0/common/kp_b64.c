/* kp_b64.c - RFC 4648 base64 with strict decoding. */
#include "config.h"
#include "kp_b64.h"

#include "kp_err.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
kp_b64_encode(const void *in, size_t n, char *out, size_t cap, size_t *len_out)
{
	const unsigned char *p = in;
	size_t need = ((n + 2) / 3) * 4, i, o = 0;

	if (len_out != NULL)
		*len_out = 0;
	if (need + 1 > cap)
		return KP_E_TOOBIG;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = ((unsigned)p[i] << 16) | ((unsigned)p[i + 1] << 8) | p[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	if (len_out != NULL)
		*len_out = o;
	return 0;
}

static int
val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
kp_b64_decode(const char *in, size_t n, void *out, size_t cap, size_t *len_out)
{
	unsigned char *o = out;
	size_t i, len = 0;

	*len_out = 0;
	if (n % 4 != 0)
		return KP_E_SYNTAX;
	for (i = 0; i < n; i += 4) {
		const unsigned char *q = (const unsigned char *)in + i;
		int a = val(q[0]), b = val(q[1]), c = val(q[2]), d = val(q[3]);
		int last = i + 4 == n;
		unsigned v;

		if (a < 0 || b < 0)
			return KP_E_SYNTAX;
		if (c < 0 || d < 0) {
			/* padding: only in the last quantum, "x=" or "==" */
			if (!last || q[3] != '=' || (c < 0 && q[2] != '='))
				return KP_E_SYNTAX;
		}
		v = ((unsigned)a << 18) | ((unsigned)b << 12);
		if (c >= 0)
			v |= (unsigned)c << 6;
		if (d >= 0)
			v |= (unsigned)d;
		if (c < 0) {
			if (v & 0xffff) /* unused bits must be zero */
				return KP_E_SYNTAX;
			if (len + 1 > cap)
				return KP_E_TOOBIG;
			o[len++] = (unsigned char)(v >> 16);
		} else if (d < 0) {
			if (v & 0xff)
				return KP_E_SYNTAX;
			if (len + 2 > cap)
				return KP_E_TOOBIG;
			o[len++] = (unsigned char)(v >> 16);
			o[len++] = (unsigned char)(v >> 8);
		} else {
			if (len + 3 > cap)
				return KP_E_TOOBIG;
			o[len++] = (unsigned char)(v >> 16);
			o[len++] = (unsigned char)(v >> 8);
			o[len++] = (unsigned char)v;
		}
	}
	*len_out = len;
	return 0;
}
