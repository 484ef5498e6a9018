/* authd.c - the auth service.  One long-lived process, its own unprivileged user
 * after start, the keytab copied into a MEMORY: keytab first.  It serves every
 * worker over its own SOCK_SEQPACKET channel, one request and one answer at a
 * time, in the order the permit table allows (kp_ipc_rules); a peer that sends
 * anything else is dropped and logged, and the service goes on serving the rest.
 *
 * Answers: GSS_STEP -> CONTINUE | VERDICT | FAIL; PASSWORD -> VERDICT | FAIL;
 * KPOP_APREQ -> KPOP_OK | KPOP_FAIL; KPOP_USER -> VERDICT | FAIL; BEGIN, GSS_CANCEL
 * and END get none.  A VERDICT says who the session runs as and where its
 * maildrop is: the worker does not decide either. */
#include "config.h"
#include "server/authd/authd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <krb5.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "server/authd/auth.h"
#include "server/authd/kpop_verify.h"
#include "server/authd/policy.h"
#include "server/ident.h"
#include "server/proctitle.h"
#include "server/usermap.h"

#define MEMORY_KEYTAB "MEMORY:kpopd-auth"

struct peer {
	int fd;                      /* -1: free slot */
	long pid;                    /* the worker, as the master told us */
	struct kp_ipc_permit permit;
	struct kp_auth *auth;        /* the GSSAPI exchange, after BEGIN */
	char peer[KP_IPC_ADDR_MAX];  /* BEGIN's, for the logs */
	char kpop_principal[KP_NAME_MAX]; /* after KPOP_OK */
	int fails;
};

static struct kp_conf *conf;
static struct peer *peers;
static size_t npeers;
static size_t nlive;          /* peers with fd >= 0 */
static int epfd = -1;         /* every peer's channel and the master's */

/* epoll data: the peer slot and its descriptor (a slot's descriptor is checked
 * before an event is served: the slot may have been dropped and reused since). */
#define EV_MASTER UINT64_MAX
static uint64_t
ev_key(size_t slot, int fd)
{
	return (uint64_t)slot << 32 | (uint32_t)fd;
}
static unsigned char *rx;     /* KP_IPC_MSG_MAX + 1 */

/* --- start-up ---------------------------------------------------------------------- */

/* Copy every entry of the configured keytab into MEMORY_KEYTAB, kept open for the
 * life of the process (a MEMORY: keytab lives as long as a handle to it). */
static void
load_keytab(void)
{
	static krb5_context ctx;
	static krb5_keytab mem;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_error_code kret;
	int n = 0;

	if (krb5_init_context(&ctx) != 0)
		kp_fatal("auth service: krb5_init_context failed");
	if (krb5_kt_resolve(ctx, MEMORY_KEYTAB, &mem) != 0)
		kp_fatal("auth service: cannot make a MEMORY: keytab");
	kret = conf->keytab != NULL ? krb5_kt_resolve(ctx, conf->keytab, &kt)
				    : krb5_kt_default(ctx, &kt);
	if (kret == 0)
		kret = krb5_kt_start_seq_get(ctx, kt, &cur);
	if (kret == 0) {
		while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
			if (krb5_kt_add_entry(ctx, mem, &e) == 0)
				n++;
			krb5_free_keytab_entry_contents(ctx, &e);
		}
		krb5_kt_end_seq_get(ctx, kt, &cur);
	}
	if (kret != 0) {
		const char *m = krb5_get_error_message(ctx, kret);

		kp_log(KP_LOG_ERR, "auth service: cannot read the keytab %s: %s (every "
		       "Kerberos login will fail)", conf->keytab != NULL ? conf->keytab :
		       "(default)", m);
		krb5_free_error_message(ctx, m);
	}
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	kp_log(KP_LOG_DEBUG, "auth service: %d keytab entries loaded", n);
	free(conf->keytab);
	conf->keytab = strdup(MEMORY_KEYTAB);
	if (conf->keytab == NULL)
		kp_fatal("out of memory");
	setenv("KRB5_KTNAME", MEMORY_KEYTAB, 1);
}

