/* session.c - one POP3 session: command tables per state, replies, UPDATE. */
#include "config.h"
#include "server/session.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kp_b64.h"
#include "kp_err.h"
#include "kp_gsslayer.h"
#include "kp_io.h"
#include "kp_limits.h"
#include "kp_log.h"
#include "kp_plain.h"
#include "kp_pop3.h"
#include "kp_tls.h"
#include "kp_ipc_msg.h"
#include "server/authc.h"
#include "server/ident.h"
#include "server/maildrop.h"
#include "server/mbox.h"
#include "server/mdstate.h"
#include "server/usermap.h"

/* The SASL mechanisms offered (the auth service runs them); PLAIN as well where a
 * password may be sent (plain_offered). */
#define SASL_MECHS "GSSAPI"

enum state { ST_AUTHORIZATION, ST_TRANSACTION, ST_UPDATE, ST_CLOSED };
static const char *state_names[] = { "AUTHORIZATION", "TRANSACTION", "UPDATE", "CLOSED" };

/* What a handler tells the dispatcher; the dispatcher alone changes state. */
enum ev {
	EV_DONE,      /* replied; stay */
	EV_BAD,       /* replied -ERR to a malformed command; counts as a bad command */
	EV_LOGIN,     /* authenticated and the maildrop is open: -> TRANSACTION */
	EV_QUIT,      /* QUIT: -> UPDATE (TRANSACTION) or CLOSED */
	EV_DROP       /* the connection is unusable or must end now: -> CLOSED */
};

struct session;
struct cmd {
	const char *verb;
	enum ev (*fn)(struct session *s, int argc, char **argv);
	int min_args, max_args; /* arguments after the verb */
};

struct session {
	const struct kp_session_params *p;
	const struct kp_conf *conf;
	struct kp_io io;
	enum state state;
	const struct cmd *table;  /* the table in use is the state's command set */
	struct kp_authc *auth;    /* the auth service (the caller's) */
	struct kp_maildrop *md;
	struct kp_mdstate *mds;   /* LOGIN-DELAY / EXPIRE state, where a policy needs it */
	uint32_t login_delay, expire_days; /* the user's (the verdict's) */
	unsigned long expired;
	char user[KP_NAME_MAX];
	char principal[KP_NAME_MAX];
	const char *mech;         /* after login: GSSAPI, PLAIN, USER or KPOP */
	int bad_cmds, auth_fails;
	int end_rc;
	long long login_deadline; /* kp_io_now_ms by which AUTHORIZATION must end */
	unsigned long retr, top, dele, removed;
	unsigned long long retr_octets;
	char kpop_user[KP_NAME_MAX]; /* USER given after a KPOP handshake, or over TLS */
	struct kp_tls *tls;          /* TLS is active */
	unsigned ssf;                /* SASL security layer in use (0 none) */
	struct kp_gsslayer *layer;   /* its state, over the imported GSS context */
	struct kp_io *back;          /* system-user front: the session parent's stream */
	/* AUTH may carry its initial response on the command line (Perl's Net::POP3
	 * does, against RFC 5034, as Dovecot allows): that one command gets the AUTH
	 * continuation cap, every other the RFC 2449 cap. */
	char line[KP_AUTH_LINE_MAX + 1];
	char raw[KP_CMD_LINE_MAX + 1]; /* the line before splitting (PASS keeps spaces) */
};

static const struct cmd *table_for(enum state st);
static enum ev start_layer(struct session *s, const struct kp_ipc_verdict *v);

/* AUTH PLAIN, like USER/PASS: only inside TLS, with plaintext_login on. */
static int
plain_offered(const struct session *s)
{
	return !s->p->kpop && s->tls != NULL && s->conf->plaintext_login;
}

static void
session_set_state(struct session *s, enum state next)
{
	if (next != s->state)
		kp_log(KP_LOG_DEBUG, "state %s -> %s", state_names[s->state], state_names[next]);
	s->state = next;
	s->table = table_for(next);
}

/* --- replies shared by several commands --------------------------------------- */

/* EXPIRE and LOGIN-DELAY (RFC 2449): the user's values after login; before it the
 * global ones, tagged USER when policy_file may give a user others. */
static void
capa_policies(struct session *s)
{
	int user = s->state != ST_AUTHORIZATION;
	long long days = user ? (s->expire_days == KP_IPC_EXPIRE_NEVER ? -1 :
				 (long long)s->expire_days) : s->conf->expire_days;
	unsigned long delay = user ? s->login_delay : (unsigned long)s->conf->login_delay;
	const char *tag = !user && s->conf->policy_file != NULL ? " USER" : "";

	if (days < 0)
		kp_io_printf(&s->io, "EXPIRE NEVER%s\r\n", tag);
	else
		kp_io_printf(&s->io, "EXPIRE %lld%s\r\n", days, tag);
	kp_io_printf(&s->io, "LOGIN-DELAY %lu%s\r\n", delay, tag);
}

