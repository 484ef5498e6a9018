/* kp_ipc_msg.h - every IPC message between kpopd's processes, its fields, caps and
 * permit rule, on one page; typed encoders and decoders; the auth service's permits. */
#ifndef KP_IPC_MSG_H
#define KP_IPC_MSG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_ipc.h"
#include "kp_limits.h"

/* Every message starts with the header of kp_ipc.h (u32 type, u32 session id; the
 * master numbers sessions, and every process logs that number).  Fields follow in
 * the order listed.  In the structs below:
 *  - a string is a char array; its size (NUL included) is the cap, so it carries
 *    at most sizeof - 1 bytes.  Decoders copy into the array and NUL-terminate.
 *  - a bytes field is a kp_ipc_bytes: to encode, point it at your data; a decoder
 *    points it into the received message, valid as long as that buffer is.
 *  - a u32 with a range below is refused outside it, by encoder and decoder.
 * Secret messages (PASSWORD, VERDICT) are built in a zeroing kp_buf; a receiver
 * wipes the received buffer and the decoded struct (kp_ipc_wipe) when done. */
enum kp_ipc_type {
	/* worker -> auth service (requests; the permit rules are kp_ipc_rules[]) */
	KP_IPC_BEGIN = 0x01,      /* once, first */
	KP_IPC_KPOP_APREQ = 0x02, /* once, only as the next request after BEGIN, KPOP or
				   * auto listeners; it closes GSS and PASSWORD */
	KP_IPC_KPOP_USER = 0x03,  /* after KPOP_OK, until a verdict */
	KP_IPC_GSS_STEP = 0x04,   /* not on KPOP listeners, until a verdict */
	KP_IPC_GSS_CANCEL = 0x05, /* as GSS_STEP */
	KP_IPC_PASSWORD = 0x06,   /* as GSS_STEP, and only if BEGIN said TLS and the
				   * auth service allows plaintext login */
	KP_IPC_END = 0x07,        /* always; back to "BEGIN only" */
	/* auth service -> worker (answers) */
	KP_IPC_CONTINUE = 0x11,
	KP_IPC_KPOP_OK = 0x12,
	KP_IPC_KPOP_FAIL = 0x13,
	KP_IPC_VERDICT = 0x14,
	KP_IPC_FAIL = 0x15,
	/* worker -> master */
	KP_IPC_IDLE = 0x21,
	KP_IPC_BUSY = 0x22,
	KP_IPC_DONE = 0x23,
	KP_IPC_LOGIN = 0x24,  /* the session logged in (per-address counts, kpopd -s) */
	/* master -> worker */
	KP_IPC_ADMIT = 0x31,
	KP_IPC_REFUSE = 0x32,
	KP_IPC_CONN = 0x33,   /* u32 listener, u64 accept time (ms), u32 flags
			       * (KP_IPC_CONN_GREETED); the connection's descriptor
			       * attached: the master accepts, the worker serves
			       * (server/master.c) */
	/* master -> auth service */
	KP_IPC_PEER = 0x41    /* u32 worker pid; the worker's channel attached: a new
			       * peer, whose requests follow the permits below
			       * (server/authd/authd.c) */
};

/* CONN flags: the master has sent the client the greeting (a plain pop3 listener:
 * nothing was read, so nothing can have been answered before it). */
#define KP_IPC_CONN_GREETED 0x1u

/* Who sends a message; a receiver decodes only the directions it expects. */
#define KP_IPC_TO_AUTH 0x1u     /* worker (or session parent) -> auth service */
#define KP_IPC_FROM_AUTH 0x2u   /* auth service -> worker */
#define KP_IPC_TO_MASTER 0x4u   /* worker -> master */
#define KP_IPC_FROM_MASTER 0x8u /* master -> worker */

/* BEGIN's mode: how the listener greets; the values of server/conf.h's
 * enum kp_listen_mode. */
