/* kp_ipc.c - IPC between kpopd's processes: transport, field codec, the message
 * table behind kp_ipc_msg.h, and the auth service's permits. */
#include "config.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kp_err.h"

/* Descriptors accepted in one packet's control data: one is valid, the room for a
 * few more lets us see (and close) extras instead of leaving them to MSG_CTRUNC. */
#define FD_ROOM 4

/* --- transport ---------------------------------------------------------------- */

int
kp_ipc_pair(int sv_out[2])
{
	int sv[2];

#ifdef SOCK_CLOEXEC
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return KP_E_IO;
#else
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return KP_E_IO;
	(void)fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(sv[1], F_SETFD, FD_CLOEXEC);
#endif
	sv_out[0] = sv[0];
	sv_out[1] = sv[1];
	return 0;
}

/* A message fit to send: 0, or why not. */
static int
sendable(const struct kp_buf *msg)
{
	if (msg->err != 0)
		return msg->err;
	if (msg->len < KP_IPC_HDR_LEN || msg->data == NULL)
		return KP_E_INTERNAL;
	if (msg->len > KP_IPC_MSG_MAX)
		return KP_E_TOOBIG;
	return 0;
}

/* errno after a failed send, as a KP_E_* code. */
static int
send_error(void)
{
	if (errno == EPIPE || errno == ECONNRESET)
		return KP_E_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return KP_E_TIMEOUT;
	return KP_E_IO;
}

static int
send_msg(int fd, const struct kp_buf *msg, int pass_fd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct cmsghdr *c;
	ssize_t n;
	int rc = sendable(msg);

	if (rc != 0)
		return rc;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = msg->data;
	iov.iov_len = msg->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass_fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return send_error();
	/* A SOCK_SEQPACKET send is all or nothing; anything else is a broken
	 * socket type, not a short write to finish. */
	if ((size_t)n != msg->len)
		return KP_E_IO;
	return 0;
}

int
kp_ipc_send(int fd, const struct kp_buf *msg)
{
	return send_msg(fd, msg, -1);
}

int
kp_ipc_sendv(int fd, const struct kp_buf *const *m, int count)
{
	struct mmsghdr mm[KP_IPC_SENDV_MAX];
	struct iovec iov[KP_IPC_SENDV_MAX];
	int i, n, rc;

	if (count < 1 || count > KP_IPC_SENDV_MAX)
		return KP_E_INTERNAL;
	if (count == 1)
		return kp_ipc_send(fd, m[0]);
	for (i = 0; i < count; i++) {
		if ((rc = sendable(m[i])) != 0)
			return rc;
		memset(&mm[i], 0, sizeof(mm[i]));
		iov[i].iov_base = m[i]->data;
		iov[i].iov_len = m[i]->len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	do
		n = sendmmsg(fd, mm, (unsigned)count, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return send_error();
	if (n == 0)
		return KP_E_IO;
	for (i = 0; i < n; i++)
		if (mm[i].msg_len != m[i]->len)
			return KP_E_IO;
	/* the first n went and the next met an error: the rest again, which says */
	return n == count ? 0 : kp_ipc_sendv(fd, m + n, count - n);
}

int
kp_ipc_send_fd(int fd, const struct kp_buf *msg, int pass_fd)
{
	if (pass_fd < 0)
		return KP_E_INTERNAL;
	return send_msg(fd, msg, pass_fd);
}

static void
close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)close(fds[i]);
}

static int
recv_msg(int fd, void *buf, size_t cap, size_t *len_out, int *fd_out)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(FD_ROOM * sizeof(int))];
	} ctl;
	struct cmsghdr *c;
	int fds[FD_ROOM], flags = 0, other = 0, one;
	size_t nfds = 0, k, i;
	ssize_t n;

	*len_out = 0;
	if (fd_out != NULL)
		*fd_out = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = cap + 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd_out != NULL) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
#ifdef MSG_CMSG_CLOEXEC
		flags = MSG_CMSG_CLOEXEC;