static void
capa(struct session *s)
{
	struct kp_io *io = &s->io;

	kp_pop3_ok(io, "Capability list follows");
	kp_io_puts(io, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (s->state == ST_AUTHORIZATION) {
		/* RFC 2595: STLS only until TLS is active */
		if (s->p->tls_ctx != NULL && s->tls == NULL)
			kp_io_puts(io, "STLS\r\n");
		if (s->p->kpop || (s->tls != NULL && s->conf->plaintext_login))
			kp_io_puts(io, "USER\r\n");
	}
	/* the same list after AUTH: clients such as Cyrus pop3test compare it to
	 * detect a downgrade */
	if (!s->p->kpop)
		kp_io_puts(io, plain_offered(s) ? "SASL " SASL_MECHS " PLAIN\r\n" :
			   "SASL " SASL_MECHS "\r\n");
	capa_policies(s);
	kp_io_puts(io, "IMPLEMENTATION kpopd-" PACKAGE_VERSION "\r\n.\r\n");
}

static enum ev
cmd_capa(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	capa(s);
	return EV_DONE;
}

static enum ev
cmd_noop(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kp_pop3_ok(&s->io, "%s", "");
	return EV_DONE;
}

static enum ev
cmd_quit(struct session *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	(void)s;
	return EV_QUIT;
}

/* --- AUTHORIZATION ------------------------------------------------------------ */

/* LOGIN-DELAY and EXPIRE for the user the verdict names, on the open maildrop:
 * refuse a login sooner than login_delay after the last one (replies itself) and
 * record this one durably; load what EXPIRE needs.  EV_LOGIN or EV_DROP. */
static enum ev
policies_at_login(struct session *s, const struct kp_ipc_verdict *v)
{
	time_t now = time(NULL);
	long wait;

	s->login_delay = v->login_delay;
	s->expire_days = v->expire_days;
	if (v->login_delay == 0 && v->expire_days == KP_IPC_EXPIRE_NEVER)
		return EV_LOGIN; /* no state to keep: the fast path */
	if (kp_mdstate_open(s->md, &s->mds) != 0) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Out of memory");
		return EV_DROP;
	}
	if (v->login_delay == 0)
		return EV_LOGIN;
	wait = kp_mdstate_login_wait(s->mds, v->login_delay, now);
	if (wait > 0) {
		kp_log(KP_LOG_INFO, "login %s as %s refused: LOGIN-DELAY %lu s, %ld s to wait",
		       v->principal, v->user, (unsigned long)v->login_delay, wait);
		kp_pop3_err(&s->io, "LOGIN-DELAY", "Logins at most every %lu seconds: try again "
			    "in %ld seconds", (unsigned long)v->login_delay, wait);
		return EV_DROP;
	}
	if (kp_mdstate_login(s->mds, now) != 0)
		kp_log(KP_LOG_WARN, "LOGIN-DELAY of %s not enforceable: this login was not "
		       "recorded (see above)", v->user);
	return EV_LOGIN;
}

/* The auth service's verdict: become its uid (where this process still can), then
 * open the maildrop it named.  Replies itself.  Returns EV_LOGIN or EV_DROP (the
 * connection ends: privileges may be gone, and a second login must not follow). */
static enum ev
login(struct session *s, const struct kp_ipc_verdict *v)
{
	struct kp_ident id;
	unsigned long count, total;
	unsigned long long octets;
	uid_t euid;
	int rc;

	memset(&id, 0, sizeof(id));
	id.uid = (uid_t)v->uid;
	id.gid = (gid_t)v->gid;
	id.virtual_user = s->conf->mail_uid != NULL;
	snprintf(id.name, sizeof(id.name), "%s", v->user);
	/* A worker that already runs unprivileged serves only its own uid. */
	if ((euid = geteuid()) != 0 && id.uid != euid) {
		kp_log(KP_LOG_ERR, "login %s as %s: the verdict says uid %lu, this worker runs "
		       "as uid %lu", v->principal, v->user, (unsigned long)id.uid,
		       (unsigned long)euid);
		kp_pop3_err(&s->io, "SYS/TEMP", "Internal error");
		return EV_DROP;
	}
	/* Nothing under the maildrop path has been looked at yet: drop privileges first. */
	if (kp_ident_become(&id) != 0) {
		kp_log(KP_LOG_ERR, "login %s as %s: cannot switch to uid %lu gid %lu: %s",
		       v->principal, v->user, (unsigned long)id.uid, (unsigned long)id.gid,
		       strerror(errno));
		kp_pop3_err(&s->io, "SYS/TEMP", "Internal error");
		return EV_DROP;
	}
	kp_mbox_set_journal_dir(s->conf->mbox_journal_dir);
	rc = kp_maildrop_open(v->maildrop, id.uid, (unsigned long)s->conf->max_messages, &s->md);
	if (rc == KP_E_INUSE) {
		kp_log(KP_LOG_INFO, "login %s as %s: maildrop in use", v->principal, v->user);
		kp_pop3_err(&s->io, "IN-USE", "Mailbox is locked by another POP3 session");
		return EV_DROP;
	}
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "login %s as %s: cannot open %s: %s", v->principal, v->user,
		       v->maildrop, rc == KP_E_AUTH ? "not this user's Maildir (see above)" :
		       kp_strerror(rc));
		kp_pop3_err(&s->io, "SYS/TEMP", "Cannot open mailbox");
		return EV_DROP;
	}
	if (policies_at_login(s, v) != EV_LOGIN)
		return EV_DROP;
	snprintf(s->user, sizeof(s->user), "%s", v->user);
	snprintf(s->principal, sizeof(s->principal), "%s", v->principal);
	kp_maildrop_stat(s->md, &count, &octets);
	total = kp_maildrop_found(s->md);
	if (total > kp_maildrop_count(s->md))
		kp_log(KP_LOG_WARN, "maildrop of %s holds %lu messages: serving the oldest %lu "
		       "(max_messages)", v->user, total, kp_maildrop_count(s->md));
	kp_pop3_ok(&s->io, "Logged in as %s, %lu messages (%llu octets)", v->user, count,
		   octets);
	(void)kp_io_flush(&s->io); /* the client first, then the log */
	kp_log(KP_LOG_INFO, "login user=%s principal=%s uid=%lu messages=%lu octets=%llu "
	       "pid=%ld", v->user, v->principal, (unsigned long)id.uid, count, octets,
	       (long)getpid());
	return EV_LOGIN;
}

/* System-user front: the session parent acts on the verdict; its login reply is the
 * first line on the handover socket, and goes to the client as ours would. */
static enum ev
hand_over(struct session *s, const struct kp_ipc_verdict *v)
{
	char line[KP_CMD_LINE_MAX + 1];
	size_t n;
	int rc;

	s->back = malloc(sizeof(*s->back));
	if (s->back == NULL) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Out of memory");
		return EV_DROP;
	}
	kp_io_init(s->back, s->p->handover_fd, s->p->handover_fd, s->conf->idle_timeout * 1000);
	rc = kp_io_read_line(s->back, line, KP_CMD_LINE_MAX, &n);
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "login %s as %s: the session parent did not answer: %s",
		       v->principal, v->user, kp_strerror(rc));
		kp_pop3_err(&s->io, "SYS/TEMP", "Internal error");
		return EV_DROP;
	}
	kp_io_write(&s->io, line, n);
	kp_io_puts(&s->io, "\r\n");
	if (strncmp(line, "+OK", 3) != 0)
		return EV_DROP; /* the parent logged why */
	snprintf(s->user, sizeof(s->user), "%s", v->user);
	snprintf(s->principal, sizeof(s->principal), "%s", v->principal);
	return EV_LOGIN;
}

/* System-user front after login: copy the client's bytes (decoded by TLS and the
 * layer) to the session parent and its answers back, until either side ends. */