/* The replay cache must be writable by the auth user.  A private subdirectory of
 * rcache_dir is made for it when rcache_dir itself is not (root's state
 * directory, say); rcache_dir is never re-owned. */
static void
prepare_rcache(uid_t uid, gid_t gid)
{
	const char *dir = conf->rcache_dir != NULL ? conf->rcache_dir : getenv("KRB5RCACHEDIR");
	char sub[PATH_MAX];
	struct stat st;

	if (dir == NULL || dir[0] == '\0' || uid == geteuid())
		return;
	if (stat(dir, &st) == 0 &&
	    (st.st_uid == uid || (st.st_mode & S_IWOTH) != 0))
		return;
	if (snprintf(sub, sizeof(sub), "%s/auth-%lu", dir,
		     (unsigned long)uid) >= (int)sizeof(sub))
		kp_fatal("rcache_dir too long");
	if (mkdir(sub, 0700) != 0 && errno != EEXIST)
		kp_fatal("auth service: mkdir %s: %s", sub, strerror(errno));
	if (lstat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
		kp_fatal("auth service: %s is not a directory", sub);
	if (st.st_uid != uid && (st.st_uid != 0 || chown(sub, uid, gid) != 0))
		kp_fatal("auth service: %s is not owned by the auth user", sub);
	setenv("KRB5RCACHEDIR", sub, 1);
}

/* --- answers ----------------------------------------------------------------------- */

static void drop(struct peer *p, const char *why);

static int
send_answer(struct peer *p, struct kp_buf *b, int enc_rc, uint32_t type,
	    uint32_t tries_left)
{
	int rc = enc_rc;

	if (rc == 0) {
		rc = kp_ipc_send(p->fd, b);
		kp_buf_free(b);
	}
	if (rc != 0) {
		drop(p, kp_strerror(rc));
		return rc;
	}
	kp_ipc_permit_answer(&p->permit, type, tries_left);
	return 0;
}

static int
answer_fail(struct peer *p, const char *why)
{
	struct kp_ipc_fail m;
	struct kp_buf b;
	uint32_t left;

	p->fails++;
	left = p->fails >= KP_AUTH_FAIL_MAX ? 0 : (uint32_t)(KP_AUTH_FAIL_MAX - p->fails);
	kp_log(KP_LOG_WARN, "auth failed: %s", why);
	memset(&m, 0, sizeof(m));
	snprintf(m.reason, sizeof(m.reason), "%s", why);
	m.tries_left = left;
	return send_answer(p, &b, kp_ipc_enc_fail(&b, p->permit.sid, &m), KP_IPC_FAIL, left);
}

/* Authenticated as principal (by mech), authorized as user: who the session runs
 * as, its maildrop and policies; ctx/ctxlen the exported GSS context for a security
 * layer.  Logged once it has gone: the worker is waiting for it. */
static int
answer_verdict(struct peer *p, const char *mech, const char *principal, const char *user,
	       unsigned ssf, unsigned maxbuf, const void *ctx, size_t ctxlen)
{
	struct kp_ipc_verdict *m;
	struct kp_policy pol;
	struct kp_ident id;
	struct kp_buf b;
	char why[512];
	int rc;

	rc = kp_ident_resolve(conf, user, &id, why, sizeof(why));
	if (rc == 0 && kp_policy_for(conf, user, &pol, why, sizeof(why)) != 0)
		rc = KP_E_CONFIG;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return answer_fail(p, "out of memory");
	if (rc == 0)
		rc = kp_ident_maildrop(conf, user, &id, m->maildrop, sizeof(m->maildrop));
	if (rc != 0) {
		char detail[700];

		free(m);
		snprintf(detail, sizeof(detail), "login %s as %s refused: %s", principal, user,
			 rc == KP_E_NOTFOUND && strcmp(why, "ok") == 0 ?
			 "no home directory for %h" : rc == KP_E_TOOBIG ?
			 "maildrop path too long" : why);
		return answer_fail(p, detail);
	}
	snprintf(m->principal, sizeof(m->principal), "%s", principal);
	snprintf(m->user, sizeof(m->user), "%s", user);
	m->uid = (uint32_t)id.uid;
	m->gid = (uint32_t)id.gid;
	m->ssf = ssf;
	m->maxbuf = maxbuf;
	m->gss_ctx.data = ctx;
	m->gss_ctx.len = ctx != NULL ? ctxlen : 0;
	m->login_delay = pol.login_delay;
	m->expire_days = pol.expire_days;
	rc = kp_ipc_enc_verdict(&b, p->permit.sid, m);
	kp_ipc_wipe(m, sizeof(*m));
	free(m);
	if ((rc = send_answer(p, &b, rc, KP_IPC_VERDICT, 0)) == 0)
		kp_log(KP_LOG_INFO, "auth ok mech=%s principal=%s user=%s uid=%lu for worker %ld",
		       mech, principal, user, (unsigned long)id.uid, p->pid);
	return rc;
}

/* --- requests ---------------------------------------------------------------------- */

static int
do_begin(struct peer *p, const struct kp_ipc_begin *m)
{
	char name[KP_IPC_ADDR_MAX + 32];

	snprintf(p->peer, sizeof(p->peer), "%s", m->peer);
	p->fails = 0;
	p->kpop_principal[0] = '\0';
	kp_auth_free(p->auth);
	p->auth = NULL;
	if (kp_auth_new(conf, m->local[0] ? m->local : NULL, m->peer[0] ? m->peer : NULL,
			&p->auth) != 0) {
		drop(p, "out of memory");
		return -1;
	}
	kp_auth_set_tls(p->auth, m->tls != 0);
	snprintf(name, sizeof(name), "auth %s", m->peer[0] ? m->peer : "-");
	kp_log_set_prefix(name);
	return 0;
}

static int
do_gss_step(struct peer *p, const struct kp_ipc_gss_step *m)
{
	struct kp_auth_layer l;
	struct kp_ipc_continue c;
	struct kp_buf b;
	const void *out;
	size_t outlen;
	int rc;

	rc = kp_auth_step(p->auth, "GSSAPI", m->token.data, m->token.len, m->has_token != 0,
			  &out, &outlen);
	if (rc == KP_AUTH_CONTINUE) {
		struct kp_buf last;

		memset(&c, 0, sizeof(c));
		c.token.data = out;
		c.token.len = outlen;
		if (!kp_auth_awaits_empty(p->auth))
			return send_answer(p, &b, kp_ipc_enc_continue(&b, p->permit.sid, &c),
					   KP_IPC_CONTINUE, 0);
		/* The last accept token: the only good answer to it is empty, and ours
		 * to that is the wrapped layer offer.  Both go now (the worker answers
		 * the empty response itself); the exchange waits for the client's
		 * answer to the offer. */
		kp_buf_init(&last, outlen + 1, 0);
		if (kp_buf_add(&last, out, outlen) != 0) {
			kp_buf_free(&last);
			drop(p, "out of memory");
			return -1;
		}
		rc = kp_auth_step(p->auth, "GSSAPI", "", 0, 1, &out, &outlen);
		if (rc == KP_AUTH_CONTINUE) {
			c.token.data = last.data;
			c.token.len = last.len;
			c.next.data = out;
			c.next.len = outlen;
			rc = send_answer(p, &b, kp_ipc_enc_continue(&b, p->permit.sid, &c),
					 KP_IPC_CONTINUE, 0);
			kp_buf_free(&last);
			return rc;
		}
		kp_buf_free(&last);
		if (rc == 0) /* (the offer always waits for an answer) */
			rc = KP_E_AUTH;
	}
	if (rc != 0) {
		rc = answer_fail(p, kp_auth_error(p->auth));
		kp_auth_reset(p->auth);
		return rc;
	}
	(void)kp_auth_layer(p->auth, &l);
	rc = answer_verdict(p, "GSSAPI", kp_auth_principal(p->auth), kp_auth_user(p->auth), l.ssf,
			    l.peer_maxbuf, l.ctx, l.ctxlen);
	kp_auth_reset(p->auth); /* the context left with the verdict: one owner */
	return rc;
}

static int
do_password(struct peer *p, struct kp_ipc_password *m)
{
	char principal[KP_NAME_MAX], user[KP_NAME_MAX], why[512];
	const char *mech = m->sasl_plain ? "PLAIN" : "USER/PASS";
	int rc;

	if (!kp_usermap_valid_user(m->user)) {
		kp_ipc_wipe(m->password, sizeof(m->password));
		return answer_fail(p, "invalid user name");
	}
	rc = kp_auth_password(conf, m->user, m->password, principal, sizeof(principal), user,
			      sizeof(user), why, sizeof(why));
	kp_ipc_wipe(m->password, sizeof(m->password));
	if (rc != 0)
		return answer_fail(p, why);
	/* AUTH PLAIN's authzid: the same rule as GSSAPI's */
	if (!kp_auth_authzid_ok(m->authzid, principal, user)) {
		char esc[KP_NAME_MAX * 4];

		kp_log_escape(m->authzid, strlen(m->authzid), esc, sizeof(esc));
		snprintf(why, sizeof(why), "PLAIN: principal %s may not act as \"%s\"", principal,
			 esc);
		return answer_fail(p, why);
	}
	return answer_verdict(p, mech, principal, user, 0, 0, NULL, 0);
}

static int
do_kpop_apreq(struct peer *p, const struct kp_ipc_kpop_apreq *m)
{
	struct kp_buf rep, err, b;
	char why[512];
	int mutual, rc;

	if (m->toolong != 0 && (m->apreq.len != 0 || m->toolong <= KP_AUTH_TOKEN_MAX)) {
		drop(p, "a malformed request (an AP-REQ both kept and too large)");
		return -1;
	}
	kp_buf_init(&rep, KP_AUTH_TOKEN_MAX, 0);
	kp_buf_init(&err, KP_AUTH_TOKEN_MAX, 0);
	if (m->toolong != 0)
		rc = kp_kpop_too_large(m->toolong, &err, why, sizeof(why));
	else
		rc = kp_kpop_verify(conf, m->apreq.data, m->apreq.len, p->peer, p->kpop_principal,
				    sizeof(p->kpop_principal), &mutual, &rep, &err, why,
				    sizeof(why));
	if (rc == 0) {
		struct kp_ipc_kpop_ok ok;

		ok.aprep.data = rep.data;
		ok.aprep.len = rep.len;
		rc = send_answer(p, &b, kp_ipc_enc_kpop_ok(&b, p->permit.sid, &ok),
				 KP_IPC_KPOP_OK, 0);
		if (rc == 0)
			kp_log(KP_LOG_INFO, "KPOP: authenticated principal=%s mutual=%s",
			       p->kpop_principal, mutual ? "yes" : "no");
	} else {
		struct kp_ipc_kpop_fail f;

		p->kpop_principal[0] = '\0';
		kp_log(KP_LOG_WARN, "KPOP: authentication failed: %s", why);
		memset(&f, 0, sizeof(f));
		f.krb_error.data = err.data;
		f.krb_error.len = err.len;
		snprintf(f.reason, sizeof(f.reason), "%s", why);
		rc = send_answer(p, &b, kp_ipc_enc_kpop_fail(&b, p->permit.sid, &f),
				 KP_IPC_KPOP_FAIL, 0);
	}
	kp_buf_free(&rep);
	kp_buf_free(&err);
	return rc;
}

static int
do_kpop_user(struct peer *p, const struct kp_ipc_kpop_user *m)
{
	char user[KP_NAME_MAX], why[512] = "", detail[1100];

	if (kp_usermap_valid_user(m->user) &&
	    kp_usermap_map(conf, p->kpop_principal, user, sizeof(user), why,
			   sizeof(why)) == 0 && strcmp(user, m->user) == 0)
		return answer_verdict(p, "KPOP", p->kpop_principal, user, 0, 0, NULL, 0);
	snprintf(detail, sizeof(detail), "KPOP principal %s may not use mailbox %s%s%s",
		 p->kpop_principal, m->user, why[0] != '\0' ? ": " : "", why);
	return answer_fail(p, detail);
}

/* --- peers ------------------------------------------------------------------------- */

static void
drop(struct peer *p, const char *why)
{
	if (p->fd < 0)
		return;
	if (why != NULL)
		kp_log(KP_LOG_WARN, "auth service: dropping worker %ld: %s", p->pid, why);
	if (epfd >= 0)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	p->fd = -1;
	nlive--;
	kp_auth_free(p->auth);
	p->auth = NULL;
	kp_ipc_wipe(p->kpop_principal, sizeof(p->kpop_principal));
}

static void
add_peer(int fd, long pid)
{
	size_t i;

	for (i = 0; i < npeers && peers[i].fd >= 0; i++)
		;
	if (i == npeers) {
		size_t nn = npeers * 2 + 8, j;
		struct peer *np = realloc(peers, nn * sizeof(*peers));

		if (np == NULL) {
			kp_log(KP_LOG_ERR, "auth service: out of memory for a new worker");
			close(fd);
			return;
		}
		peers = np;
		for (j = npeers; j < nn; j++) {
			memset(&peers[j], 0, sizeof(peers[j]));
			peers[j].fd = -1;
		}
		npeers = nn;
	}
	if (epfd >= 0) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = ev_key(i, fd);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			kp_log(KP_LOG_ERR, "auth service: epoll_ctl: %s", strerror(errno));
			close(fd);
			return;
		}
	}
	memset(&peers[i], 0, sizeof(peers[i]));
	peers[i].fd = fd;
	peers[i].pid = pid;
	kp_ipc_permit_init(&peers[i].permit, conf->plaintext_login);
	nlive++;
}

