/* kp_ipc.h - IPC between kpopd's processes: one message per SOCK_SEQPACKET packet,
 * a field builder into a kp_buf, a strict field reader, descriptor passing. */
#ifndef KP_IPC_H
#define KP_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_limits.h"

/* Wire format (all integers big-endian):
 *   header   u32 type, u32 session id
 *   u32      4 bytes
 *   u64      8 bytes
 *   string   u32 length, then that many bytes: no NUL inside, none after
 *   bytes    u32 length, then that many bytes
 * A message is exactly its fields: nothing may follow the last one.  The message
 * set is in kp_ipc_msg.h; this file is the transport and the field codec. */
#define KP_IPC_HDR_LEN 8

/* --- transport ---------------------------------------------------------------- */

/* A connected AF_UNIX SOCK_SEQPACKET pair, both ends close-on-exec.
 * Returns 0 (sv_out filled) or KP_E_IO. */
int kp_ipc_pair(int sv_out[2]);

/* Send one message in one send(MSG_NOSIGNAL), EINTR retried.  Returns 0;
 * msg->err if the message was built with an error (nothing is sent);
 * KP_E_TOOBIG past KP_IPC_MSG_MAX; KP_E_INTERNAL if shorter than a header;
 * KP_E_EOF if the peer is gone (EPIPE, ECONNRESET); KP_E_TIMEOUT on EAGAIN
 * (SO_SNDTIMEO or a non-blocking socket); else KP_E_IO with errno kept. */
int kp_ipc_send(int fd, const struct kp_buf *msg);
/* n (1..KP_IPC_SENDV_MAX) messages in one system call (sendmmsg), in order: the
 * peer is woken once for all instead of running between them.  As kp_ipc_send. */
#define KP_IPC_SENDV_MAX 3
int kp_ipc_sendv(int fd, const struct kp_buf *const *m, int n);

/* The same with one descriptor attached (SCM_RIGHTS).  pass_fd stays open here:
 * the caller closes its copy. */
int kp_ipc_send_fd(int fd, const struct kp_buf *msg, int pass_fd);

/* Receive one message into buf, which must hold cap + 1 bytes (cap is normally
 * KP_IPC_MSG_MAX): a packet longer than cap is refused, never parsed truncated.
 * *len_out is 0 on entry, the message length on success.  Returns 0; KP_E_EOF
 * (peer closed; a 0-byte packet is read the same way, no message is that short);
 * KP_E_TOOBIG (packet longer than cap; it is consumed); KP_E_PROTO if the packet
 * carried descriptors (the kernel closed them); KP_E_TIMEOUT on EAGAIN; KP_E_IO. */
int kp_ipc_recv(int fd, void *buf, size_t cap, size_t *len_out);

/* Receive one message that carries exactly one descriptor.  *fd_out is -1 on
 * entry and, on success, the new descriptor (close-on-exec, owned by the caller).
 * Besides kp_ipc_recv's errors: KP_E_PROTO if the packet carried no descriptor,
 * more than one, or anything else in its control data; every descriptor that did
 * arrive is closed then. */
int kp_ipc_recv_fd(int fd, void *buf, size_t cap, size_t *len_out, int *fd_out);

/* --- building a message --------------------------------------------------------
 * Each put appends to b and returns 0 or the buffer's sticky error; a put after an
 * error does nothing, so a message can be built with unchecked puts and one check
 * of b->err (kp_ipc_send checks it too). */

int kp_ipc_put_hdr(struct kp_buf *b, uint32_t type, uint32_t sid);
int kp_ipc_put_u32(struct kp_buf *b, uint32_t v);
int kp_ipc_put_u64(struct kp_buf *b, uint64_t v);

/* s is a NUL-terminated string of at most cap bytes (strnlen(s, cap + 1) is all
 * that is read), else KP_E_TOOBIG. */
int kp_ipc_put_str(struct kp_buf *b, const char *s, size_t cap);

/* n bytes at p (p may be NULL when n is 0); n > cap is KP_E_TOOBIG. */
int kp_ipc_put_bytes(struct kp_buf *b, const void *p, size_t n, size_t cap);

/* --- reading a message ---------------------------------------------------------
 * A cursor over one received message with a sticky error: after the first failure
 * every get fails with the same code and outputs stay cleared.  Outputs are cleared
 * on entry and set only on success.  Check kp_ipc_end once after the last field. */
struct kp_ipc_rd {
	const unsigned char *p; /* not owned: the received message */
	size_t len, pos;
	int err;
};

void kp_ipc_rd_init(struct kp_ipc_rd *r, const void *msg, size_t len);

/* Fewer bytes left than the field needs: KP_E_PROTO. */
int kp_ipc_get_hdr(struct kp_ipc_rd *r, uint32_t *type_out, uint32_t *sid_out);
int kp_ipc_get_u32(struct kp_ipc_rd *r, uint32_t *v_out);
int kp_ipc_get_u64(struct kp_ipc_rd *r, uint64_t *v_out);

/* Copy a string into out (size outsz, so at most outsz - 1 bytes) and NUL-terminate
 * it.  KP_E_TOOBIG if longer, KP_E_NUL if it contains a NUL byte, KP_E_PROTO if
 * the message ends first.  out is "" on any failure. */
int kp_ipc_get_str(struct kp_ipc_rd *r, char *out, size_t outsz);

/* Point *p_out into the message at a bytes field of at most cap bytes (valid as long
 * as the message buffer is); KP_E_TOOBIG if longer, KP_E_PROTO if the message ends
 * first.  *p_out is NULL and *n_out 0 on failure. */
int kp_ipc_get_bytes(struct kp_ipc_rd *r, const unsigned char **p_out, size_t *n_out,
		     size_t cap);

/* The one end check: the sticky error, else KP_E_PROTO if bytes are left over,
 * else 0. */
int kp_ipc_end(const struct kp_ipc_rd *r);

/* Overwrite n bytes with zeros in a way the compiler keeps: for received messages
 * and decoded structs that held a password or a GSS context. */
void kp_ipc_wipe(void *p, size_t n);

#endif