static void
relay_back(struct session *s)
{
	struct kp_io *io = &s->io, *back = s->back;
	unsigned char buf[16384];
	struct pollfd pf[2];
	ssize_t n;

	for (;;) {
		int from_client = kp_io_buffered(io) > 0 ||
				  (io->layer.pending != NULL && io->layer.pending(io->layer.ctx) > 0);
		int from_back = kp_io_buffered(back) > 0;

		if (!from_client && !from_back) {
			if (kp_io_flush(io) != 0)
				return;
			pf[0].fd = io->rfd;
			pf[1].fd = back->rfd;
			pf[0].events = pf[1].events = POLLIN;
			if (poll(pf, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			from_client = pf[0].revents != 0;
			from_back = pf[1].revents != 0;
		}
		if (from_back) {
			n = kp_io_read_some(back, buf, sizeof(buf));
			if (n <= 0 || kp_io_write(io, buf, (size_t)n) != 0)
				return;
			continue;
		}
		n = kp_io_read_some(io, buf, sizeof(buf));
		if (n <= 0 || kp_write_all(back->wfd, buf, (size_t)n) != 0)
			return;
	}
}

/* The verdict arrived: log in, start the security layer, and let the auth service
 * forget the session (the exported context is wiped with its answer).  mech names
 * the way in for the live-session list (kpopd -s). */
static enum ev
logged_in(struct session *s, const char *mech)
{
	const struct kp_ipc_verdict *v = kp_authc_verdict(s->auth);
	enum ev ev;

	if (v == NULL)
		return EV_DROP;
	s->mech = mech;
	ev = s->p->handover_fd >= 0 ? hand_over(s, v) : login(s, v);
	if (ev == EV_LOGIN)
		ev = start_layer(s, v);
	if (s->p->handover_fd >= 0)
		kp_authc_forget(s->auth); /* the session parent ended it */
	else
		kp_authc_wipe_answer(s->auth); /* END once the client has its reply */
	return ev;
}

static enum ev
auth_failed(struct session *s, const char *why_log, const char *why_peer)
{
	if (why_log != NULL) /* NULL: the auth service decided, and logged why */
		kp_log(KP_LOG_WARN, "auth failed: %s", why_log);
	if (s->conf->auth_failure_delay_ms > 0) {
		kp_io_flush(&s->io);
		poll(NULL, 0, s->conf->auth_failure_delay_ms);
	}
	kp_pop3_err(&s->io, "AUTH", "%s", why_peer);
	if (s->auth->fd < 0) {
		kp_log(KP_LOG_WARN, "the auth service is gone, closing");
		return EV_DROP;
	}
	if (++s->auth_fails >= KP_AUTH_FAIL_MAX) {
		kp_log(KP_LOG_WARN, "too many failed authentications, closing");
		return EV_DROP;
	}
	return EV_DONE;
}

/* Read one AUTH continuation line into buf (decoded), through the session's line
 * buffer (the AUTH command's own arguments are used up by then).  Returns 0, 1 for
 * "*" (cancel), or a KP_E_*: KP_E_SYNTAX bad base64, KP_E_TOOBIG a token over
 * KP_AUTH_TOKEN_MAX (the line itself may be too long for that reason too:
 * KP_E_TOOLONG), KP_E_NUL, others fatal. */
static int
read_auth_response(struct session *s, unsigned char *buf, size_t *len)
{
	size_t n;
	int rc;

	*len = 0;
	rc = kp_io_read_line(&s->io, s->line, KP_AUTH_LINE_MAX, &n);
	if (rc != 0)
		return rc;
	kp_log_proto("C:", s->line, n, 1);
	if (n == 1 && s->line[0] == '*')
		return 1;
	return kp_b64_decode(s->line, n, buf, KP_AUTH_TOKEN_MAX, len);
}

/* A token over KP_AUTH_TOKEN_MAX.  b64: its whole base64 (the line fitted), whose
 * length and padding give the token's size to the octet when it is well formed;
 * NULL when the line itself was too long (drained): the log gives the line's limit. */
static enum ev
token_too_large(struct session *s, const char *b64)
{
	char why[200];
	size_t n = b64 != NULL ? strlen(b64) : 0, octets = n / 4 * 3;

	if (n >= 4 && n % 4 == 0) {
		octets -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
		snprintf(why, sizeof(why), "Kerberos token of %zu octets is over the "
			 "limit of %d (AD MaxTokenSize)", octets, KP_AUTH_TOKEN_MAX);
	} else if (n > 0)
		snprintf(why, sizeof(why), "Kerberos token of about %zu octets is over the "
			 "limit of %d (AD MaxTokenSize)", octets, KP_AUTH_TOKEN_MAX);
	else
		snprintf(why, sizeof(why), "AUTH response line over %d octets: a Kerberos token "
			 "over the limit of %d (AD MaxTokenSize)", KP_AUTH_LINE_MAX,
			 KP_AUTH_TOKEN_MAX);
	return auth_failed(s, why, "Kerberos token too large");
}

/* Refuse a password login where none is offered (replies itself): 1 if refused. */
static int
password_refused(struct session *s)
{
	if (!s->conf->plaintext_login)
		kp_pop3_err(&s->io, "AUTH", "Plaintext login is not offered: use AUTH GSSAPI");
	else if (s->tls == NULL)
		kp_pop3_err(&s->io, "AUTH", "Plaintext login needs TLS: use STLS first");
	else
		return 0;
	return 1;
}

/* The auth service's answer to a password (USER/PASS or AUTH PLAIN). */
static enum ev
password_verdict(struct session *s, int rc, const char *mech)
{
	if (rc == KP_E_IO) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Authentication service unavailable");
		return EV_DROP;
	}
	if (rc != 0)
		return auth_failed(s, NULL, "Authentication failed");
	return logged_in(s, mech);
}

/* The PLAIN message, decoded into in (KP_AUTH_TOKEN_MAX): from the AUTH line, or
 * from the answer to an empty challenge.  Returns 0, or 1 when the exchange ends
 * here (cancelled, a bad line, connection lost) with *ev_out replied. */
static int
plain_message(struct session *s, int argc, char **argv, unsigned char *in, size_t *inlen,
	      enum ev *ev_out)
{
	int rc;

	if (argc == 3) {
		rc = strcmp(argv[2], "=") == 0 ? 0 :
		     kp_b64_decode(argv[2], strlen(argv[2]), in, KP_AUTH_TOKEN_MAX, inlen);
	} else {
		kp_pop3_cont(&s->io, "");
		rc = read_auth_response(s, in, inlen);
	}
	if (rc == 0)
		return 0;
	if (rc == 1) {
		kp_log(KP_LOG_INFO, "AUTH cancelled by the client");
		kp_pop3_err(&s->io, NULL, "Authentication cancelled");
		*ev_out = EV_DONE;
	} else if (rc == KP_E_SYNTAX || rc == KP_E_TOOBIG) {
		*ev_out = auth_failed(s, "PLAIN: bad base64", argc == 3 ?
				      "Invalid base64 in initial response" : "Invalid base64 data");
	} else if (rc == KP_E_TOOLONG || rc == KP_E_NUL) {
		*ev_out = auth_failed(s, rc == KP_E_NUL ? "NUL in an AUTH response" :
				      "AUTH response line too long", "Invalid AUTH response line");
	} else {
		kp_log(KP_LOG_INFO, "connection lost during AUTH: %s", kp_strerror(rc));
		s->end_rc = rc;
		*ev_out = EV_DROP;
	}
	return 1;
}

/* AUTH PLAIN (RFC 4616) inside TLS: the message goes to the auth service as the
 * PASSWORD request USER/PASS makes, so the same permit rule and the same check
 * against the KDC and our key decide.  Every copy of the password is wiped. */
static enum ev
auth_plain(struct session *s, int argc, char **argv)
{
	unsigned char *in = NULL;
	struct kp_plain *m = NULL;
	size_t inlen = 0;
	enum ev ev = EV_BAD;
	int rc;

	if (password_refused(s))
		goto cleanup;
	in = malloc(KP_AUTH_TOKEN_MAX);
	m = malloc(sizeof(*m));
	if (in == NULL || m == NULL) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Out of memory");
		ev = EV_DROP;
		goto cleanup;
	}
	if (plain_message(s, argc, argv, in, &inlen, &ev))
		goto cleanup;
	rc = kp_plain_parse(in, inlen, m);
	if (rc != 0) {
		ev = auth_failed(s, rc == KP_E_NUL ? "PLAIN: a NUL inside the password" :
				 rc == KP_E_TOOBIG ? "PLAIN: a field over its cap" :
				 "PLAIN: not authzid NUL authcid NUL password",
				 "Invalid PLAIN message");
		goto cleanup;
	}
	ev = password_verdict(s, kp_authc_password(s->auth, m->authzid, m->authcid,
						   m->password), "PLAIN");
cleanup:
	if (in != NULL)
		explicit_bzero(in, KP_AUTH_TOKEN_MAX);
	if (m != NULL)
		explicit_bzero(m, sizeof(*m));
	explicit_bzero(s->line, sizeof(s->line));
	explicit_bzero(s->raw, sizeof(s->raw));
	free(in);
	free(m);
	return ev;
}