enum kp_ipc_mode {
	KP_IPC_MODE_AUTO = 0, /* KPOP if the client speaks first, else POP3 */
	KP_IPC_MODE_KPOP = 1,
	KP_IPC_MODE_POP3 = 2,
	KP_IPC_MODE_POP3S = 3
};

struct kp_ipc_bytes {
	const unsigned char *data; /* not owned */
	size_t len;
};

/* BEGIN: u32 mode (0..3), u32 tls (0/1), str peer, str local (numeric "addr port") */
struct kp_ipc_begin {
	uint32_t mode;
	uint32_t tls;
	char peer[KP_IPC_ADDR_MAX];
	char local[KP_IPC_ADDR_MAX];
};

/* KPOP_APREQ: bytes AP-REQ (as read from the KPOP client), u32 toolong (0, or the
 * length the client announced for an AP-REQ over KP_AUTH_TOKEN_MAX, which was not
 * kept: the AP-REQ is then empty, and the answer a KRB-ERROR saying so) */
struct kp_ipc_kpop_apreq {
	struct kp_ipc_bytes apreq; /* <= KP_AUTH_TOKEN_MAX */
	uint32_t toolong;
};

/* KPOP_USER: str user (the maildrop the KPOP client named with USER) */
struct kp_ipc_kpop_user {
	char user[KP_NAME_MAX];
};

/* GSS_STEP: bytes token, u32 has_token (0/1; 0: AUTH GSSAPI without an initial
 * response, the token is then empty) */
struct kp_ipc_gss_step {
	struct kp_ipc_bytes token; /* <= KP_AUTH_TOKEN_MAX */
	uint32_t has_token;
};

/* GSS_CANCEL: no fields (the client answered "*") */

/* PASSWORD (secret): str user, str password, u32 sasl_plain (0: USER/PASS, 1: AUTH
 * PLAIN), str authzid (AUTH PLAIN's authorization identity; empty for USER/PASS,
 * and when the client sent none) */
struct kp_ipc_password {
	char user[KP_NAME_MAX];
	char password[KP_IPC_PASSWORD_MAX];
	uint32_t sasl_plain;
	char authzid[KP_NAME_MAX];
};

/* END: no fields (the session is over; the permits go back to BEGIN only) */

/* CONTINUE: bytes token (for a "+ " continuation; may be empty), bytes next (empty,
 * or the challenge that answers an empty client response to token: the wrapped
 * layer offer after the last accept token, sent ahead so that the worker answers
 * that response itself, one round trip fewer per login; any other response then
 * fails the exchange, as RFC 4752 3.1 wants it empty) */
struct kp_ipc_continue {
	struct kp_ipc_bytes token; /* <= KP_AUTH_TOKEN_MAX */
	struct kp_ipc_bytes next;  /* <= KP_GSS_NEXT_MAX */
};

/* KPOP_OK: bytes AP-REP */
struct kp_ipc_kpop_ok {
	struct kp_ipc_bytes aprep; /* <= KP_AUTH_TOKEN_MAX */
};

/* KPOP_FAIL: bytes KRB-ERROR (may be empty), str reason (for the log) */
struct kp_ipc_kpop_fail {
	struct kp_ipc_bytes krb_error; /* <= KP_AUTH_TOKEN_MAX */
	char reason[KP_IPC_REASON_MAX];
};

/* VERDICT (secret): str principal, str user, str maildrop, u32 uid, u32 gid (both
 * below 0xffffffff, which setresuid reads as "unchanged"), u32 ssf, u32 maxbuf
 * (the peer's max buffer, <= 0xffffff as RFC 4752's three octets), bytes gss_ctx
 * (the exported GSS context; empty without a security layer), u32 login_delay
 * (the user's RFC 2449 LOGIN-DELAY in seconds, <= KP_LOGIN_DELAY_MAX), u32
 * expire_days (the user's EXPIRE: <= KP_EXPIRE_DAYS_MAX, or KP_IPC_EXPIRE_NEVER) */