#endif
	}
	do
		n = recvmsg(fd, &mh, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return KP_E_TIMEOUT;
		if (errno == ECONNRESET)
			return KP_E_EOF;
		return KP_E_IO;
	}
	if (fd_out != NULL) {
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len < CMSG_LEN(0)) {
				other = 1;
				continue;
			}
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k && nfds < FD_ROOM; i++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
			if (i < k)
				other = 1; /* cannot happen: the buffer holds FD_ROOM */
		}
	}
	if (n == 0) {
		close_all(fds, nfds);
		return KP_E_EOF;
	}
	if ((size_t)n > cap || (mh.msg_flags & MSG_TRUNC) != 0) {
		close_all(fds, nfds);
		return KP_E_TOOBIG;
	}
	/* Descriptors where none were expected, more than the buffer held, or other
	 * control data: the kernel closed what did not fit, we close the rest. */
	if ((mh.msg_flags & MSG_CTRUNC) != 0 || other) {
		close_all(fds, nfds);
		return KP_E_PROTO;
	}
	if (fd_out != NULL) {
		if (nfds != 1) {
			close_all(fds, nfds);
			return KP_E_PROTO;
		}
		one = fds[0];
#ifndef MSG_CMSG_CLOEXEC
		if (fcntl(one, F_SETFD, FD_CLOEXEC) != 0) {
			(void)close(one);
			return KP_E_IO;
		}
#endif
		*fd_out = one;
	}
	*len_out = (size_t)n;
	return 0;
}

int
kp_ipc_recv(int fd, void *buf, size_t cap, size_t *len_out)
{
	return recv_msg(fd, buf, cap, len_out, NULL);
}

int
kp_ipc_recv_fd(int fd, void *buf, size_t cap, size_t *len_out, int *fd_out)
{
	return recv_msg(fd, buf, cap, len_out, fd_out);
}

/* --- building ----------------------------------------------------------------- */

static int
set_err(struct kp_buf *b, int err)
{
	if (b->err == 0)
		b->err = err;
	return b->err;
}

int
kp_ipc_put_u32(struct kp_buf *b, uint32_t v)
{
	unsigned char x[4];

	x[0] = (unsigned char)(v >> 24);
	x[1] = (unsigned char)(v >> 16);
	x[2] = (unsigned char)(v >> 8);
	x[3] = (unsigned char)v;
	return kp_buf_add(b, x, sizeof(x));
}

int
kp_ipc_put_u64(struct kp_buf *b, uint64_t v)
{
	kp_ipc_put_u32(b, (uint32_t)(v >> 32));
	return kp_ipc_put_u32(b, (uint32_t)v);
}

int
kp_ipc_put_hdr(struct kp_buf *b, uint32_t type, uint32_t sid)
{
	kp_ipc_put_u32(b, type);
	return kp_ipc_put_u32(b, sid);
}

int
kp_ipc_put_bytes(struct kp_buf *b, const void *p, size_t n, size_t cap)
{
	if (b->err != 0)
		return b->err;
	if (n > cap || n > UINT32_MAX || (p == NULL && n > 0))
		return set_err(b, KP_E_TOOBIG);
	kp_ipc_put_u32(b, (uint32_t)n);
	return kp_buf_add(b, p != NULL ? p : "", n);
}

int
kp_ipc_put_str(struct kp_buf *b, const char *s, size_t cap)
{
	size_t n;

	if (b->err != 0)
		return b->err;
	n = strnlen(s, cap + 1);
	if (n > cap)
		return set_err(b, KP_E_TOOBIG);
	return kp_ipc_put_bytes(b, s, n, cap);
}

/* --- reading ------------------------------------------------------------------ */

void
kp_ipc_rd_init(struct kp_ipc_rd *r, const void *msg, size_t len)
{
	r->p = msg;
	r->len = msg != NULL ? len : 0;
	r->pos = 0;
	r->err = 0;
}

static int
rd_fail(struct kp_ipc_rd *r, int err)
{
	if (r->err == 0)
		r->err = err;
	return r->err;
}