/* One request from p. */
static void
serve_peer(struct peer *p)
{
	struct kp_ipc_msg *m;
	size_t len = 0;
	int rc;

	rc = kp_ipc_recv(p->fd, rx, KP_IPC_MSG_MAX, &len);
	if (rc == KP_E_EOF) {
		drop(p, NULL);
		return;
	}
	if (rc != 0) {
		drop(p, rc == KP_E_TOOBIG ? "a message over the size limit" : kp_strerror(rc));
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		drop(p, "out of memory");
		return;
	}
	rc = kp_ipc_decode(rx, len, KP_IPC_TO_AUTH, m);
	if (rc != 0) {
		drop(p, "a malformed request");
	} else if (kp_ipc_permit_consume(&p->permit, m) != 0) {
		char why[128];

		snprintf(why, sizeof(why), "%s is not permitted now (session %lu)",
			 kp_ipc_type_name(m->type), (unsigned long)m->sid);
		drop(p, why);
	} else {
		switch (m->type) {
		case KP_IPC_BEGIN:
			(void)do_begin(p, &m->u.begin);
			break;
		case KP_IPC_GSS_STEP:
			(void)do_gss_step(p, &m->u.gss_step);
			break;
		case KP_IPC_GSS_CANCEL:
			kp_auth_reset(p->auth);
			break;
		case KP_IPC_PASSWORD:
			(void)do_password(p, &m->u.password);
			break;
		case KP_IPC_KPOP_APREQ:
			(void)do_kpop_apreq(p, &m->u.kpop_apreq);
			break;
		case KP_IPC_KPOP_USER:
			(void)do_kpop_user(p, &m->u.kpop_user);
			break;
		case KP_IPC_END:
			kp_auth_free(p->auth);
			p->auth = NULL;
			p->kpop_principal[0] = '\0';
			kp_log_set_prefix("auth");
			break;
		default:
			drop(p, "an unknown request");
		}
	}
	kp_ipc_wipe(rx, len);
	kp_ipc_wipe(m, sizeof(*m));
	free(m);
}