static enum ev
cmd_auth(struct session *s, int argc, char **argv)
{
	const void *out, *next = NULL;
	size_t outlen, nextlen = 0, inlen = 0;
	unsigned char *in = NULL;
	char *b64 = NULL;
	enum ev ev = EV_DONE;
	int has_in = 0, done, rc, started = 0;

	if (argc == 1) {
		/* Bare AUTH (pre-RFC 5034 clients): list the mechanisms. */
		kp_pop3_ok(&s->io, "Methods supported:");
		kp_io_puts(&s->io, plain_offered(s) ? SASL_MECHS "\r\nPLAIN\r\n.\r\n" :
			   SASL_MECHS "\r\n.\r\n");
		return EV_DONE;
	}
	if (kp_pop3_is(argv[1], "PLAIN") && !s->p->kpop)
		return auth_plain(s, argc, argv);
	if (!kp_pop3_is(argv[1], "GSSAPI")) {
		kp_pop3_err(&s->io, NULL, "Unrecognized authentication type");
		return EV_BAD;
	}
	in = malloc(KP_AUTH_TOKEN_MAX);
	b64 = malloc(KP_B64_ENCLEN(KP_AUTH_TOKEN_MAX));
	if (in == NULL || b64 == NULL) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Out of memory");
		ev = EV_DROP;
		goto cleanup;
	}
	if (argc == 3) {
		has_in = 1;
		rc = strcmp(argv[2], "=") == 0 ? 0 :
		     kp_b64_decode(argv[2], strlen(argv[2]), in, KP_AUTH_TOKEN_MAX, &inlen);
		if (rc == KP_E_TOOBIG) {
			ev = token_too_large(s, argv[2]);
			goto cleanup;
		}
		if (rc != 0) {
			ev = auth_failed(s, "bad base64 in the initial response",
					 "Invalid base64 in initial response");
			goto cleanup;
		}
	}
	for (;;) {
		int local = !has_in;

		if (local) {
			/* RFC 4752: the client speaks first.  Without an initial response
			 * it is asked for one with an empty challenge, which the auth
			 * service would answer with nothing else: sent from here, one
			 * round trip to it fewer per login (its exchange starts with the
			 * client's first token, as after AUTH GSSAPI <token>). */
			static const unsigned char none[1];

			out = none;
			outlen = 0;
			rc = KP_AUTHC_CONTINUE;
		} else if (next != NULL) {
			/* The auth service sent its answer to an empty response ahead (the
			 * wrapped layer offer after its last token): no round trip to it.
			 * Anything but an empty response ends the exchange (RFC 4752 3.1). */
			if (inlen != 0) {
				ev = auth_failed(s, "GSSAPI: data in the response that must be "
						 "empty (after the server's last token)",
						 "Authentication failed");
				goto cleanup;
			}
			out = next;
			outlen = nextlen;
			next = NULL;
			rc = KP_AUTHC_CONTINUE;
		} else {
			rc = kp_authc_gss_step(s->auth, in, inlen, has_in, &out, &outlen, &next,
					       &nextlen);
		}
		if (rc == KP_E_IO) {
			kp_pop3_err(&s->io, "SYS/TEMP", "Authentication service unavailable");
			ev = EV_DROP;
			goto cleanup;
		}
		if (rc < 0) {
			ev = auth_failed(s, NULL, "Authentication failed");
			goto cleanup;
		}
		started = !local && rc == KP_AUTHC_CONTINUE;
		done = rc == 0;
		if (done && outlen == 0)
			break;
		/* A challenge, or additional data with success (RFC 5034 section 4:
		 * sent as a challenge, answered with an empty response). */
		if (kp_b64_encode(out, outlen, b64, KP_B64_ENCLEN(KP_AUTH_TOKEN_MAX), NULL) != 0) {
			ev = auth_failed(s, "server token too large", "Authentication failed");
			goto cleanup;
		}
		kp_pop3_cont(&s->io, b64);
		rc = read_auth_response(s, in, &inlen);
		has_in = 1;
		if (rc == 1) {
			kp_log(KP_LOG_INFO, "AUTH cancelled by the client");
			kp_pop3_err(&s->io, NULL, "Authentication cancelled");
			goto cleanup;
		}
		if (rc == KP_E_TOOBIG || rc == KP_E_TOOLONG) {
			ev = token_too_large(s, rc == KP_E_TOOBIG ? s->line : NULL);
			goto cleanup;
		}
		if (rc == KP_E_SYNTAX) {
			ev = auth_failed(s, "bad base64 in an AUTH response", "Invalid base64 data");
			goto cleanup;
		}
		if (rc == KP_E_NUL) {
			ev = auth_failed(s, "NUL in an AUTH response", "Invalid AUTH response line");
			goto cleanup;
		}
		if (rc != 0) {
			kp_log(KP_LOG_INFO, "connection lost during AUTH: %s", kp_strerror(rc));
			s->end_rc = rc;
			ev = EV_DROP;
			goto cleanup;
		}
		if (done) {
			if (inlen != 0) {
				ev = auth_failed(s, "non-empty answer to the success data",
						 "Authentication failed");
				goto cleanup;
			}
			break;
		}
	}
	started = 0;
	ev = logged_in(s, "GSSAPI");