int
kp_ipc_get_u32(struct kp_ipc_rd *r, uint32_t *v_out)
{
	const unsigned char *x;

	*v_out = 0;
	if (r->err != 0)
		return r->err;
	if (r->len - r->pos < 4)
		return rd_fail(r, KP_E_PROTO);
	x = r->p + r->pos;
	*v_out = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 |
		 (uint32_t)x[3];
	r->pos += 4;
	return 0;
}

int
kp_ipc_get_u64(struct kp_ipc_rd *r, uint64_t *v_out)
{
	uint32_t hi, lo;

	*v_out = 0;
	if (r->err != 0)
		return r->err;
	if (r->len - r->pos < 8)
		return rd_fail(r, KP_E_PROTO);
	kp_ipc_get_u32(r, &hi);
	kp_ipc_get_u32(r, &lo);
	*v_out = (uint64_t)hi << 32 | lo;
	return 0;
}

int
kp_ipc_get_hdr(struct kp_ipc_rd *r, uint32_t *type_out, uint32_t *sid_out)
{
	*type_out = 0;
	*sid_out = 0;
	if (r->err != 0)
		return r->err;
	if (r->len - r->pos < KP_IPC_HDR_LEN)
		return rd_fail(r, KP_E_PROTO);
	kp_ipc_get_u32(r, type_out);
	return kp_ipc_get_u32(r, sid_out);
}

int
kp_ipc_get_bytes(struct kp_ipc_rd *r, const unsigned char **p_out, size_t *n_out,
		 size_t cap)
{
	uint32_t n;

	*p_out = NULL;
	*n_out = 0;
	if (kp_ipc_get_u32(r, &n) != 0)
		return r->err;
	/* Truncation first: a length beyond the message is a short message, whatever
	 * the cap; only a field that is really there can be too big. */
	if (n > r->len - r->pos)
		return rd_fail(r, KP_E_PROTO);
	if (n > cap)
		return rd_fail(r, KP_E_TOOBIG);
	*p_out = r->p + r->pos;
	*n_out = n;
	r->pos += n;
	return 0;
}

