/* fakeauth.h - a stand-in for kpopd's auth service (server/authd/) for the session
 * and KPOP harnesses: a thread on the other end of the session's SOCK_SEQPACKET
 * channel that decodes each request strictly (kp_ipc_decode) and answers from
 * what the client sent, so that no KDC is needed and every branch is reachable:
 *   GSS_STEP token "V..." -> VERDICT, "C..." -> CONTINUE (a challenge), else FAIL;
 *   PASSWORD "secret" -> VERDICT, else FAIL;  KPOP_APREQ "G..." -> KPOP_OK, else
 *   KPOP_FAIL;  KPOP_USER "alice" -> VERDICT, else FAIL.
 * The verdict names fake_auth_maildrop as uid/gid of this process.  It checks
 * nothing of Kerberos: it exists so the dispatcher and the wire code can be fuzzed.
 * Without a thread (threaded 0), a harness that knows its one request queues the
 * answer itself with fake_auth_answer(fa->fd, ...) before the code asks. */
#ifndef KP_FUZZ_FAKEAUTH_H
#define KP_FUZZ_FAKEAUTH_H

#include <pthread.h>
#include <semaphore.h>

#include "kp_buf.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"
#include "server/authc.h"

static char fake_auth_maildrop[4300];

/* One thread for the whole run (a thread per input costs more than the session
 * under ASan): each session's channel is handed to it, and it says when it saw
 * the channel's end. */
struct fake_auth {
	int fd;                  /* the auth service's end */
	int sfd;                 /* the session's end (authc forgets it when broken) */
	unsigned long requests;
	int threaded;
};
static pthread_t fake_auth_thread;
static sem_t fake_auth_go, fake_auth_done;
static struct fake_auth *fake_auth_cur;

static int
fake_auth_answer(int fd, const struct kp_ipc_msg *q)
{
	static const unsigned char challenge[] = "fuzz challenge";
	struct kp_buf b;
	int rc;

	switch (q->type) {
	case KP_IPC_GSS_STEP:
		if (q->u.gss_step.token.len > 0 && (q->u.gss_step.token.data[0] == 'C' ||
						     q->u.gss_step.token.data[0] == 'N')) {
			/* 'N': a last token with the answer to an empty response ahead */
			static const unsigned char offer[] = "fuzz offer";
			struct kp_ipc_continue c = { { challenge, sizeof(challenge) - 1 },
						     { NULL, 0 } };

			if (q->u.gss_step.token.data[0] == 'N') {
				c.next.data = offer;
				c.next.len = sizeof(offer) - 1;
			}
			rc = kp_ipc_enc_continue(&b, q->sid, &c);
			break;
		}
		if (q->u.gss_step.token.len > 0 && q->u.gss_step.token.data[0] == 'V')
			goto verdict;
		goto fail;
	case KP_IPC_PASSWORD:
		if (strcmp(q->u.password.password, "secret") == 0)
			goto verdict;
		goto fail;
	case KP_IPC_KPOP_APREQ:
		if (q->u.kpop_apreq.apreq.len > 0 && q->u.kpop_apreq.apreq.data[0] == 'G') {
			struct kp_ipc_kpop_ok k = { { challenge, sizeof(challenge) - 1 } };

			rc = kp_ipc_enc_kpop_ok(&b, q->sid, &k);
		} else {
			struct kp_ipc_kpop_fail k;

			memset(&k, 0, sizeof(k));
			k.krb_error.data = challenge;
			k.krb_error.len = 4;
			snprintf(k.reason, sizeof(k.reason), "fuzz: no");
			rc = kp_ipc_enc_kpop_fail(&b, q->sid, &k);
		}
		break;
	case KP_IPC_KPOP_USER:
		if (strcmp(q->u.kpop_user.user, "alice") == 0)
			goto verdict;
		goto fail;
	default:
		return 0; /* BEGIN, GSS_CANCEL, END: no answer */
	}
	goto send;
verdict: {
		static struct kp_ipc_verdict v;

		memset(&v, 0, sizeof(v));
		snprintf(v.principal, sizeof(v.principal), "alice@KPOP.TEST");
		snprintf(v.user, sizeof(v.user), "alice");
		snprintf(v.maildrop, sizeof(v.maildrop), "%s", fake_auth_maildrop);
		v.uid = (uint32_t)geteuid();
		v.gid = (uint32_t)getegid();
		rc = kp_ipc_enc_verdict(&b, q->sid, &v);
		goto send;
	}
fail: {
		struct kp_ipc_fail f;

		memset(&f, 0, sizeof(f));
		snprintf(f.reason, sizeof(f.reason), "fuzz: refused");
		f.tries_left = 2;
		rc = kp_ipc_enc_fail(&b, q->sid, &f);
	}
send:
	if (rc != 0)
		return rc;
	rc = kp_ipc_send(fd, &b);
	kp_buf_free(&b);
	return rc;
}

static void *
fake_auth_main(void *arg)
{
	static unsigned char buf[KP_IPC_MSG_MAX + 1];
	struct kp_ipc_msg q;
	size_t len;

	(void)arg;
	for (;;) {
		struct fake_auth *fa;

		while (sem_wait(&fake_auth_go) != 0)
			;
		fa = fake_auth_cur;
		while (kp_ipc_recv(fa->fd, buf, KP_IPC_MSG_MAX, &len) == 0) {
			if (kp_ipc_decode(buf, len, KP_IPC_TO_AUTH, &q) != 0) {
				dprintf(fuzz_err_fd, "fuzz: the session sent a malformed request\n");
				abort();
			}
			fa->requests++;
			if (fake_auth_answer(fa->fd, &q) != 0)
				break;
		}
		sem_post(&fake_auth_done);
	}
	return NULL;
}

/* Start the stand-in; a->fd is the session's end of the channel. */
static inline void
fake_auth_start(struct fake_auth *fa, struct kp_authc *a, uint32_t mode, int threaded)
{
	static int started;
	int sv[2];

	if (threaded && !started) {
		if (sem_init(&fake_auth_go, 0, 0) != 0 || sem_init(&fake_auth_done, 0, 0) != 0 ||
		    pthread_create(&fake_auth_thread, NULL, fake_auth_main, NULL) != 0)
			abort();
		started = 1;
	}
	if (kp_ipc_pair(sv) != 0)
		abort();
	fa->fd = sv[1];
	fa->sfd = sv[0];
	fa->requests = 0;
	if (kp_authc_init(a, sv[0], 1, mode, "127.0.0.1 40000", "127.0.0.1 110") != 0)
		abort();
	fa->threaded = threaded;
	if (threaded) {
		fake_auth_cur = fa;
		sem_post(&fake_auth_go);
	}
}

/* The session is over: close its end (the thread sees the end) and wait. */
static inline void
fake_auth_stop(struct fake_auth *fa, struct kp_authc *a)
{
	kp_authc_free(a);
	close(fa->sfd);
	while (fa->threaded && sem_wait(&fake_auth_done) != 0)
		;
	close(fa->fd);
}

#endif
