/* kp_dot.h - streaming POP3 multi-line encoding: dot-stuffing with CRLF line ends
 * (server) and un-stuffing up to the terminating ".CRLF" (client). */
#ifndef KP_DOT_H
#define KP_DOT_H

#include <stddef.h>

/* Encoder: message bytes in (LF or CRLF line ends), wire bytes out: bare LF becomes
 * CRLF, a line starting with '.' gets another '.', CR not followed by LF is passed
 * through.  With a body line limit (TOP) the encoder stops after the header, the
 * empty line and that many body lines. */
struct kp_stuff {
	int bol;            /* at beginning of a line */
	int cr;             /* previous byte was CR */
	int in_body;        /* past the empty line after the header */
	long body_lines;    /* body lines still allowed; < 0 = unlimited */
	int done;           /* TOP limit reached: further input is ignored */
	int line_empty;     /* current line so far has no bytes (header end detection) */
};

/* body_lines < 0 for RETR (everything), >= 0 for TOP n. */
void kp_stuff_init(struct kp_stuff *s, long body_lines);

/* Encode n input bytes into out, which must hold 2 * n + 2 bytes.  Returns the
 * number of bytes written.  After s->done is set the rest of the input is ignored. */
size_t kp_stuff_chunk(struct kp_stuff *s, const char *in, size_t n, char *out);

/* End of message: CRLF if the last line was unterminated, then ".\r\n".  out must
 * hold 5 bytes.  Returns bytes written. */
size_t kp_stuff_finish(struct kp_stuff *s, char *out);

/* Size in octets of the message as sent before dot-stuffing: every bare LF counted
 * as CRLF, plus CRLF if the last line is unterminated.  Feed the file in chunks. */
struct kp_wire_size { unsigned long long size; int cr; int bol; };
void kp_wire_size_init(struct kp_wire_size *w);
void kp_wire_size_feed(struct kp_wire_size *w, const char *in, size_t n);
unsigned long long kp_wire_size_end(struct kp_wire_size *w);

/* Decoder: wire bytes in, message bytes out.  A leading ".." becomes ".", the line
 * ".CRLF" (or ".LF") ends the message.  crlf_to_lf converts CRLF line ends to LF. */
struct kp_unstuff {
	int state;
	int crlf_to_lf;
	int done;
};
void kp_unstuff_init(struct kp_unstuff *u, int crlf_to_lf);

/* Decode up to n input bytes into out (must hold n + 2 bytes).  Consumes input up to
 * and including the terminating line and no further: *used_out tells how much was
 * consumed, *outlen_out how much was produced.  Returns 1 when the terminator was
 * consumed (u->done is set), 0 if more input is needed. */
int kp_unstuff_feed(struct kp_unstuff *u, const char *in, size_t n, size_t *used_out,
		    char *out, size_t *outlen_out);

#endif