int
kp_ipc_get_str(struct kp_ipc_rd *r, char *out, size_t outsz)
{
	const unsigned char *p;
	size_t n;

	if (outsz == 0)
		return rd_fail(r, KP_E_INTERNAL);
	out[0] = '\0';
	if (kp_ipc_get_bytes(r, &p, &n, outsz - 1) != 0)
		return r->err;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return rd_fail(r, KP_E_NUL);
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
kp_ipc_end(const struct kp_ipc_rd *r)
{
	if (r->err != 0)
		return r->err;
	if (r->pos != r->len)
		return KP_E_PROTO;
	return 0;
}

void
kp_ipc_wipe(void *p, size_t n)
{
	explicit_bzero(p, n); /* not optimised away, and not byte by byte */
}

/* --- the message table -----------------------------------------------------------
 * One row per message: its fields in wire order, each with the struct member it
 * fills and its cap.  Encoder and decoder both walk these rows, so they cannot
 * disagree about the layout; kp_ipc_msg.h documents the same layout for people. */

enum { F_U32, F_U64, F_STR, F_BYTES };

struct field {
	int kind;
	size_t off;    /* of the member in the message struct */
	size_t size;   /* F_STR: array size (cap + 1); F_BYTES: cap */
	uint32_t max;  /* F_U32: largest valid value */
};

/* The member's size, or a compile error if it is not n bytes. */
#define MEMBER(S, m) (((struct S *)0)->m)
#define SIZED(S, m, n) (sizeof(char[sizeof(MEMBER(S, m)) == (n) ? 1 : -1]) * 0 + (n))

#define U32(S, m, mx) { F_U32, offsetof(struct S, m), SIZED(S, m, 4), (mx) }
#define U64(S, m) { F_U64, offsetof(struct S, m), SIZED(S, m, 8), 0 }
#define STR(S, m) { F_STR, offsetof(struct S, m), sizeof(MEMBER(S, m)), 0 }
#define BYTES(S, m, cap) \
	{ F_BYTES, offsetof(struct S, m) + \
	  SIZED(S, m, sizeof(struct kp_ipc_bytes)) * 0, (cap), 0 }

static const struct field f_begin[] = {
	U32(kp_ipc_begin, mode, KP_IPC_MODE_POP3S),
	U32(kp_ipc_begin, tls, 1),
	STR(kp_ipc_begin, peer),
	STR(kp_ipc_begin, local),
};
static const struct field f_kpop_apreq[] = {
	BYTES(kp_ipc_kpop_apreq, apreq, KP_AUTH_TOKEN_MAX),
	U32(kp_ipc_kpop_apreq, toolong, UINT32_MAX),
};
static const struct field f_kpop_user[] = {
	STR(kp_ipc_kpop_user, user),
};
static const struct field f_gss_step[] = {
	BYTES(kp_ipc_gss_step, token, KP_AUTH_TOKEN_MAX),
	U32(kp_ipc_gss_step, has_token, 1),
};
static const struct field f_password[] = {
	STR(kp_ipc_password, user),
	STR(kp_ipc_password, password),
	U32(kp_ipc_password, sasl_plain, 1),
	STR(kp_ipc_password, authzid),
};
static const struct field f_continue[] = {
	BYTES(kp_ipc_continue, token, KP_AUTH_TOKEN_MAX),
	BYTES(kp_ipc_continue, next, KP_GSS_NEXT_MAX),
};
static const struct field f_kpop_ok[] = {
	BYTES(kp_ipc_kpop_ok, aprep, KP_AUTH_TOKEN_MAX),
};
static const struct field f_kpop_fail[] = {
	BYTES(kp_ipc_kpop_fail, krb_error, KP_AUTH_TOKEN_MAX),
	STR(kp_ipc_kpop_fail, reason),
};
static const struct field f_verdict[] = {
	STR(kp_ipc_verdict, principal),
	STR(kp_ipc_verdict, user),
	STR(kp_ipc_verdict, maildrop),
	U32(kp_ipc_verdict, uid, UINT32_MAX - 1),
	U32(kp_ipc_verdict, gid, UINT32_MAX - 1),
	U32(kp_ipc_verdict, ssf, UINT32_MAX),
	U32(kp_ipc_verdict, maxbuf, 0xffffff),
	BYTES(kp_ipc_verdict, gss_ctx, KP_IPC_GSSCTX_MAX),
	U32(kp_ipc_verdict, login_delay, KP_LOGIN_DELAY_MAX),
	U32(kp_ipc_verdict, expire_days, UINT32_MAX),
};
static const struct field f_fail[] = {
	STR(kp_ipc_fail, reason),
	U32(kp_ipc_fail, tries_left, KP_AUTH_FAIL_MAX),
};
static const struct field f_busy[] = {
	STR(kp_ipc_busy, peer),
};
static const struct field f_done[] = {
	U64(kp_ipc_done, bytes_in),
	U64(kp_ipc_done, bytes_out),
};
static const struct field f_login[] = {
	STR(kp_ipc_login, user),
	STR(kp_ipc_login, mech),
};
static const struct field f_refuse[] = {
	STR(kp_ipc_refuse, reason),
};

/* The largest messages fit one packet (kp_limits.h); test-ipc checks them all. */
#define STRW(S, m) (4 + sizeof(MEMBER(S, m)) - 1)
_Static_assert(KP_IPC_HDR_LEN + STRW(kp_ipc_verdict, principal) +
	       STRW(kp_ipc_verdict, user) + STRW(kp_ipc_verdict, maildrop) + 6 * 4 +
	       4 + KP_IPC_GSSCTX_MAX <= KP_IPC_MSG_MAX, "a full VERDICT fits");
_Static_assert(KP_IPC_HDR_LEN + 4 + KP_AUTH_TOKEN_MAX + STRW(kp_ipc_kpop_fail, reason)
	       <= KP_IPC_MSG_MAX, "a full KPOP_FAIL fits");
_Static_assert(KP_IPC_HDR_LEN + 4 + KP_AUTH_TOKEN_MAX + 4 <= KP_IPC_MSG_MAX,
	       "a full GSS_STEP fits");

/* Cross-field rules a field table cannot say. */
static int
check_gss_step(const void *body)
{
	const struct kp_ipc_gss_step *m = body;

	return m->has_token == 0 && m->token.len != 0 ? KP_E_PROTO : 0;
}

static int
check_password(const void *body)
{
	const struct kp_ipc_password *m = body;

	return m->sasl_plain == 0 && m->authzid[0] != '\0' ? KP_E_PROTO : 0;
}

static int
check_verdict(const void *body)
{
	const struct kp_ipc_verdict *m = body;

	return m->expire_days > KP_EXPIRE_DAYS_MAX && m->expire_days != KP_IPC_EXPIRE_NEVER ?
	       KP_E_RANGE : 0;
}

struct mdesc {
	uint32_t type;
	const char *name;
	unsigned int dir;
	int secret;
	const struct field *f;
	size_t nf;
	size_t size;  /* of the message struct; 0 for messages without fields */
	int (*check)(const void *body);
};

#define M(T, name, dir, secret, S, f, check) \
	{ T, name, dir, secret, f, sizeof(f) / sizeof(f[0]), sizeof(struct S), check }
#define M0(T, name, dir) { T, name, dir, 0, NULL, 0, 0, NULL }

static const struct mdesc msgs[] = {
	M(KP_IPC_BEGIN, "BEGIN", KP_IPC_TO_AUTH, 0, kp_ipc_begin, f_begin, NULL),
	M(KP_IPC_KPOP_APREQ, "KPOP_APREQ", KP_IPC_TO_AUTH, 0, kp_ipc_kpop_apreq,
	  f_kpop_apreq, NULL),
	M(KP_IPC_KPOP_USER, "KPOP_USER", KP_IPC_TO_AUTH, 0, kp_ipc_kpop_user,
	  f_kpop_user, NULL),
	M(KP_IPC_GSS_STEP, "GSS_STEP", KP_IPC_TO_AUTH, 0, kp_ipc_gss_step, f_gss_step,
	  check_gss_step),
	M0(KP_IPC_GSS_CANCEL, "GSS_CANCEL", KP_IPC_TO_AUTH),
	M(KP_IPC_PASSWORD, "PASSWORD", KP_IPC_TO_AUTH, 1, kp_ipc_password, f_password,
	  check_password),
	M0(KP_IPC_END, "END", KP_IPC_TO_AUTH),
	M(KP_IPC_CONTINUE, "CONTINUE", KP_IPC_FROM_AUTH, 0, kp_ipc_continue,
	  f_continue, NULL),
	M(KP_IPC_KPOP_OK, "KPOP_OK", KP_IPC_FROM_AUTH, 0, kp_ipc_kpop_ok, f_kpop_ok,
	  NULL),
	M(KP_IPC_KPOP_FAIL, "KPOP_FAIL", KP_IPC_FROM_AUTH, 0, kp_ipc_kpop_fail,
	  f_kpop_fail, NULL),
	M(KP_IPC_VERDICT, "VERDICT", KP_IPC_FROM_AUTH, 1, kp_ipc_verdict, f_verdict,
	  check_verdict),
	M(KP_IPC_FAIL, "FAIL", KP_IPC_FROM_AUTH, 0, kp_ipc_fail, f_fail, NULL),
	M0(KP_IPC_IDLE, "IDLE", KP_IPC_TO_MASTER),
	M(KP_IPC_BUSY, "BUSY", KP_IPC_TO_MASTER, 0, kp_ipc_busy, f_busy, NULL),
	M(KP_IPC_DONE, "DONE", KP_IPC_TO_MASTER, 0, kp_ipc_done, f_done, NULL),
	M(KP_IPC_LOGIN, "LOGIN", KP_IPC_TO_MASTER, 0, kp_ipc_login, f_login, NULL),
	M0(KP_IPC_ADMIT, "ADMIT", KP_IPC_FROM_MASTER),
	M(KP_IPC_REFUSE, "REFUSE", KP_IPC_FROM_MASTER, 0, kp_ipc_refuse, f_refuse,
	  NULL),
};

static const struct mdesc *
find(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (msgs[i].type == type)
			return &msgs[i];
	return NULL;
}

const char *
kp_ipc_type_name(uint32_t type)
{
	const struct mdesc *d = find(type);

	return d != NULL ? d->name : "?";
}

unsigned int
kp_ipc_type_dir(uint32_t type)
{
	const struct mdesc *d = find(type);

	return d != NULL ? d->dir : 0;
}

int
kp_ipc_type_secret(uint32_t type)
{
	const struct mdesc *d = find(type);

	return d != NULL && d->secret;
}

size_t
kp_ipc_type_maxlen(uint32_t type)
{
	const struct mdesc *d = find(type);
	size_t i, n = KP_IPC_HDR_LEN;

	if (d == NULL)
		return 0;
	for (i = 0; i < d->nf; i++) {
		switch (d->f[i].kind) {
		case F_U32: n += 4; break;
		case F_U64: n += 8; break;
		case F_STR: n += 4 + d->f[i].size - 1; break;
		default: n += 4 + d->f[i].size; break;
		}
	}
	return n;
}

static int
encode_body(struct kp_buf *out, uint32_t type, uint32_t sid, const void *body)
{
	const struct mdesc *d = find(type);
	const struct field *f;
	const char *base = body;
	const struct kp_ipc_bytes *x;
	uint32_t v;
	uint64_t w;
	size_t i;
	int rc = 0;

	kp_buf_init(out, KP_IPC_MSG_MAX, d != NULL && d->secret);
	if (d == NULL || (d->nf > 0 && body == NULL))
		return KP_E_INTERNAL;
	kp_ipc_put_hdr(out, type, sid);
	for (i = 0; i < d->nf && rc == 0; i++) {
		f = &d->f[i];
		switch (f->kind) {
		case F_U32:
			memcpy(&v, base + f->off, sizeof(v));
			if (v > f->max)
				rc = KP_E_RANGE;
			else
				kp_ipc_put_u32(out, v);
			break;
		case F_U64:
			memcpy(&w, base + f->off, sizeof(w));
			kp_ipc_put_u64(out, w);
			break;
		case F_STR:
			kp_ipc_put_str(out, base + f->off, f->size - 1);
			break;
		default:
			x = (const void *)(base + f->off);
			kp_ipc_put_bytes(out, x->data, x->len, f->size);
			break;
		}
	}
	if (rc == 0 && d->check != NULL)
		rc = d->check(body);
	if (rc == 0)
		rc = out->err;
	if (rc != 0)
		kp_buf_free(out);
	return rc;
}

/* Decode the fields of d into body (already zeroed), then the end check. */
static int
decode_body(struct kp_ipc_rd *r, const struct mdesc *d, void *body)
{
	const struct field *f;
	char *base = body;
	struct kp_ipc_bytes *x;
	uint32_t v;
	uint64_t w;
	size_t i;
	int rc;

	for (i = 0; i < d->nf && r->err == 0; i++) {
		f = &d->f[i];
		switch (f->kind) {
		case F_U32:
			if (kp_ipc_get_u32(r, &v) == 0 && v > f->max)
				rd_fail(r, KP_E_RANGE);
			memcpy(base + f->off, &v, sizeof(v));
			break;
		case F_U64:
			kp_ipc_get_u64(r, &w);
			memcpy(base + f->off, &w, sizeof(w));
			break;
		case F_STR:
			kp_ipc_get_str(r, base + f->off, f->size);
			break;
		default:
			x = (void *)(base + f->off);
			kp_ipc_get_bytes(r, &x->data, &x->len, f->size);
			break;
		}
	}
	if ((rc = kp_ipc_end(r)) != 0)
		return rc;
	return d->check != NULL ? d->check(body) : 0;
}

int
kp_ipc_encode(struct kp_buf *out, const struct kp_ipc_msg *m)
{
	return encode_body(out, m->type, m->sid, &m->u);
}

int
kp_ipc_decode(const void *msg, size_t len, unsigned int dirs, struct kp_ipc_msg *out)
{
	struct kp_ipc_rd r;
	const struct mdesc *d;
	uint32_t type, sid;
	int rc;

	memset(out, 0, sizeof(*out));
	kp_ipc_rd_init(&r, msg, len);
	if ((rc = kp_ipc_get_hdr(&r, &type, &sid)) != 0)
		return rc;
	if ((d = find(type)) == NULL || (d->dir & dirs) == 0)
		return KP_E_PROTO;
	if ((rc = decode_body(&r, d, &out->u)) != 0) {
		kp_ipc_wipe(out, sizeof(*out));
		return rc;
	}
	out->type = type;
	out->sid = sid;
	return 0;
}

static int
decode_typed(const void *msg, size_t len, uint32_t want, uint32_t *sid_out, void *body,
	     size_t size)
{
	struct kp_ipc_rd r;
	const struct mdesc *d = find(want);
	uint32_t type, sid;
	int rc;

	*sid_out = 0;
	if (body != NULL)
		memset(body, 0, size);
	if (d == NULL)
		return KP_E_INTERNAL;
	kp_ipc_rd_init(&r, msg, len);
	if ((rc = kp_ipc_get_hdr(&r, &type, &sid)) != 0)
		return rc;
	if (type != want)
		return KP_E_PROTO;
	if ((rc = decode_body(&r, d, body)) != 0) {
		if (body != NULL)
			kp_ipc_wipe(body, size);
		return rc;
	}
	*sid_out = sid;
	return 0;
}

/* The typed forms; their prototypes are in kp_ipc_msg.h. */
#define CODEC(name, T) \
int \
kp_ipc_enc_##name(struct kp_buf *out, uint32_t sid, const struct kp_ipc_##name *m) \
{ \
	return encode_body(out, T, sid, m); \
} \
int \
kp_ipc_dec_##name(const void *msg, size_t len, uint32_t *sid_out, \
		  struct kp_ipc_##name *out) \
{ \
	return decode_typed(msg, len, T, sid_out, out, sizeof(*out)); \
}
#define CODEC0(name, T) \
int \
kp_ipc_enc_##name(struct kp_buf *out, uint32_t sid) \
{ \
	return encode_body(out, T, sid, NULL); \
} \
int \
kp_ipc_dec_##name(const void *msg, size_t len, uint32_t *sid_out) \
{ \
	return decode_typed(msg, len, T, sid_out, NULL, 0); \
}

CODEC(begin, KP_IPC_BEGIN)
CODEC(kpop_apreq, KP_IPC_KPOP_APREQ)
CODEC(kpop_user, KP_IPC_KPOP_USER)
CODEC(gss_step, KP_IPC_GSS_STEP)
CODEC0(gss_cancel, KP_IPC_GSS_CANCEL)
CODEC(password, KP_IPC_PASSWORD)
CODEC0(end, KP_IPC_END)
CODEC(continue, KP_IPC_CONTINUE)
CODEC(kpop_ok, KP_IPC_KPOP_OK)
CODEC(kpop_fail, KP_IPC_KPOP_FAIL)
CODEC(verdict, KP_IPC_VERDICT)
CODEC(fail, KP_IPC_FAIL)
CODEC0(idle, KP_IPC_IDLE)
CODEC(busy, KP_IPC_BUSY)
CODEC(login, KP_IPC_LOGIN)
CODEC(done, KP_IPC_DONE)
CODEC0(admit, KP_IPC_ADMIT)
CODEC(refuse, KP_IPC_REFUSE)

/* --- permits ---------------------------------------------------------------------- */

const struct kp_ipc_rule kp_ipc_rules[] = {
	{ KP_IPC_BEGIN, KP_IPC_P_FIRST | KP_IPC_P_ONCE },
	{ KP_IPC_KPOP_APREQ,
	  KP_IPC_P_OPEN | KP_IPC_P_KPOP | KP_IPC_P_ONCE | KP_IPC_P_NEXT },
	{ KP_IPC_KPOP_USER, KP_IPC_P_AFTER_KPOP },
	{ KP_IPC_GSS_STEP, KP_IPC_P_OPEN | KP_IPC_P_SASL },
	{ KP_IPC_GSS_CANCEL, KP_IPC_P_OPEN | KP_IPC_P_SASL },
	{ KP_IPC_PASSWORD, KP_IPC_P_OPEN | KP_IPC_P_SASL | KP_IPC_P_TLS },
	{ KP_IPC_END, KP_IPC_P_ALWAYS | KP_IPC_P_RESET },
};
const size_t kp_ipc_nrules = sizeof(kp_ipc_rules) / sizeof(kp_ipc_rules[0]);

/* Every request type is below 32 (kp_ipc_msg.h), so one bit each. */
#define BIT(t) (1u << (t))

static const struct kp_ipc_rule *
rule(uint32_t type)
{
	size_t i;

	for (i = 0; i < kp_ipc_nrules; i++)
		if (kp_ipc_rules[i].type == type)
			return &kp_ipc_rules[i];
	return NULL;
}

static uint32_t
rows_with(unsigned int flag)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < kp_ipc_nrules; i++)
		if ((kp_ipc_rules[i].flags & flag) != 0)
			m |= BIT(kp_ipc_rules[i].type);
	return m;
}