int
kp_authd_add_peer(int ctl, int fd, long pid)
{
	struct kp_buf b;
	int rc;

	kp_buf_init(&b, 32, 0);
	kp_ipc_put_hdr(&b, KP_IPC_PEER, 0);
	kp_ipc_put_u32(&b, (uint32_t)pid);
	rc = kp_ipc_send_fd(ctl, &b, fd);
	kp_buf_free(&b);
	return rc;
}

/* The master said something: a new peer, or its end closed (0 returned). */
static int
from_master(int ctl)
{
	unsigned char buf[64 + 1];
	struct kp_ipc_rd r;
	uint32_t type, sid, pid;
	size_t len = 0;
	int fd = -1;

	if (kp_ipc_recv_fd(ctl, buf, sizeof(buf) - 1, &len, &fd) != 0)
		return 0;
	kp_ipc_rd_init(&r, buf, len);
	kp_ipc_get_hdr(&r, &type, &sid);
	kp_ipc_get_u32(&r, &pid);
	if (kp_ipc_end(&r) != 0 || type != KP_IPC_PEER) {
		close(fd);
		kp_log(KP_LOG_ERR, "auth service: garbage from the master");
		return 0;
	}
	add_peer(fd, (long)pid);
	return 1;
}

/* SCHED_BATCH: a worker's request does not preempt the worker that sends it, so
 * the messages it sends together (END, BEGIN and the first step: authc.c) are read
 * in one run of ours instead of one each, with two context switches fewer; a
 * worker woken by our answer still runs before the rest of our work (the log
 * line).  The CPU share is the same (nice is unchanged). */