cleanup:
	/* an exchange the session abandoned half way must not go on at the next AUTH */
	if (started)
		kp_authc_gss_cancel(s->auth);
	free(in);
	free(b64);
	return ev;
}

static enum ev
cmd_stls(struct session *s, int argc, char **argv)
{
	char err[512], desc[128];
	size_t dropped;

	(void)argc;
	(void)argv;
	if (s->p->tls_ctx == NULL) {
		kp_pop3_err(&s->io, NULL, "TLS is not available on this server");
		return EV_BAD;
	}
	if (s->tls != NULL) {
		kp_pop3_err(&s->io, NULL, "TLS is already active");
		return EV_BAD;
	}
	kp_pop3_ok(&s->io, "Begin TLS negotiation");
	kp_io_flush(&s->io);
	/* Bytes the client sent after STLS in plaintext must not run as commands
	 * inside TLS (the STARTTLS command-injection bug class). */
	dropped = kp_io_discard_input(&s->io);
	if (dropped > 0)
		kp_log(KP_LOG_WARN, "discarded %zu bytes pipelined after STLS", dropped);
	if (kp_tls_start(&s->io, s->p->tls_ctx, NULL, &s->tls, err, sizeof(err)) != 0) {
		kp_log(KP_LOG_WARN, "STLS: %s", err);
		s->end_rc = KP_E_LAYER;
		return EV_DROP;
	}
	kp_authc_set_tls(s->auth, 1);
	kp_log(KP_LOG_INFO, "STLS: %s", kp_tls_describe(s->tls, desc, sizeof(desc)));
	return EV_DONE;
}

/* After a successful AUTH: the negotiated security layer takes over right after the
 * CRLF of the +OK (RFC 4752, RFC 5034). */
static enum ev
start_layer(struct session *s, const struct kp_ipc_verdict *v)
{
	size_t dropped;
	int rc;

	if (v->ssf == 0)
		return EV_LOGIN;
	if (kp_io_flush(&s->io) != 0)
		return EV_DROP;
	dropped = kp_io_discard_input(&s->io);
	if (dropped > 0)
		kp_log(KP_LOG_WARN, "discarded %zu bytes sent before the security layer", dropped);
	/* The context left the auth service in the verdict (which no longer holds
	 * it): import it here, so that one process owns the keys. */
	rc = kp_gsslayer_start(&s->io, v->gss_ctx.data, v->gss_ctx.len, v->ssf, v->maxbuf,
			       &s->layer);
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "cannot start the SASL security layer");
		s->end_rc = KP_E_LAYER;
		return EV_DROP;
	}
	s->ssf = v->ssf;
	kp_log(KP_LOG_INFO, "SASL security layer: %s (ssf %u)",
	       s->ssf == 1 ? "integrity" : "privacy", s->ssf);
	kp_log(KP_LOG_DEBUG, "security layer: the client takes tokens up to %u bytes: up to "
	       "%zu bytes of data a packet", (unsigned)v->maxbuf, kp_gsslayer_maxout(s->layer));
	return EV_LOGIN;
}

/* USER/PASS exist only after a legacy KPOP handshake: USER names the maildrop, which
 * must be authorized for the ticket's principal; PASS's value is ignored. */
static enum ev
cmd_user(struct session *s, int argc, char **argv)
{
	(void)argc;
	if (!s->p->kpop && password_refused(s))
		return EV_BAD;
	if (!kp_usermap_valid_user(argv[1])) {
		kp_pop3_err(&s->io, "AUTH", "Invalid user name");
		return EV_BAD;
	}
	snprintf(s->kpop_user, sizeof(s->kpop_user), "%s", argv[1]);
	if (s->p->kpop)
		kp_pop3_ok(&s->io, "Send PASS (its value is ignored: you have a Kerberos ticket)");
	else
		kp_pop3_ok(&s->io, "Send your Kerberos password");
	return EV_DONE;
}

/* PASS over TLS: the password goes to the KDC, never to the log. */
static enum ev
plain_pass(struct session *s)
{
	const char *pw = s->raw + 5;
	int rc;

	rc = kp_authc_password(s->auth, NULL, s->kpop_user, pw);
	explicit_bzero(s->raw, sizeof(s->raw));
	explicit_bzero(s->line, sizeof(s->line));
	s->kpop_user[0] = '\0';
	return password_verdict(s, rc, "USER");
}

