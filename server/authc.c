/* authc.c - the session's requests to the auth service: one packet out, one answer
 * back, decoded strictly; secrets wiped after use. */
#include "config.h"
#include "server/authc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_log.h"

int
kp_authc_init(struct kp_authc *a, int fd, uint32_t sid, uint32_t mode, const char *peer,
	      const char *local)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->sid = sid;
	a->mode = mode;
	snprintf(a->peer, sizeof(a->peer), "%s", peer != NULL ? peer : "");
	snprintf(a->local, sizeof(a->local), "%s", local != NULL ? local : "");
	a->rx = malloc(KP_IPC_MSG_MAX + 1);
	return a->rx == NULL ? KP_E_NOMEM : 0;
}

static void
forget_answer(struct kp_authc *a)
{
	if (a->rxlen > 0)
		kp_ipc_wipe(a->rx, a->rxlen);
	kp_ipc_wipe(&a->ans, sizeof(a->ans));
	a->rxlen = 0;
}

int kp_authc_channel_lost;

static void
broken(struct kp_authc *a, const char *what, int rc)
{
	kp_authc_channel_lost = 1;
	kp_log(KP_LOG_ERR, "auth service: %s: %s", what, kp_strerror(rc));
	snprintf(a->why, sizeof(a->why), "the auth service is unavailable");
	a->fd = -1;
}

/* The last session's END, held back until this channel's next request goes (in the
 * same system call) or the process exits (the auth service then sees the channel
 * close, which ends it as well): a login then wakes the auth service twice, not
 * three times, and never while the client waits for its next answer.  One per
 * process: a worker serves one session at a time on one channel. */
static struct {
	int fd;
	struct kp_buf msg;
} held_end = { -1, { 0 } };

static void
drop_held_end(void)
{
	if (held_end.fd >= 0) {
		kp_buf_free(&held_end.msg);
		held_end.fd = -1;
	}
}

/* Forget a BEGIN that has not gone yet. */
static void
drop_begin(struct kp_authc *a)
{
	if (a->begin_pending) {
		kp_buf_free(&a->begin_msg);
		a->begin_pending = 0;
	}
}

/* Send m (built by the caller's encoder into b, which is freed here). */
static int
send_msg(struct kp_authc *a, struct kp_buf *b, int enc_rc)
{
	int rc = enc_rc;

	if (a->fd < 0) {
		if (rc == 0)
			kp_buf_free(b);
		return KP_E_IO;
	}
	if (rc == 0) {
		/* the last END and BEGIN go with the first request: one wake-up of the
		 * auth service */
		const struct kp_buf *m[KP_IPC_SENDV_MAX];
		int n = 0;

		if (held_end.fd == a->fd)
			m[n++] = &held_end.msg;
		if (a->begin_pending)
			m[n++] = &a->begin_msg;
		m[n++] = b;
		rc = kp_ipc_sendv(a->fd, m, n);
		kp_buf_free(b);
	}
	drop_held_end();
	drop_begin(a);
	if (rc != 0) {
		broken(a, "send", rc);
		return KP_E_IO;
	}
	return 0;
}

static int
begin(struct kp_authc *a)
{
	struct kp_ipc_begin m;

	if (a->begun)
		return 0;
	memset(&m, 0, sizeof(m));
	m.mode = a->mode;
	m.tls = a->tls ? 1 : 0;
	snprintf(m.peer, sizeof(m.peer), "%s", a->peer);
	snprintf(m.local, sizeof(m.local), "%s", a->local);
	if (a->fd < 0)
		return KP_E_IO;
	if (kp_ipc_enc_begin(&a->begin_msg, a->sid, &m) != 0) {
		broken(a, "send", KP_E_NOMEM);
		return KP_E_IO;
	}
	a->begin_pending = 1;
	a->begun = 1;
	return 0;
}

/* Receive and decode one answer into a->ans. */
static int
recv_answer(struct kp_authc *a)
{
	int rc;

	forget_answer(a);
	if (a->fd < 0)
		return KP_E_IO;
	rc = kp_ipc_recv(a->fd, a->rx, KP_IPC_MSG_MAX, &a->rxlen);
	if (rc == 0)
		rc = kp_ipc_decode(a->rx, a->rxlen, KP_IPC_FROM_AUTH, &a->ans);
	if (rc != 0) {
		broken(a, "answer", rc);
		return KP_E_IO;
	}
	return 0;
}

/* Common ending for a request that can end in VERDICT or FAIL. */
static int
verdict_or_fail(struct kp_authc *a)
{
	if (a->ans.type == KP_IPC_VERDICT)
		return 0;
	if (a->ans.type == KP_IPC_FAIL) {
		snprintf(a->why, sizeof(a->why), "%s", a->ans.u.fail.reason);
		a->tries_left = a->ans.u.fail.tries_left;
		return KP_E_AUTH;
	}
	broken(a, "unexpected answer", KP_E_PROTO);
	return KP_E_IO;
}

void
kp_authc_end(struct kp_authc *a)
{
	struct kp_buf b;

	forget_answer(a);
	if (a->begin_pending) { /* the auth service never heard of this one */
		drop_begin(a);
	} else if (a->begun && a->fd >= 0) {
		if (held_end.fd >= 0) /* (not reached: a BEGIN sent the last one) */
			(void)send_msg(a, &b, kp_ipc_enc_end(&b, a->sid));
		else if (kp_ipc_enc_end(&held_end.msg, a->sid) == 0)
			held_end.fd = a->fd;
		else
			kp_buf_free(&held_end.msg);
	}
	a->begun = 0;
	a->kpop_ok = 0;
}