static void
batch_policy(void)
{
#ifdef SCHED_BATCH
	struct sched_param sp;

	memset(&sp, 0, sizeof(sp));
	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		kp_log(KP_LOG_DEBUG, "auth service: SCHED_BATCH: %s", strerror(errno));
#endif
}

void
kp_authd_main(struct kp_conf *c, int ctl, int first_peer)
{
	struct epoll_event evs[64], ev;
	char why[256];
	int n, i;

	conf = c;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	kp_proctitle("auth");
	kp_log_set_prefix("auth");
	rx = malloc(KP_IPC_MSG_MAX + 1);
	if (rx == NULL)
		kp_fatal("out of memory");
	load_keytab();
	if (geteuid() == 0) {
		uid_t uid;
		gid_t gid;

		if (kp_ident_lookup_service_user(c->auth_user, "auth_user", &uid, &gid, why,
						 sizeof(why)) != 0)
			kp_fatal("auth service: %s", why);
		prepare_rcache(uid, gid);
		if (kp_ident_drop_to(uid, gid) != 0)
			kp_fatal("auth service: cannot become uid %lu: %s", (unsigned long)uid,
				 strerror(errno));
	}
	kp_auth_global_init(c);
	batch_policy();
	/* One epoll set: a request costs the same with 4 workers or 400 (a poll()
	 * over every peer's channel grew with the pool). */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		kp_fatal("auth service: epoll_create1: %s", strerror(errno));
	if (ctl >= 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = EV_MASTER;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, ctl, &ev) != 0)
			kp_fatal("auth service: epoll_ctl: %s", strerror(errno));
	}
	if (first_peer >= 0)
		add_peer(first_peer, (long)getppid());
	kp_log(KP_LOG_DEBUG, "auth service ready (uid %lu)", (unsigned long)geteuid());
	for (;;) {
		if (ctl < 0 && nlive == 0)
			break;
		n = epoll_wait(epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kp_fatal("auth service: epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			uint64_t key = evs[i].data.u64;
			size_t slot;

			if (key == EV_MASTER) {
				if (ctl >= 0 && !from_master(ctl)) {
					/* the master is gone or replaced us: serve the
					 * sessions we have, then leave */
					(void)epoll_ctl(epfd, EPOLL_CTL_DEL, ctl, NULL);
					close(ctl);
					ctl = -1;
				}
				continue;
			}
			slot = (size_t)(key >> 32);
			if (slot < npeers && peers[slot].fd >= 0 &&
			    (uint32_t)peers[slot].fd == (uint32_t)key)
				serve_peer(&peers[slot]);
		}
	}
	close(epfd);
	epfd = -1;
	_exit(0);
}