static enum ev
cmd_pass(struct session *s, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (!s->p->kpop && (!s->conf->plaintext_login || s->tls == NULL)) {
		explicit_bzero(s->raw, sizeof(s->raw));
		kp_pop3_err(&s->io, "AUTH", "Plaintext login is not offered here");
		return EV_BAD;
	}
	if (s->kpop_user[0] == '\0') {
		kp_pop3_err(&s->io, NULL, "USER first");
		return EV_BAD;
	}
	if (!s->p->kpop) {
		if (argc < 2) {
			kp_pop3_err(&s->io, NULL, "PASS needs a password");
			return EV_BAD;
		}
		return plain_pass(s);
	}
	explicit_bzero(s->raw, sizeof(s->raw));
	/* KPOP: the auth service kept the principal it verified, and decides */
	rc = kp_authc_kpop_user(s->auth, s->kpop_user);
	s->kpop_user[0] = '\0';
	if (rc == KP_E_IO) {
		kp_pop3_err(&s->io, "SYS/TEMP", "Authentication service unavailable");
		return EV_DROP;
	}
	if (rc != 0)
		return auth_failed(s, NULL, "Not authorized for this mailbox");
	return logged_in(s, "KPOP");
}

static const struct cmd auth_table[] = {
	{ "CAPA", cmd_capa, 0, 0 },
	{ "AUTH", cmd_auth, 0, 2 },
	{ "STLS", cmd_stls, 0, 0 },
	{ "USER", cmd_user, 1, 1 },
	{ "PASS", cmd_pass, 0, 64 },
	{ "NOOP", cmd_noop, 0, 0 },
	{ "QUIT", cmd_quit, 0, 0 },
	{ NULL, NULL, 0, 0 }
};

/* --- TRANSACTION -------------------------------------------------------------- */

/* Check a message-number argument: strictly numeric, existing, not deleted.
 * Replies itself on failure.  Returns MSG_OK with *n_out set; MSG_BAD for a
 * malformed number (counts as a bad command); MSG_REFUSED for a well-formed number
 * of no message (an honest mistake, not counted). */
enum msgcheck { MSG_OK, MSG_BAD, MSG_REFUSED };

static enum msgcheck
msgnum(struct session *s, const char *arg, unsigned long *n_out)
{
	unsigned long n;
	int rc = kp_parse_ulong(arg, 1, ULONG_MAX, &n);

	*n_out = 0;
	if (rc == KP_E_SYNTAX) {
		kp_pop3_err(&s->io, NULL, "Invalid message number");
		return MSG_BAD;
	}
	if (rc != 0 || n > kp_maildrop_count(s->md)) {
		kp_pop3_err(&s->io, NULL, "No such message");
		return MSG_REFUSED;
	}
	if (kp_maildrop_deleted(s->md, n)) {
		kp_pop3_err(&s->io, NULL, "Message %lu has been deleted", n);
		return MSG_REFUSED;
	}
	*n_out = n;
	return MSG_OK;
}

/* The handler's event after a refused message number. */
static enum ev
msg_ev(enum msgcheck r)
{
	return r == MSG_BAD ? EV_BAD : EV_DONE;
}

static enum ev
cmd_stat(struct session *s, int argc, char **argv)
{
	unsigned long count;
	unsigned long long octets;

	(void)argc;
	(void)argv;
	kp_maildrop_stat(s->md, &count, &octets);
	kp_pop3_ok(&s->io, "%lu %llu", count, octets);
	return EV_DONE;
}

/* LIST and UIDL share their shape: one message, or every undeleted message. */
static enum ev
listing(struct session *s, int argc, char **argv, int uidl)
{
	unsigned long i, n, count;
	unsigned long long octets;
	enum msgcheck r;

	if (argc == 2) {
		if ((r = msgnum(s, argv[1], &n)) != MSG_OK)
			return msg_ev(r);
		if (uidl)
			kp_pop3_ok(&s->io, "%lu %s", n, kp_maildrop_uidl(s->md, n));
		else
			kp_pop3_ok(&s->io, "%lu %llu", n, kp_maildrop_size(s->md, n));
		return EV_DONE;
	}
	kp_maildrop_stat(s->md, &count, &octets);
	if (uidl)
		kp_pop3_ok(&s->io, "Unique-ID listing follows");
	else
		kp_pop3_ok(&s->io, "%lu messages (%llu octets)", count, octets);
	for (i = 1; i <= kp_maildrop_count(s->md); i++) {
		if (kp_maildrop_deleted(s->md, i))
			continue;
		if (uidl)
			kp_io_printf(&s->io, "%lu %s\r\n", i, kp_maildrop_uidl(s->md, i));
		else
			kp_io_printf(&s->io, "%lu %llu\r\n", i, kp_maildrop_size(s->md, i));
	}
	kp_io_puts(&s->io, ".\r\n");
	return EV_DONE;
}

static enum ev
cmd_list(struct session *s, int argc, char **argv)
{
	return listing(s, argc, argv, 0);
}

static enum ev
cmd_uidl(struct session *s, int argc, char **argv)
{
	return listing(s, argc, argv, 1);
}

struct send_ctx {
	struct session *s;
	unsigned long n;
	int top;
};

static int
send_ok_line(void *arg)
{
	struct send_ctx *c = arg;

	if (c->top)
		return kp_pop3_ok(&c->s->io, "Top of message follows");
	return kp_pop3_ok(&c->s->io, "%llu octets", kp_maildrop_size(c->s->md, c->n));
}

static enum ev
send_message(struct session *s, unsigned long n, long body_lines)
{
	struct send_ctx c = { s, n, body_lines >= 0 };
	unsigned long long octets;
	int rc;

	rc = kp_maildrop_send(s->md, n, body_lines, &s->io, send_ok_line, &c, &octets);
	if (rc == KP_E_NOTFOUND) {
		kp_log(KP_LOG_WARN, "message %lu vanished from the maildrop", n);
		kp_pop3_err(&s->io, "SYS/TEMP", "Message %lu is no longer available", n);
		return EV_DONE;
	}
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "sending message %lu failed: %s", n, kp_strerror(rc));
		s->end_rc = rc;
		return EV_DROP; /* the reply may be half-sent: the stream is unusable */
	}
	if (c.top) {
		s->top++;
	} else {
		s->retr++;
		s->retr_octets += octets;
		if (s->mds != NULL)
			kp_mdstate_retrieved(s->mds, n);
	}
	return EV_DONE;
}

static enum ev
cmd_retr(struct session *s, int argc, char **argv)
{
	unsigned long n;
	enum msgcheck r;

	(void)argc;
	if ((r = msgnum(s, argv[1], &n)) != MSG_OK)
		return msg_ev(r);
	return send_message(s, n, -1);
}