void
kp_ipc_permit_init(struct kp_ipc_permit *p, int plaintext)
{
	memset(p, 0, sizeof(*p));
	p->plaintext = plaintext != 0;
	p->allow = rows_with(KP_IPC_P_FIRST) | rows_with(KP_IPC_P_ALWAYS);
}

int
kp_ipc_permit_allowed(const struct kp_ipc_permit *p, uint32_t type)
{
	return type < 32 && rule(type) != NULL && (p->allow & BIT(type)) != 0;
}

/* The requests BEGIN opens for its mode and tls. */
static uint32_t
opened_by_begin(const struct kp_ipc_permit *p)
{
	int kpop = p->mode == KP_IPC_MODE_KPOP || p->mode == KP_IPC_MODE_AUTO;
	int sasl = p->mode != KP_IPC_MODE_KPOP;
	int plain = p->tls != 0 && p->plaintext;
	unsigned int f;
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < kp_ipc_nrules; i++) {
		f = kp_ipc_rules[i].flags;
		if ((f & KP_IPC_P_OPEN) == 0 || ((f & KP_IPC_P_KPOP) && !kpop) ||
		    ((f & KP_IPC_P_SASL) && !sasl) || ((f & KP_IPC_P_TLS) && !plain))
			continue;
		m |= BIT(kp_ipc_rules[i].type);
	}
	return m;
}