void
kp_authc_wipe_answer(struct kp_authc *a)
{
	forget_answer(a);
}

void
kp_authc_forget(struct kp_authc *a)
{
	forget_answer(a);
	drop_begin(a);
	a->begun = 0;
	a->kpop_ok = 0;
}

void
kp_authc_free(struct kp_authc *a)
{
	kp_authc_end(a);
	free(a->rx);
	a->rx = NULL;
}

void
kp_authc_set_tls(struct kp_authc *a, int on)
{
	if ((on != 0) != (a->tls != 0) && !a->kpop_ok)
		kp_authc_end(a);
	a->tls = on != 0;
}

int
kp_authc_gss_step(struct kp_authc *a, const void *in, size_t inlen, int has_in,
		  const void **out, size_t *outlen, const void **next, size_t *nextlen)
{
	struct kp_ipc_gss_step m;
	struct kp_buf b;

	*out = NULL;
	*outlen = 0;
	*next = NULL;
	*nextlen = 0;
	if (begin(a) != 0)
		return KP_E_IO;
	m.token.data = in;
	m.token.len = has_in ? inlen : 0;
	m.has_token = has_in ? 1 : 0;
	if (send_msg(a, &b, kp_ipc_enc_gss_step(&b, a->sid, &m)) != 0 || recv_answer(a) != 0)
		return KP_E_IO;
	if (a->ans.type == KP_IPC_CONTINUE) {
		*out = a->ans.u.cont.token.data;
		*outlen = a->ans.u.cont.token.len;
		if (a->ans.u.cont.next.len > 0) {
			*next = a->ans.u.cont.next.data;
			*nextlen = a->ans.u.cont.next.len;
		}
		return KP_AUTHC_CONTINUE;
	}
	return verdict_or_fail(a);
}

void
kp_authc_gss_cancel(struct kp_authc *a)
{
	struct kp_buf b;

	if (a->begun)
		(void)send_msg(a, &b, kp_ipc_enc_gss_cancel(&b, a->sid));
}

int
kp_authc_password(struct kp_authc *a, const char *authzid, const char *user,
		  const char *password)
{
	struct kp_ipc_password m;
	struct kp_buf b;
	int rc;

	if (begin(a) != 0)
		return KP_E_IO;
	memset(&m, 0, sizeof(m));
	snprintf(m.user, sizeof(m.user), "%s", user);
	if (strlen(password) >= sizeof(m.password)) {
		snprintf(a->why, sizeof(a->why), "password too long");
		return KP_E_AUTH;
	}
	memcpy(m.password, password, strlen(password) + 1);
	m.sasl_plain = authzid != NULL;
	snprintf(m.authzid, sizeof(m.authzid), "%s", authzid != NULL ? authzid : "");
	rc = kp_ipc_enc_password(&b, a->sid, &m);
	kp_ipc_wipe(&m, sizeof(m));
	if (send_msg(a, &b, rc) != 0 || recv_answer(a) != 0)
		return KP_E_IO;
	return verdict_or_fail(a);
}

int
kp_authc_kpop_apreq(struct kp_authc *a, const void *apreq, size_t len, uint32_t toolong,
		    const void **out, size_t *outlen)
{
	struct kp_ipc_kpop_apreq m;
	struct kp_buf b;

	*out = NULL;
	*outlen = 0;
	if (begin(a) != 0)
		return KP_E_IO;
	m.apreq.data = apreq;
	m.apreq.len = len;
	m.toolong = toolong;
	if (send_msg(a, &b, kp_ipc_enc_kpop_apreq(&b, a->sid, &m)) != 0 || recv_answer(a) != 0)
		return KP_E_IO;
	if (a->ans.type == KP_IPC_KPOP_OK) {
		a->kpop_ok = 1;
		*out = a->ans.u.kpop_ok.aprep.data;
		*outlen = a->ans.u.kpop_ok.aprep.len;
		return 0;
	}
	if (a->ans.type == KP_IPC_KPOP_FAIL) {
		*out = a->ans.u.kpop_fail.krb_error.data;
		*outlen = a->ans.u.kpop_fail.krb_error.len;
		snprintf(a->why, sizeof(a->why), "%s", a->ans.u.kpop_fail.reason);
		a->tries_left = 0;
		return KP_E_AUTH;
	}
	broken(a, "unexpected answer", KP_E_PROTO);
	return KP_E_IO;
}

int
kp_authc_kpop_user(struct kp_authc *a, const char *user)
{
	struct kp_ipc_kpop_user m;
	struct kp_buf b;

	memset(&m, 0, sizeof(m));
	snprintf(m.user, sizeof(m.user), "%s", user);
	if (send_msg(a, &b, kp_ipc_enc_kpop_user(&b, a->sid, &m)) != 0 || recv_answer(a) != 0)
		return KP_E_IO;
	return verdict_or_fail(a);
}

const struct kp_ipc_verdict *
kp_authc_verdict(const struct kp_authc *a)
{
	return a->ans.type == KP_IPC_VERDICT ? &a->ans.u.verdict : NULL;
}