static enum ev
cmd_top(struct session *s, int argc, char **argv)
{
	unsigned long n, lines;
	enum msgcheck r;

	(void)argc;
	if ((r = msgnum(s, argv[1], &n)) != MSG_OK)
		return msg_ev(r);
	if (kp_parse_ulong(argv[2], 0, LONG_MAX, &lines) != 0) {
		kp_pop3_err(&s->io, NULL, "Invalid number of lines");
		return EV_BAD;
	}
	return send_message(s, n, (long)lines);
}

static enum ev
cmd_dele(struct session *s, int argc, char **argv)
{
	unsigned long n;
	enum msgcheck r;

	(void)argc;
	if ((r = msgnum(s, argv[1], &n)) != MSG_OK)
		return msg_ev(r);
	kp_maildrop_mark(s->md, n);
	s->dele++;
	kp_pop3_ok(&s->io, "Message %lu deleted", n);
	return EV_DONE;
}

static enum ev
cmd_rset(struct session *s, int argc, char **argv)
{
	unsigned long count;
	unsigned long long octets;

	(void)argc;
	(void)argv;
	kp_maildrop_unmark_all(s->md);
	s->dele = 0;
	kp_maildrop_stat(s->md, &count, &octets);
	kp_pop3_ok(&s->io, "%lu messages (%llu octets)", count, octets);
	return EV_DONE;
}

static const struct cmd trans_table[] = {
	{ "STAT", cmd_stat, 0, 0 },
	{ "LIST", cmd_list, 0, 1 },
	{ "UIDL", cmd_uidl, 0, 1 },
	{ "RETR", cmd_retr, 1, 1 },
	{ "TOP", cmd_top, 2, 2 },
	{ "DELE", cmd_dele, 1, 1 },
	{ "RSET", cmd_rset, 0, 0 },
	{ "NOOP", cmd_noop, 0, 0 },
	{ "CAPA", cmd_capa, 0, 0 },
	{ "QUIT", cmd_quit, 0, 0 },
	{ NULL, NULL, 0, 0 }
};

/* --- the dispatcher ----------------------------------------------------------- */

static const struct cmd *
table_for(enum state st)
{
	return st == ST_AUTHORIZATION ? auth_table : st == ST_TRANSACTION ? trans_table : NULL;
}

static const struct cmd *
find(const struct cmd *table, const char *verb)
{
	for (; table != NULL && table->verb != NULL; table++)
		if (kp_pop3_is(verb, table->verb))
			return table;
	return NULL;
}

/* Idle seconds allowed before login: the shorter of the two settings. */
static int
preauth_idle(const struct kp_conf *c)
{
	return c->preauth_idle_timeout < c->idle_timeout ? c->preauth_idle_timeout :
							   c->idle_timeout;
}

/* Read and run one command.  Returns the event of the handler. */
static enum ev
one_command(struct session *s)
{
	char *argv[8];
	const struct cmd *c;
	size_t len;
	int argc, rc;

	if (s->state == ST_AUTHORIZATION) {
		/* before login: idle at most preauth_idle_timeout, and in all no longer
		 * than login_timeout, whatever the client sends meanwhile */
		long long idle = kp_io_now_ms() + preauth_idle(s->conf) * 1000LL;

		kp_io_set_deadline(idle < s->login_deadline ? idle : s->login_deadline);
	}
	rc = kp_io_read_line(&s->io, s->line, KP_AUTH_LINE_MAX, &len);
	if (rc == 0 && len + 2 > KP_CMD_LINE_MAX &&
	    !(len > 5 && strncasecmp(s->line, "AUTH ", 5) == 0))
		rc = KP_E_TOOLONG;
	if (rc == KP_E_TIMEOUT && s->state == ST_AUTHORIZATION) {
		int total = kp_io_now_ms() >= s->login_deadline;

		kp_io_set_deadline(0); /* the goodbye still goes out */
		if (total)
			kp_log(KP_LOG_INFO, "login timeout: not logged in after %d s",
			       s->conf->login_timeout);
		else
			kp_log(KP_LOG_INFO, "idle timeout before login after %d s",
			       preauth_idle(s->conf));
		kp_pop3_err(&s->io, NULL, total ? "Login timeout" : "Autologout: idle for too long");
		s->end_rc = rc;
		return EV_DROP;
	}
	switch (rc) {
	case 0:
		break;
	case KP_E_TOOLONG:
		kp_log(KP_LOG_INFO, "command line too long");
		kp_pop3_err(&s->io, NULL, "Line too long");
		return EV_BAD;
	case KP_E_NUL:
		kp_log(KP_LOG_INFO, "NUL byte in a command line");
		kp_pop3_err(&s->io, NULL, "NUL byte in command");
		return EV_BAD;
	case KP_E_TIMEOUT:
		kp_log(KP_LOG_INFO, "idle timeout after %d s", s->conf->idle_timeout);
		kp_pop3_err(&s->io, NULL, "Autologout: idle for too long");
		s->end_rc = rc;
		return EV_DROP;
	case KP_E_EOF:
		kp_log(KP_LOG_INFO, "client closed the connection in %s", state_names[s->state]);
		s->end_rc = rc;
		return EV_DROP;
	default:
		kp_log(KP_LOG_INFO, "connection error: %s", kp_strerror(rc));
		s->end_rc = rc;
		return EV_DROP;
	}
	kp_log_proto("C:", s->line, len, 0);
	if (len < sizeof(s->raw))
		memcpy(s->raw, s->line, len + 1);
	else
		s->raw[0] = '\0'; /* a long AUTH line: PASS never gets here */
	argc = kp_pop3_split(s->line, argv, 8);
	if (argc == 0) {
		kp_pop3_err(&s->io, NULL, "Empty command");
		return EV_BAD;
	}
	if (argc < 0) {
		kp_pop3_err(&s->io, NULL, "Too many arguments");
		return EV_BAD;
	}
	c = find(s->table, argv[0]);
	if (c == NULL) {
		if (s->state == ST_AUTHORIZATION && find(trans_table, argv[0]) != NULL)
			kp_pop3_err(&s->io, NULL, "Not allowed before authentication");
		else if (s->state == ST_TRANSACTION && find(auth_table, argv[0]) != NULL)
			kp_pop3_err(&s->io, NULL, "Already authenticated");
		else
			kp_pop3_err(&s->io, NULL, "Unknown command");
		return EV_BAD;
	}
	if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
		kp_pop3_err(&s->io, NULL, "Wrong number of arguments for %s", c->verb);
		return EV_BAD;
	}
	return c->fn(s, argc, argv);
}