int
kp_ipc_permit_consume(struct kp_ipc_permit *p, const struct kp_ipc_msg *m)
{
	const struct kp_ipc_rule *r;
	uint32_t allow;

	if (!kp_ipc_permit_allowed(p, m->type))
		return KP_E_PROTO;
	if (p->begun && m->sid != p->sid)
		return KP_E_PROTO;
	r = rule(m->type);
	if (r->flags & KP_IPC_P_RESET) {
		kp_ipc_permit_init(p, p->plaintext);
		return 0;
	}
	allow = p->allow;
	if (r->flags & KP_IPC_P_ONCE)
		allow &= ~BIT(m->type);
	allow &= ~rows_with(KP_IPC_P_NEXT);
	if (r->flags & KP_IPC_P_KPOP)
		allow &= ~rows_with(KP_IPC_P_SASL);
	if (r->flags & KP_IPC_P_FIRST) {
		p->begun = 1;
		p->sid = m->sid;
		p->mode = m->u.begin.mode;
		p->tls = m->u.begin.tls;
		allow |= opened_by_begin(p);
	}
	p->allow = allow;
	return 0;
}

void
kp_ipc_permit_answer(struct kp_ipc_permit *p, uint32_t type, uint32_t tries_left)
{
	switch (type) {
	case KP_IPC_KPOP_OK:
		if (p->begun)
			p->allow |= rows_with(KP_IPC_P_AFTER_KPOP);
		break;
	case KP_IPC_FAIL:
		if (tries_left > 0)
			break;
		/* FALLTHROUGH */
	case KP_IPC_VERDICT:
	case KP_IPC_KPOP_FAIL:
		p->allow &= rows_with(KP_IPC_P_ALWAYS);
		break;
	default:
		break;
	}
}