#define KP_IPC_EXPIRE_NEVER UINT32_MAX
struct kp_ipc_verdict {
	char principal[KP_NAME_MAX];
	char user[KP_NAME_MAX];
	char maildrop[PATH_MAX];
	uint32_t uid;
	uint32_t gid;
	uint32_t ssf;
	uint32_t maxbuf;
	struct kp_ipc_bytes gss_ctx; /* <= KP_IPC_GSSCTX_MAX */
	uint32_t login_delay;
	uint32_t expire_days;
};

/* FAIL: str reason (for the log), u32 tries_left (0..KP_AUTH_FAIL_MAX; 0: only END
 * is permitted from now on) */
struct kp_ipc_fail {
	char reason[KP_IPC_REASON_MAX];
	uint32_t tries_left;
};

/* IDLE: no fields (the worker waits for a connection) */

/* BUSY: str peer (the worker accepted a connection from peer; ADMIT or REFUSE) */
struct kp_ipc_busy {
	char peer[KP_IPC_ADDR_MAX];
};

/* DONE: u64 bytes_in, u64 bytes_out (the session is over) */
struct kp_ipc_done {
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/* LOGIN: str user, str mech (the session logged in: GSSAPI, PLAIN, USER or KPOP) */
struct kp_ipc_login {
	char user[KP_NAME_MAX];
	char mech[16];
};

/* ADMIT: no fields (serve the connection) */

/* REFUSE: str reason (say it to the client and close; a limit was reached) */
struct kp_ipc_refuse {
	char reason[KP_IPC_REASON_MAX];
};

/* Any message, decoded (kp_ipc_decode); u is chosen by type, empty messages use
 * none of it. */
struct kp_ipc_msg {
	uint32_t type;
	uint32_t sid;
	union {
		struct kp_ipc_begin begin;
		struct kp_ipc_kpop_apreq kpop_apreq;
		struct kp_ipc_kpop_user kpop_user;
		struct kp_ipc_gss_step gss_step;
		struct kp_ipc_password password;
		struct kp_ipc_continue cont;
		struct kp_ipc_kpop_ok kpop_ok;
		struct kp_ipc_kpop_fail kpop_fail;
		struct kp_ipc_verdict verdict;
		struct kp_ipc_fail fail;
		struct kp_ipc_busy busy;
		struct kp_ipc_done done;
		struct kp_ipc_login login;
		struct kp_ipc_refuse refuse;
	} u;
};

/* --- the codec -------------------------------------------------------------------
 * Encoders: out is an uninitialised or freed kp_buf; the call initialises it (max
 * KP_IPC_MSG_MAX, zeroing for secret messages) and builds the message.  Returns 0
 * (the caller sends out, then kp_buf_free()s it), KP_E_TOOBIG (a field over its cap,
 * or a string array without its NUL), KP_E_RANGE (a u32 outside its range), or
 * KP_E_NOMEM; on error out is already freed.
 * Decoders: msg/len is one received message.  out is zeroed on entry and filled on
 * success; on failure it is wiped again.  Returns 0; KP_E_PROTO (short, leftover
 * bytes, unknown type, a type other than the function's or outside dirs,
 * has_token 0 with a token, an authzid in a USER/PASS PASSWORD, expire_days between
 * its cap and KP_IPC_EXPIRE_NEVER); KP_E_TOOBIG (a
 * field over its cap); KP_E_NUL (a NUL in a string); KP_E_RANGE (a u32 outside its
 * range). */

/* Any message: the type is m->type, the session id m->sid. */
int kp_ipc_encode(struct kp_buf *out, const struct kp_ipc_msg *m);
/* dirs: the KP_IPC_TO_* / FROM_* this receiver accepts. */
int kp_ipc_decode(const void *msg, size_t len, unsigned int dirs, struct kp_ipc_msg *out);

/* Static name of a type for logs ("BEGIN"), "?" if unknown. */
const char *kp_ipc_type_name(uint32_t type);
/* Its direction (KP_IPC_TO_AUTH...), 0 if unknown. */
unsigned int kp_ipc_type_dir(uint32_t type);
/* 1 for messages that carry secrets (built zeroing; receivers wipe). */
int kp_ipc_type_secret(uint32_t type);
/* The longest valid encoding of a type (every field at its cap), 0 if unknown. */
size_t kp_ipc_type_maxlen(uint32_t type);

/* Typed forms: the same checks, for one type only. */
int kp_ipc_enc_begin(struct kp_buf *out, uint32_t sid, const struct kp_ipc_begin *m);
int kp_ipc_dec_begin(const void *msg, size_t len, uint32_t *sid_out,
		     struct kp_ipc_begin *out);
int kp_ipc_enc_kpop_apreq(struct kp_buf *out, uint32_t sid,
			  const struct kp_ipc_kpop_apreq *m);
int kp_ipc_dec_kpop_apreq(const void *msg, size_t len, uint32_t *sid_out,
			  struct kp_ipc_kpop_apreq *out);
int kp_ipc_enc_kpop_user(struct kp_buf *out, uint32_t sid,
			 const struct kp_ipc_kpop_user *m);
int kp_ipc_dec_kpop_user(const void *msg, size_t len, uint32_t *sid_out,
			 struct kp_ipc_kpop_user *out);
int kp_ipc_enc_gss_step(struct kp_buf *out, uint32_t sid,
			const struct kp_ipc_gss_step *m);
int kp_ipc_dec_gss_step(const void *msg, size_t len, uint32_t *sid_out,
			struct kp_ipc_gss_step *out);
int kp_ipc_enc_gss_cancel(struct kp_buf *out, uint32_t sid);
int kp_ipc_dec_gss_cancel(const void *msg, size_t len, uint32_t *sid_out);
int kp_ipc_enc_password(struct kp_buf *out, uint32_t sid,
			const struct kp_ipc_password *m);
int kp_ipc_dec_password(const void *msg, size_t len, uint32_t *sid_out,
			struct kp_ipc_password *out);
int kp_ipc_enc_end(struct kp_buf *out, uint32_t sid);
int kp_ipc_dec_end(const void *msg, size_t len, uint32_t *sid_out);
int kp_ipc_enc_continue(struct kp_buf *out, uint32_t sid,
			const struct kp_ipc_continue *m);
int kp_ipc_dec_continue(const void *msg, size_t len, uint32_t *sid_out,
			struct kp_ipc_continue *out);
int kp_ipc_enc_kpop_ok(struct kp_buf *out, uint32_t sid, const struct kp_ipc_kpop_ok *m);
int kp_ipc_dec_kpop_ok(const void *msg, size_t len, uint32_t *sid_out,
		       struct kp_ipc_kpop_ok *out);
int kp_ipc_enc_kpop_fail(struct kp_buf *out, uint32_t sid,
			 const struct kp_ipc_kpop_fail *m);
int kp_ipc_dec_kpop_fail(const void *msg, size_t len, uint32_t *sid_out,
			 struct kp_ipc_kpop_fail *out);
int kp_ipc_enc_verdict(struct kp_buf *out, uint32_t sid, const struct kp_ipc_verdict *m);
int kp_ipc_dec_verdict(const void *msg, size_t len, uint32_t *sid_out,
		       struct kp_ipc_verdict *out);
int kp_ipc_enc_fail(struct kp_buf *out, uint32_t sid, const struct kp_ipc_fail *m);
int kp_ipc_dec_fail(const void *msg, size_t len, uint32_t *sid_out,
		    struct kp_ipc_fail *out);
int kp_ipc_enc_idle(struct kp_buf *out, uint32_t sid);
int kp_ipc_dec_idle(const void *msg, size_t len, uint32_t *sid_out);
int kp_ipc_enc_busy(struct kp_buf *out, uint32_t sid, const struct kp_ipc_busy *m);
int kp_ipc_dec_busy(const void *msg, size_t len, uint32_t *sid_out,
		    struct kp_ipc_busy *out);
int kp_ipc_enc_done(struct kp_buf *out, uint32_t sid, const struct kp_ipc_done *m);
int kp_ipc_dec_done(const void *msg, size_t len, uint32_t *sid_out,
		    struct kp_ipc_done *out);
int kp_ipc_enc_login(struct kp_buf *out, uint32_t sid, const struct kp_ipc_login *m);
int kp_ipc_dec_login(const void *msg, size_t len, uint32_t *sid_out,
		     struct kp_ipc_login *out);
int kp_ipc_enc_admit(struct kp_buf *out, uint32_t sid);
int kp_ipc_dec_admit(const void *msg, size_t len, uint32_t *sid_out);
int kp_ipc_enc_refuse(struct kp_buf *out, uint32_t sid, const struct kp_ipc_refuse *m);
int kp_ipc_dec_refuse(const void *msg, size_t len, uint32_t *sid_out,
		      struct kp_ipc_refuse *out);

/* --- the auth service's permits ---------------------------------------------------
 * One auth service serves every worker, so each peer has its own permits: a bitmask
 * of the requests it may send next, driven by the rules table.  A request that is
 * not permitted means the peer broke the protocol: log it and drop that peer. */
#define KP_IPC_P_FIRST 0x001u      /* permitted at the start of a session */
#define KP_IPC_P_ONCE 0x002u       /* used up when sent */
#define KP_IPC_P_NEXT 0x004u       /* only as the request right after BEGIN */
#define KP_IPC_P_OPEN 0x008u       /* opened by BEGIN (subject to the next three) */
#define KP_IPC_P_KPOP 0x010u       /* only where BEGIN's mode is kpop or auto; sending
				    * it closes every P_SASL request */
#define KP_IPC_P_SASL 0x020u       /* only where BEGIN's mode is not kpop */
#define KP_IPC_P_TLS 0x040u        /* only if BEGIN said tls and plaintext is allowed */
#define KP_IPC_P_AFTER_KPOP 0x080u /* opened by a KPOP_OK answer */
#define KP_IPC_P_ALWAYS 0x100u     /* permitted at any time, also after a verdict */
#define KP_IPC_P_RESET 0x200u      /* back to the start of a session */

struct kp_ipc_rule {
	uint32_t type;
	unsigned int flags;
};

/* The rules, one row per request (BEGIN .. END). */
extern const struct kp_ipc_rule kp_ipc_rules[];
extern const size_t kp_ipc_nrules;

struct kp_ipc_permit {
	uint32_t allow;     /* bit (1u << type) for each permitted request */
	int plaintext;      /* the auth service allows USER/PASS (plaintext_login) */
	int begun;          /* BEGIN was accepted; sid, mode and tls are its */
	uint32_t sid;
	uint32_t mode;
	uint32_t tls;
};

/* Start a peer at "BEGIN (or END) only".  plaintext: PASSWORD may be permitted. */
void kp_ipc_permit_init(struct kp_ipc_permit *p, int plaintext);

/* 1 if request type may be sent now, else 0 (answers and unknown types: 0). */
int kp_ipc_permit_allowed(const struct kp_ipc_permit *p, uint32_t type);

/* Account for a decoded request before acting on it.  Returns 0, or KP_E_PROTO if
 * it is not permitted now or carries another session id than its BEGIN (the
 * permits are unchanged then: drop the peer). */
int kp_ipc_permit_consume(struct kp_ipc_permit *p, const struct kp_ipc_msg *m);

/* Account for an answer as it is sent: KPOP_OK opens KPOP_USER; VERDICT and
 * KPOP_FAIL, and FAIL with tries_left 0, leave only END; others change nothing.
 * tries_left is read for FAIL only. */
void kp_ipc_permit_answer(struct kp_ipc_permit *p, uint32_t type, uint32_t tries_left);

#endif