/* EXPIRE at UPDATE (only after QUIT): before the commit, mark the messages the
 * user's policy removes; after it, record the retrievals of the rest. */
static void
expire_at_update(struct session *s, int committed)
{
	if (s->mds == NULL || s->expire_days == KP_IPC_EXPIRE_NEVER)
		return;
	if (!committed)
		s->expired = kp_mdstate_expire(s->mds, s->expire_days, time(NULL));
	else
		(void)kp_mdstate_save(s->mds, time(NULL));
}

static void
update(struct session *s)
{
	unsigned long count;
	unsigned long long octets;
	int rc;

	expire_at_update(s, 0);
	rc = kp_maildrop_commit(s->md, &s->removed);
	expire_at_update(s, 1);
	kp_maildrop_stat(s->md, &count, &octets);
	/* The lock goes before the +OK: a client that reconnects the moment it reads
	 * it must not find this session still holding the maildrop. */
	kp_maildrop_close(s->md);
	s->md = NULL;
	if (rc != 0) {
		kp_log(KP_LOG_ERR, "UPDATE: only %lu of %lu messages removed", s->removed,
		       s->dele + s->expired);
		kp_pop3_err(&s->io, "SYS/TEMP", "Some deleted messages were not removed");
		s->end_rc = rc;
		return;
	}
	kp_pop3_ok(&s->io, "kpopd signing off (%lu messages deleted, %lu left)", s->removed,
		   count);
	s->end_rc = 0;
}

/* Act on a handler's event: the one place that changes the session's state. */
static void
dispatch(struct session *s, enum ev ev)
{
	const struct kp_session_params *p = s->p;

	switch (ev) {
	case EV_DONE:
		break;
	case EV_BAD:
		if (++s->bad_cmds >= s->conf->max_bad_commands) {
			kp_log(KP_LOG_INFO, "too many bad commands, closing");
			kp_pop3_err(&s->io, NULL, "Too many bad commands, closing");
			s->end_rc = KP_E_PROTO;
			session_set_state(s, ST_CLOSED);
		}
		break;
	case EV_LOGIN:
		kp_io_set_deadline(0);
		/* The client has its "+OK Logged in" first; then the socket timeouts,
		 * and the auth service hears END and the master LOGIN, while the client
		 * thinks of its next command. */
		(void)kp_io_flush(&s->io);
		kp_io_sock_timeout(&s->io, s->conf->idle_timeout * 1000);
		kp_authc_end(s->auth);
		if (p->logged_in != NULL)
			p->logged_in(p->logged_in_arg, s->user, s->mech);
		if (s->back != NULL) {
			/* the front: the session parent serves TRANSACTION and logs it */
			relay_back(s);
			s->user[0] = '\0';
			s->end_rc = 0;
			session_set_state(s, ST_CLOSED);
			break;
		}
		session_set_state(s, ST_TRANSACTION);
		break;
	case EV_QUIT:
		if (s->state == ST_TRANSACTION) {
			session_set_state(s, ST_UPDATE);
			update(s);
		} else {
			kp_pop3_ok(&s->io, "kpopd signing off");
			s->end_rc = 0;
		}
		session_set_state(s, ST_CLOSED);
		break;
	case EV_DROP:
		session_set_state(s, ST_CLOSED);
		break;
	}
}

int
kp_session_run(const struct kp_session_params *p)
{
	struct session *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return KP_E_NOMEM;
	s->p = p;
	s->conf = p->conf;
	s->end_rc = KP_E_EOF;
	kp_io_init_sock(&s->io, p->rfd, p->wfd, p->conf->idle_timeout * 1000,
			preauth_idle(p->conf) * 1000);
	s->login_deadline = (p->start_ms > 0 ? p->start_ms : kp_io_now_ms()) +
			    p->conf->login_timeout * 1000LL;
	kp_io_set_deadline(s->login_deadline);
	session_set_state(s, ST_AUTHORIZATION);
	s->auth = p->authc;
	if (p->implicit_tls) {
		char err[512], desc[128];

		if (kp_tls_start(&s->io, p->tls_ctx, NULL, &s->tls, err, sizeof(err)) != 0) {
			kp_log(KP_LOG_INFO, "TLS handshake failed: %s", err);
			free(s);
			return KP_E_LAYER;
		}
		kp_authc_set_tls(s->auth, 1);
		kp_log(KP_LOG_INFO, "TLS: %s", kp_tls_describe(s->tls, desc, sizeof(desc)));
	}
	if (p->verdict != NULL) {
		/* the back: the front ran AUTHORIZATION; the master's live-session
		 * list (kpopd -s) names its mechanism */
		s->mech = p->mech;
		dispatch(s, login(s, p->verdict));
	} else if (p->greeted) {
		s->io.bytes_out += strlen(p->conf->greeting) + 6; /* "+OK " ... CRLF */
	} else {
		kp_pop3_ok(&s->io, "%s", p->conf->greeting);
	}
	while (s->state == ST_AUTHORIZATION || s->state == ST_TRANSACTION)
		dispatch(s, one_command(s));
	kp_io_set_deadline(0);
	kp_io_flush(&s->io);
	/* (a front's session is logged by the session parent) */
	if (s->back == NULL && s->user[0] != '\0')
		kp_log(KP_LOG_INFO,
		       "logout user=%s retr=%lu/%llu top=%lu dele=%lu expired=%lu removed=%lu "
		       "in=%llu out=%llu%s", s->user, s->retr, s->retr_octets, s->top, s->dele,
		       s->expired, s->removed,
		       s->io.bytes_in, s->io.bytes_out,
		       s->end_rc == 0 ? "" : " (no QUIT: nothing removed)");
	else if (s->back == NULL)
		kp_log(KP_LOG_INFO, "disconnect before login in=%llu out=%llu", s->io.bytes_in,
		       s->io.bytes_out);
	rc = s->end_rc;
	kp_mdstate_free(s->mds);
	kp_maildrop_close(s->md);
	kp_gsslayer_free(s->layer);
	kp_tls_free(s->tls);
	free(s->back);
	kp_authc_end(s->auth);
	explicit_bzero(s->raw, sizeof(s->raw));
	free(s);
	return rc;
}
