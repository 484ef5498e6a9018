/* kp_dot.c - streaming POP3 multi-line encoding (dot-stuffing, CRLF) and decoding. */
#include "config.h"
#include "kp_dot.h"

#include <string.h>

void
kp_stuff_init(struct kp_stuff *s, long body_lines)
{
	memset(s, 0, sizeof(*s));
	s->bol = 1;
	s->line_empty = 1;
	s->body_lines = body_lines;
}

/* A line ended: count it for TOP. */
static void
end_of_line(struct kp_stuff *s)
{
	if (!s->in_body) {
		if (s->line_empty) {
			s->in_body = 1;
			if (s->body_lines == 0)
				s->done = 1;
		}
	} else if (s->body_lines > 0 && --s->body_lines == 0) {
		s->done = 1;
	}
	s->bol = 1;
	s->cr = 0;
	s->line_empty = 1;
}

size_t
kp_stuff_chunk(struct kp_stuff *s, const char *in, size_t n, char *out0)
{
	const char *p = in, *end = in + n;
	char *out = out0;

	while (p < end && !s->done) {
		const char *nl;
		size_t len;

		if (s->bol && *p == '.')
			*out++ = '.';
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (len > 0) {
			memcpy(out, p, len);
			out += len;
			if (s->line_empty && !(len == 1 && p[0] == '\r'))
				s->line_empty = 0;
			s->cr = p[len - 1] == '\r';
			s->bol = 0;
			p += len;
		}
		if (nl == NULL)
			break;
		if (!s->cr)
			*out++ = '\r';
		*out++ = '\n';
		p++;
		end_of_line(s);
	}
	return (size_t)(out - out0);
}

size_t
kp_stuff_finish(struct kp_stuff *s, char *out0)
{
	char *out = out0;

	if (!s->done && !s->bol) {
		/* unterminated last line: end it (a trailing CR only needs its LF) */
		if (!s->cr)
			*out++ = '\r';
		*out++ = '\n';
	}
	memcpy(out, ".\r\n", 3);
	out += 3;
	s->done = 1;
	return (size_t)(out - out0);
}

void
kp_wire_size_init(struct kp_wire_size *w)
{
	w->size = 0;
	w->cr = 0;
	w->bol = 1;
}

void
kp_wire_size_feed(struct kp_wire_size *w, const char *in, size_t n)
{
	const char *p = in, *end = in + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len;

		if (nl == NULL) {
			w->size += (unsigned long long)(end - p);
			w->cr = end[-1] == '\r';
			w->bol = 0;
			return;
		}
		len = (size_t)(nl - p);
		if (len > 0)
			w->cr = nl[-1] == '\r';
		w->size += len + 1 + (w->cr ? 0 : 1);
		w->cr = 0;
		w->bol = 1;
		p = nl + 1;
	}
}

unsigned long long
kp_wire_size_end(struct kp_wire_size *w)
{
	if (!w->bol)
		w->size += w->cr ? 1 : 2;
	w->bol = 1;
	w->cr = 0;
	return w->size;
}

enum { U_BOL, U_DOT, U_DOT_CR, U_MID, U_CR };

void
kp_unstuff_init(struct kp_unstuff *u, int crlf_to_lf)
{
	u->state = U_BOL;
	u->crlf_to_lf = crlf_to_lf;
	u->done = 0;
}

int
kp_unstuff_feed(struct kp_unstuff *u, const char *in, size_t n, size_t *used_out, char *out0,
		size_t *outlen_out)
{
	char *out = out0;
	size_t i = 0;

	while (i < n && !u->done) {
		char c = in[i++];

		switch (u->state) {
		case U_BOL:
			if (c == '.') {
				u->state = U_DOT;
				continue;
			}
			break;
		case U_DOT:
			if (c == '\r') {
				u->state = U_DOT_CR;
				continue;
			}
			if (c == '\n') {
				u->done = 1; /* ".LF": tolerated terminator */
				continue;
			}
			break; /* a stuffed dot: drop it, keep c */
		case U_DOT_CR:
			if (c == '\n') {
				u->done = 1;
				continue;
			}
			*out++ = '\r';
			break;
		case U_CR:
			if (c == '\n') {
				if (!u->crlf_to_lf)
					*out++ = '\r';
				*out++ = '\n';
				u->state = U_BOL;
				continue;
			}
			*out++ = '\r';
			break;
		default:
			break;
		}
		/* c inside a line */
		if (c == '\r') {
			u->state = U_CR;
		} else if (c == '\n') {
			*out++ = '\n';
			u->state = U_BOL;
		} else {
			*out++ = c;
			u->state = U_MID;
			/* fast path: copy the rest of the line's plain bytes */
			while (i < n && in[i] != '\r' && in[i] != '\n')
				*out++ = in[i++];
		}
	}
	*used_out = i;
	*outlen_out = (size_t)(out - out0);
	return u->done;
}
