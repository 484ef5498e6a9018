/* test-ipc.c - unit tests of kp_ipc: byte-exact encodings of every message, every
 * decoder failure (truncated, leftover, NUL, each field at its cap and one over,
 * range, unknown type, wrong direction), the transport over a real socketpair
 * (oversized packets, EOF, SCM_RIGHTS), and the auth service's permits. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"
#include "tap.h"

#define ALL_DIRS (KP_IPC_TO_AUTH | KP_IPC_FROM_AUTH | KP_IPC_TO_MASTER | KP_IPC_FROM_MASTER)

/* --- an independent writer for expected wire bytes (big-endian by hand) ---------- */

static struct {
	unsigned char b[KP_IPC_MSG_MAX + 64];
	size_t n;
} w;

static void
w_reset(void)
{
	w.n = 0;
}

static void
w_u32(uint32_t v)
{
	w.b[w.n++] = (unsigned char)(v >> 24);
	w.b[w.n++] = (unsigned char)(v >> 16);
	w.b[w.n++] = (unsigned char)(v >> 8);
	w.b[w.n++] = (unsigned char)v;
}

static void
w_u64(uint64_t v)
{
	w_u32((uint32_t)(v >> 32));
	w_u32((uint32_t)v);
}

static void
w_hdr(uint32_t type, uint32_t sid)
{
	w_u32(type);
	w_u32(sid);
}

static void
w_data(const void *p, size_t n)
{
	w_u32((uint32_t)n);
	memcpy(w.b + w.n, p, n);
	w.n += n;
}

static void
w_str(const char *s)
{
	w_data(s, strlen(s));
}

/* A length-prefixed field of n copies of c. */
static void
w_fill(size_t n, int c)
{
	w_u32((uint32_t)n);
	memset(w.b + w.n, c, n);
	w.n += n;
}

/* The same decoder checks for any valid encoding: it decodes, every shorter prefix
 * is refused as truncated, one more byte is refused as leftover. */
static void
check_decoder_edges(const unsigned char *msg, size_t len, const char *name)
{
	static unsigned char more[KP_IPC_MSG_MAX + 1];
	struct kp_ipc_msg *m = malloc(sizeof(*m));
	size_t i;
	int bad = 0;

	T_EQ_INT(kp_ipc_decode(msg, len, ALL_DIRS, m), 0, name);
	for (i = 0; i < len; i++)
		if (kp_ipc_decode(msg, i, ALL_DIRS, m) != KP_E_PROTO)
			bad++;
	T_EQ_INT(bad, 0, "every truncation refused");
	memcpy(more, msg, len);
	more[len] = 0;
	T_EQ_INT(kp_ipc_decode(more, len + 1, ALL_DIRS, m), KP_E_PROTO,
		 "one leftover byte refused");
	free(m);
}

/* An encoder's output equals the expected bytes in w, and passes the edge checks. */
static void
check_wire(int rc, struct kp_buf *b, const char *name)
{
	T_EQ_INT(rc, 0, name);
	if (rc != 0)
		return;
	T_EQ_MEM(b->data, b->len, w.b, w.n, name);
	check_decoder_edges(b->data, b->len, name);
}

/* --- byte-exact literals ---------------------------------------------------------- */

static void
test_literals(void)
{
	static const unsigned char begin[] = {
		0, 0, 0, 0x01, 0, 0, 0, 0x2a,
		0, 0, 0, 2, 0, 0, 0, 1,
		0, 0, 0, 14, '1', '2', '7', '.', '0', '.', '0', '.', '5', ' ', '4', '7', '1', '1',
		0, 0, 0, 0,
	};
	static const unsigned char step[] = {
		0, 0, 0, 0x04, 0xde, 0xad, 0xbe, 0xef,
		0, 0, 0, 3, 0x60, 0x00, 0xff,
		0, 0, 0, 1,
	};
	static const unsigned char end[] = { 0, 0, 0, 0x07, 0, 0, 0, 9 };
	static const unsigned char done[] = {
		0, 0, 0, 0x23, 0, 0, 0, 1,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0, 0, 0, 0, 0, 0, 0, 0x10,
	};
	static const unsigned char tok[] = { 0x60, 0x00, 0xff };
	struct kp_ipc_begin bg, bg2;
	struct kp_ipc_gss_step gs, gs2;
	struct kp_ipc_done dn, dn2;
	struct kp_buf b;
	uint32_t sid;

	memset(&bg, 0, sizeof(bg));
	bg.mode = KP_IPC_MODE_POP3;
	bg.tls = 1;
	memcpy(bg.peer, "127.0.0.5 4711", 14);
	T_EQ_INT(kp_ipc_enc_begin(&b, 42, &bg), 0, "BEGIN encodes");
	T_EQ_MEM(b.data, b.len, begin, sizeof(begin), "BEGIN bytes");
	T_EQ_INT(b.secret, 0, "BEGIN is not secret");
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_dec_begin(begin, sizeof(begin), &sid, &bg2), 0, "BEGIN decodes");
	T_EQ_INT(sid, 42, "BEGIN sid");
	T_EQ_INT(bg2.mode, KP_IPC_MODE_POP3, "BEGIN mode");
	T_EQ_INT(bg2.tls, 1, "BEGIN tls");
	T_EQ_STR(bg2.peer, "127.0.0.5 4711", "BEGIN peer");
	T_EQ_STR(bg2.local, "", "BEGIN local empty");

	gs.token.data = tok;
	gs.token.len = sizeof(tok);
	gs.has_token = 1;
	T_EQ_INT(kp_ipc_enc_gss_step(&b, 0xdeadbeef, &gs), 0, "GSS_STEP encodes");
	T_EQ_MEM(b.data, b.len, step, sizeof(step), "GSS_STEP bytes");
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_dec_gss_step(step, sizeof(step), &sid, &gs2), 0, "GSS_STEP decodes");
	T_EQ_INT(sid, 0xdeadbeef, "GSS_STEP sid");
	T_OK(gs2.token.data == step + 12, "token points into the message");
	T_EQ_MEM(gs2.token.data, gs2.token.len, tok, sizeof(tok), "GSS_STEP token");

	T_EQ_INT(kp_ipc_enc_end(&b, 9), 0, "END encodes");
	T_EQ_MEM(b.data, b.len, end, sizeof(end), "END bytes");
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_dec_end(end, sizeof(end), &sid), 0, "END decodes");
	T_EQ_INT(sid, 9, "END sid");

	dn.bytes_in = 0x0102030405060708ULL;
	dn.bytes_out = 16;
	T_EQ_INT(kp_ipc_enc_done(&b, 1, &dn), 0, "DONE encodes");
	T_EQ_MEM(b.data, b.len, done, sizeof(done), "DONE bytes (u64 big-endian)");
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_dec_done(done, sizeof(done), &sid, &dn2), 0, "DONE decodes");
	T_OK(dn2.bytes_in == 0x0102030405060708ULL && dn2.bytes_out == 16, "DONE counters");
}

/* --- every message round-trips, byte-exact ----------------------------------------- */

static void
test_roundtrips(void)
{
	static const unsigned char blob[] = { 1, 2, 3, 0, 5 };
	static const unsigned char ctx[] = { 0xc0, 0xff, 0xee, 0, 0, 1 };
	struct kp_ipc_msg *m = calloc(1, sizeof(*m));
	struct kp_ipc_kpop_apreq ap;
	struct kp_ipc_kpop_user ku;
	struct kp_ipc_password pw;
	struct kp_ipc_continue co;
	struct kp_ipc_kpop_ok ko;
	struct kp_ipc_kpop_fail kf;
	struct kp_ipc_verdict *vd = calloc(1, sizeof(*vd));
	struct kp_ipc_verdict *vd2 = calloc(1, sizeof(*vd2));
	struct kp_ipc_fail fl;
	struct kp_ipc_busy bu;
	struct kp_ipc_refuse rf;
	struct kp_ipc_gss_step gs;
	struct kp_ipc_begin bg;
	struct kp_buf b;
	uint32_t sid;
	int rc;

	memset(&bg, 0, sizeof(bg));
	bg.mode = KP_IPC_MODE_AUTO;
	memcpy(bg.peer, "[::1] 1", 8);
	memcpy(bg.local, "127.0.0.1 110", 14);
	w_reset(); w_hdr(KP_IPC_BEGIN, 1); w_u32(0); w_u32(0); w_str("[::1] 1");
	w_str("127.0.0.1 110");
	rc = kp_ipc_enc_begin(&b, 1, &bg);
	check_wire(rc, &b, "BEGIN round trip");
	kp_buf_free(&b);

	ap.apreq.data = blob;
	ap.apreq.len = sizeof(blob);
	ap.toolong = 0;
	w_reset(); w_hdr(KP_IPC_KPOP_APREQ, 2); w_data(blob, sizeof(blob)); w_u32(0);
	rc = kp_ipc_enc_kpop_apreq(&b, 2, &ap);
	check_wire(rc, &b, "KPOP_APREQ round trip");
	T_EQ_INT(kp_ipc_dec_kpop_apreq(b.data, b.len, &sid, &ap), 0, "KPOP_APREQ decodes");
	T_EQ_MEM(ap.apreq.data, ap.apreq.len, blob, sizeof(blob), "AP-REQ with a 0 byte");
	kp_buf_free(&b);
	ap.apreq.len = 0;
	ap.toolong = 70000;
	w_reset(); w_hdr(KP_IPC_KPOP_APREQ, 2); w_data(blob, 0); w_u32(70000);
	rc = kp_ipc_enc_kpop_apreq(&b, 2, &ap);
	check_wire(rc, &b, "KPOP_APREQ for an AP-REQ too large to read");
	T_EQ_INT(kp_ipc_dec_kpop_apreq(b.data, b.len, &sid, &ap), 0, "it decodes");
	T_EQ_INT(ap.toolong, 70000, "the announced length arrives");
	kp_buf_free(&b);

	memset(&ku, 0, sizeof(ku));
	memcpy(ku.user, "alice", 6);
	w_reset(); w_hdr(KP_IPC_KPOP_USER, 3); w_str("alice");
	rc = kp_ipc_enc_kpop_user(&b, 3, &ku);
	check_wire(rc, &b, "KPOP_USER round trip");
	T_EQ_INT(kp_ipc_dec_kpop_user(b.data, b.len, &sid, &ku), 0, "KPOP_USER decodes");
	T_EQ_STR(ku.user, "alice", "KPOP_USER user");
	kp_buf_free(&b);

	gs.token.data = NULL;
	gs.token.len = 0;
	gs.has_token = 0;
	w_reset(); w_hdr(KP_IPC_GSS_STEP, 4); w_data("", 0); w_u32(0);
	rc = kp_ipc_enc_gss_step(&b, 4, &gs);
	check_wire(rc, &b, "GSS_STEP without a token");
	kp_buf_free(&b);

	w_reset(); w_hdr(KP_IPC_GSS_CANCEL, 5);
	rc = kp_ipc_enc_gss_cancel(&b, 5);
	check_wire(rc, &b, "GSS_CANCEL round trip");
	T_EQ_INT(kp_ipc_dec_gss_cancel(b.data, b.len, &sid), 0, "GSS_CANCEL decodes");
	T_EQ_INT(sid, 5, "GSS_CANCEL sid");
	kp_buf_free(&b);

	memset(&pw, 0, sizeof(pw));
	memcpy(pw.user, "bob", 4);
	memcpy(pw.password, "s3cret pass", 12);
	w_reset(); w_hdr(KP_IPC_PASSWORD, 6); w_str("bob"); w_str("s3cret pass"); w_u32(0);
	w_str("");
	rc = kp_ipc_enc_password(&b, 6, &pw);
	check_wire(rc, &b, "PASSWORD round trip");
	T_EQ_INT(b.secret, 1, "PASSWORD is built in a zeroing buffer");
	memset(&pw, 'X', sizeof(pw));
	T_EQ_INT(kp_ipc_dec_password(b.data, b.len, &sid, &pw), 0, "PASSWORD decodes");
	T_EQ_STR(pw.user, "bob", "PASSWORD user");
	T_EQ_STR(pw.password, "s3cret pass", "PASSWORD password");
	/* a failed decode leaves nothing of the password behind */
	memset(&pw, 'X', sizeof(pw));
	T_EQ_INT(kp_ipc_dec_password(b.data, b.len - 1, &sid, &pw), KP_E_PROTO,
		 "truncated PASSWORD");
	{
		size_t i, nz = 0;

		for (i = 0; i < sizeof(pw); i++)
			nz += ((unsigned char *)&pw)[i] != 0;
		T_EQ_INT(nz, 0, "failed PASSWORD decode wiped the struct");
	}
	T_EQ_INT(kp_ipc_type_secret(KP_IPC_PASSWORD), 1, "PASSWORD secret");
	kp_buf_free(&b);
	/* AUTH PLAIN: the same request, with its authzid */
	memset(&pw, 0, sizeof(pw));
	memcpy(pw.user, "bob", 4);
	memcpy(pw.password, "pw", 3);
	pw.sasl_plain = 1;
	memcpy(pw.authzid, "bob@KPOP.TEST", 14);
	w_reset(); w_hdr(KP_IPC_PASSWORD, 6); w_str("bob"); w_str("pw"); w_u32(1);
	w_str("bob@KPOP.TEST");
	rc = kp_ipc_enc_password(&b, 6, &pw);
	check_wire(rc, &b, "PASSWORD (AUTH PLAIN) round trip");
	T_EQ_INT(kp_ipc_dec_password(b.data, b.len, &sid, &pw), 0, "PLAIN PASSWORD decodes");
	T_OK(pw.sasl_plain == 1 && strcmp(pw.authzid, "bob@KPOP.TEST") == 0,
	     "PLAIN PASSWORD fields");
	kp_buf_free(&b);
	/* an authzid belongs to AUTH PLAIN only; sasl_plain is 0 or 1 */
	w_reset(); w_hdr(KP_IPC_PASSWORD, 6); w_str("bob"); w_str("pw"); w_u32(0);
	w_str("carol");
	T_EQ_INT(kp_ipc_dec_password(w.b, w.n, &sid, &pw), KP_E_PROTO,
		 "USER/PASS PASSWORD with an authzid refused");
	pw.sasl_plain = 0;
	memcpy(pw.authzid, "carol", 6);
	T_EQ_INT(kp_ipc_enc_password(&b, 6, &pw), KP_E_PROTO,
		 "USER/PASS PASSWORD with an authzid not encoded");
	w_reset(); w_hdr(KP_IPC_PASSWORD, 6); w_str("bob"); w_str("pw"); w_u32(2);
	w_str("");
	T_EQ_INT(kp_ipc_dec_password(w.b, w.n, &sid, &pw), KP_E_RANGE,
		 "sasl_plain 2 refused");

	w_reset(); w_hdr(KP_IPC_END, 7);
	rc = kp_ipc_enc_end(&b, 7);
	check_wire(rc, &b, "END round trip");
	kp_buf_free(&b);

	co.token.data = blob;
	co.token.len = 2;
	co.next.data = blob + 2;
	co.next.len = 3;
	w_reset(); w_hdr(KP_IPC_CONTINUE, 8); w_data(blob, 2); w_data(blob + 2, 3);
	rc = kp_ipc_enc_continue(&b, 8, &co);
	check_wire(rc, &b, "CONTINUE round trip");
	T_EQ_INT(kp_ipc_dec_continue(b.data, b.len, &sid, &co), 0, "CONTINUE decodes");
	T_EQ_MEM(co.token.data, co.token.len, blob, 2, "CONTINUE token");
	T_EQ_MEM(co.next.data, co.next.len, blob + 2, 3, "CONTINUE next (the offer ahead)");
	kp_buf_free(&b);

	ko.aprep.data = blob + 1;
	ko.aprep.len = 4;
	w_reset(); w_hdr(KP_IPC_KPOP_OK, 9); w_data(blob + 1, 4);
	rc = kp_ipc_enc_kpop_ok(&b, 9, &ko);
	check_wire(rc, &b, "KPOP_OK round trip");
	kp_buf_free(&b);

	memset(&kf, 0, sizeof(kf));
	kf.krb_error.data = blob;
	kf.krb_error.len = 1;
	memcpy(kf.reason, "replay", 7);
	w_reset(); w_hdr(KP_IPC_KPOP_FAIL, 10); w_data(blob, 1); w_str("replay");
	rc = kp_ipc_enc_kpop_fail(&b, 10, &kf);
	check_wire(rc, &b, "KPOP_FAIL round trip");
	T_EQ_INT(kp_ipc_dec_kpop_fail(b.data, b.len, &sid, &kf), 0, "KPOP_FAIL decodes");
	T_EQ_STR(kf.reason, "replay", "KPOP_FAIL reason");
	kp_buf_free(&b);

	memcpy(vd->principal, "alice@EXAMPLE.ORG", 18);
	memcpy(vd->user, "alice", 6);
	memcpy(vd->maildrop, "/var/mail/alice", 16);
	vd->uid = 1001;
	vd->gid = 100;
	vd->ssf = 256;
	vd->maxbuf = 65536;
	vd->gss_ctx.data = ctx;
	vd->gss_ctx.len = sizeof(ctx);
	w_reset(); w_hdr(KP_IPC_VERDICT, 11); w_str("alice@EXAMPLE.ORG"); w_str("alice");
	w_str("/var/mail/alice"); w_u32(1001); w_u32(100); w_u32(256); w_u32(65536);
	w_data(ctx, sizeof(ctx)); w_u32(0); w_u32(0);
	rc = kp_ipc_enc_verdict(&b, 11, vd);
	check_wire(rc, &b, "VERDICT round trip");
	T_EQ_INT(b.secret, 1, "VERDICT is built in a zeroing buffer");
	T_EQ_INT(kp_ipc_dec_verdict(b.data, b.len, &sid, vd2), 0, "VERDICT decodes");
	T_EQ_STR(vd2->principal, "alice@EXAMPLE.ORG", "VERDICT principal");
	T_EQ_STR(vd2->user, "alice", "VERDICT user");
	T_EQ_STR(vd2->maildrop, "/var/mail/alice", "VERDICT maildrop");
	T_OK(vd2->uid == 1001 && vd2->gid == 100 && vd2->ssf == 256 &&
	     vd2->maxbuf == 65536, "VERDICT numbers");
	T_EQ_MEM(vd2->gss_ctx.data, vd2->gss_ctx.len, ctx, sizeof(ctx), "VERDICT context");
	T_EQ_INT(kp_ipc_decode(b.data, b.len, KP_IPC_FROM_AUTH, m), 0, "VERDICT generic");
	T_OK(m->type == KP_IPC_VERDICT && m->sid == 11 && m->u.verdict.uid == 1001,
	     "generic decode fills type, sid, fields");
	T_EQ_INT(kp_ipc_decode(b.data, b.len, KP_IPC_TO_AUTH, m), KP_E_PROTO,
		 "an answer where a request is expected");
	T_EQ_INT(kp_ipc_dec_fail(b.data, b.len, &sid, &fl), KP_E_PROTO,
		 "typed decoder of another type");
	T_EQ_INT(sid, 0, "sid cleared on failure");
	kp_buf_free(&b);
	/* the policies: EXPIRE is a number of days up to its cap, or NEVER */
	vd->login_delay = 900;
	vd->expire_days = KP_IPC_EXPIRE_NEVER;
	T_EQ_INT(kp_ipc_enc_verdict(&b, 11, vd), 0, "VERDICT with EXPIRE NEVER");
	T_EQ_INT(kp_ipc_dec_verdict(b.data, b.len, &sid, vd2), 0, "decodes");
	T_OK(vd2->login_delay == 900 && vd2->expire_days == KP_IPC_EXPIRE_NEVER,
	     "VERDICT policies");
	kp_buf_free(&b);
	vd->expire_days = KP_EXPIRE_DAYS_MAX;
	T_EQ_INT(kp_ipc_enc_verdict(&b, 11, vd), 0, "VERDICT with EXPIRE at its cap");
	kp_buf_free(&b);
	vd->expire_days = KP_EXPIRE_DAYS_MAX + 1;
	T_EQ_INT(kp_ipc_enc_verdict(&b, 11, vd), KP_E_RANGE, "EXPIRE past its cap");
	w_reset(); w_hdr(KP_IPC_VERDICT, 11); w_str("a@B"); w_str("a"); w_str("/m");
	w_u32(1); w_u32(1); w_u32(0); w_u32(0); w_data("", 0); w_u32(0);
	w_u32(KP_EXPIRE_DAYS_MAX + 1);
	T_EQ_INT(kp_ipc_dec_verdict(w.b, w.n, &sid, vd2), KP_E_RANGE,
		 "EXPIRE past its cap refused");
	vd->expire_days = 0;
	vd->login_delay = 0;

	memset(&fl, 0, sizeof(fl));
	memcpy(fl.reason, "bad password", 13);
	fl.tries_left = 2;
	w_reset(); w_hdr(KP_IPC_FAIL, 12); w_str("bad password"); w_u32(2);
	rc = kp_ipc_enc_fail(&b, 12, &fl);
	check_wire(rc, &b, "FAIL round trip");
	T_EQ_INT(kp_ipc_dec_fail(b.data, b.len, &sid, &fl), 0, "FAIL decodes");
	T_OK(fl.tries_left == 2 && strcmp(fl.reason, "bad password") == 0, "FAIL fields");
	kp_buf_free(&b);

	w_reset(); w_hdr(KP_IPC_IDLE, 13);
	rc = kp_ipc_enc_idle(&b, 13);
	check_wire(rc, &b, "IDLE round trip");
	T_EQ_INT(kp_ipc_dec_idle(b.data, b.len, &sid), 0, "IDLE decodes");
	T_EQ_INT(kp_ipc_dec_admit(b.data, b.len, &sid), KP_E_PROTO, "IDLE is not ADMIT");
	kp_buf_free(&b);

	memset(&bu, 0, sizeof(bu));
	memcpy(bu.peer, "127.0.2.7 50000", 16);
	w_reset(); w_hdr(KP_IPC_BUSY, 14); w_str("127.0.2.7 50000");
	rc = kp_ipc_enc_busy(&b, 14, &bu);
	check_wire(rc, &b, "BUSY round trip");
	T_EQ_INT(kp_ipc_dec_busy(b.data, b.len, &sid, &bu), 0, "BUSY decodes");
	T_EQ_STR(bu.peer, "127.0.2.7 50000", "BUSY peer");
	T_EQ_INT(kp_ipc_decode(b.data, b.len, KP_IPC_FROM_MASTER, m), KP_E_PROTO,
		 "BUSY does not come from the master");
	kp_buf_free(&b);

	w_reset(); w_hdr(KP_IPC_ADMIT, 15);
	rc = kp_ipc_enc_admit(&b, 15);
	check_wire(rc, &b, "ADMIT round trip");
	T_EQ_INT(kp_ipc_decode(b.data, b.len, KP_IPC_FROM_MASTER, m), 0, "ADMIT generic");
	T_EQ_INT(m->type, KP_IPC_ADMIT, "ADMIT type");
	kp_buf_free(&b);

	memset(&rf, 0, sizeof(rf));
	memcpy(rf.reason, "too many connections from your address", 39);
	w_reset(); w_hdr(KP_IPC_REFUSE, 16); w_str("too many connections from your address");
	rc = kp_ipc_enc_refuse(&b, 16, &rf);
	check_wire(rc, &b, "REFUSE round trip");
	kp_buf_free(&b);

	/* the generic encoder produces the same bytes as the typed one */
	memset(m, 0, sizeof(*m));
	m->type = KP_IPC_KPOP_USER;
	m->sid = 3;
	memcpy(m->u.kpop_user.user, "alice", 6);
	w_reset(); w_hdr(KP_IPC_KPOP_USER, 3); w_str("alice");
	rc = kp_ipc_encode(&b, m);
	check_wire(rc, &b, "generic encode");
	kp_buf_free(&b);

	free(m);
	free(vd);
	free(vd2);
}

/* --- each field at its cap and one over, NUL, range, from an independent spec ------ */

struct tf {
	char kind;    /* u: u32, q: u64, s: string, b: bytes */
	size_t cap;   /* s, b: bytes on the wire */
	uint32_t max; /* u: largest valid value */
};

struct tm {
	uint32_t type;
	unsigned int dir;
	int nf;
	struct tf f[10];
};

#define S(n) { 's', (n), 0 }
#define B(n) { 'b', (n), 0 }
#define U(mx) { 'u', 0, (mx) }
#define Q { 'q', 0, 0 }

static const struct tm spec[] = {
	{ KP_IPC_BEGIN, KP_IPC_TO_AUTH, 4,
	  { U(3), U(1), S(KP_IPC_ADDR_MAX - 1), S(KP_IPC_ADDR_MAX - 1) } },
	{ KP_IPC_KPOP_APREQ, KP_IPC_TO_AUTH, 2, { B(KP_AUTH_TOKEN_MAX), U(0xffffffffu) } },
	{ KP_IPC_KPOP_USER, KP_IPC_TO_AUTH, 1, { S(KP_NAME_MAX - 1) } },
	{ KP_IPC_GSS_STEP, KP_IPC_TO_AUTH, 2, { B(KP_AUTH_TOKEN_MAX), U(1) } },
	{ KP_IPC_GSS_CANCEL, KP_IPC_TO_AUTH, 0, { { 0, 0, 0 } } },
	{ KP_IPC_PASSWORD, KP_IPC_TO_AUTH, 4,
	  { S(KP_NAME_MAX - 1), S(KP_IPC_PASSWORD_MAX - 1), U(1), S(KP_NAME_MAX - 1) } },
	{ KP_IPC_END, KP_IPC_TO_AUTH, 0, { { 0, 0, 0 } } },
	{ KP_IPC_CONTINUE, KP_IPC_FROM_AUTH, 2, { B(KP_AUTH_TOKEN_MAX), B(KP_GSS_NEXT_MAX) } },
	{ KP_IPC_KPOP_OK, KP_IPC_FROM_AUTH, 1, { B(KP_AUTH_TOKEN_MAX) } },
	{ KP_IPC_KPOP_FAIL, KP_IPC_FROM_AUTH, 2,
	  { B(KP_AUTH_TOKEN_MAX), S(KP_IPC_REASON_MAX - 1) } },
	{ KP_IPC_VERDICT, KP_IPC_FROM_AUTH, 10,
	  { S(KP_NAME_MAX - 1), S(KP_NAME_MAX - 1), S(PATH_MAX - 1), U(0xfffffffeu),
	    U(0xfffffffeu), U(0xffffffffu), U(0xffffff), B(KP_IPC_GSSCTX_MAX),
	    U(KP_LOGIN_DELAY_MAX), U(0xffffffffu) } },
	{ KP_IPC_FAIL, KP_IPC_FROM_AUTH, 2, { S(KP_IPC_REASON_MAX - 1), U(KP_AUTH_FAIL_MAX) } },
	{ KP_IPC_IDLE, KP_IPC_TO_MASTER, 0, { { 0, 0, 0 } } },
	{ KP_IPC_BUSY, KP_IPC_TO_MASTER, 1, { S(KP_IPC_ADDR_MAX - 1) } },
	{ KP_IPC_DONE, KP_IPC_TO_MASTER, 2, { Q, Q } },
	{ KP_IPC_LOGIN, KP_IPC_TO_MASTER, 2, { S(KP_NAME_MAX - 1), S(15) } },
	{ KP_IPC_ADMIT, KP_IPC_FROM_MASTER, 0, { { 0, 0, 0 } } },
	{ KP_IPC_REFUSE, KP_IPC_FROM_MASTER, 1, { S(KP_IPC_REASON_MAX - 1) } },
};
#define NSPEC (sizeof(spec) / sizeof(spec[0]))

/* Build t with field `which` of length len (or value val for u32) and every other
 * field minimal; nul puts a NUL in the middle of a string field `which`. */
static void
build(const struct tm *t, int which, size_t len, uint32_t val, int nul, int all_max)
{
	int i;
	size_t n;

	w_reset();
	w_hdr(t->type, 77);
	for (i = 0; i < t->nf; i++) {
		const struct tf *f = &t->f[i];

		switch (f->kind) {
		case 'u':
			w_u32(i == which ? val : f->max);
			break;
		case 'q':
			w_u64(UINT64_MAX);
			break;
		default:
			n = i == which ? len : all_max ? f->cap : 0;
			w_fill(n, 'a');
			if (i == which && nul && n > 2)
				w.b[w.n - n / 2] = '\0';
			break;
		}
	}
}

static void
test_caps(void)
{
	struct kp_ipc_msg *m = malloc(sizeof(*m));
	size_t k, maxlen, nmax = 0;
	int i, ok_cap = 0, bad_over = 0, bad_nul = 0, bad_range = 0, nfield = 0, nstr = 0;
	int nrange = 0, bad_dir = 0;
	char name[160];

	for (k = 0; k < NSPEC; k++) {
		const struct tm *t = &spec[k];

		/* the minimal form, then every field at its cap at once */
		build(t, -1, 0, 0, 0, 0);
		snprintf(name, sizeof(name), "%s minimal", kp_ipc_type_name(t->type));
		check_decoder_edges(w.b, w.n, name);
		if (kp_ipc_decode(w.b, w.n, ALL_DIRS & ~t->dir, m) != KP_E_PROTO)
			bad_dir++;
		T_EQ_INT(kp_ipc_type_dir(t->type), t->dir, "direction");
		build(t, -1, 0, 0, 0, 1);
		maxlen = kp_ipc_type_maxlen(t->type);
		T_EQ_INT(w.n, maxlen, "maxlen matches the spec");
		T_OK(maxlen <= KP_IPC_MSG_MAX, "every message fits KP_IPC_MSG_MAX");
		if (maxlen > nmax)
			nmax = maxlen;
		snprintf(name, sizeof(name), "%s with every field at its cap",
			 kp_ipc_type_name(t->type));
		T_EQ_INT(kp_ipc_decode(w.b, w.n, t->dir, m), 0, name);

		for (i = 0; i < t->nf; i++) {
			const struct tf *f = &t->f[i];

			if (f->kind == 's' || f->kind == 'b') {
				nfield++;
				build(t, i, f->cap, 0, 0, 0);
				ok_cap += kp_ipc_decode(w.b, w.n, t->dir, m) == 0;
				build(t, i, f->cap + 1, 0, 0, 0);
				bad_over += kp_ipc_decode(w.b, w.n, t->dir, m) == KP_E_TOOBIG;
			}
			if (f->kind == 's') {
				nstr++;
				build(t, i, 5, 0, 1, 0);
				bad_nul += kp_ipc_decode(w.b, w.n, t->dir, m) == KP_E_NUL;
			}
			if (f->kind == 'u' && f->max != UINT32_MAX) {
				nrange++;
				build(t, i, 0, f->max + 1, 0, 0);
				bad_range += kp_ipc_decode(w.b, w.n, t->dir, m) == KP_E_RANGE;
			}
		}
	}
	T_EQ_INT(nfield, 22, "string and bytes fields in the spec");
	T_EQ_INT(ok_cap, nfield, "each string/bytes field at its cap accepted");
	T_EQ_INT(bad_over, nfield, "each string/bytes field one over its cap refused");
	T_EQ_INT(bad_nul, nstr, "NUL inside each string field refused");
	T_EQ_INT(nrange, 9, "u32 fields with a range");
	T_EQ_INT(bad_range, nrange, "each u32 one past its range refused");
	T_EQ_INT(bad_dir, 0, "every message refused from the wrong direction");
	T_EQ_INT(nmax, kp_ipc_type_maxlen(KP_IPC_VERDICT), "VERDICT is the largest");

	/* cross-field rule: no token without has_token */
	w_reset(); w_hdr(KP_IPC_GSS_STEP, 1); w_fill(1, 'x'); w_u32(0);
	T_EQ_INT(kp_ipc_decode(w.b, w.n, KP_IPC_TO_AUTH, m), KP_E_PROTO,
		 "GSS_STEP token with has_token 0");
	/* a length that runs past the end is truncation, whatever the cap */
	w_reset(); w_hdr(KP_IPC_KPOP_USER, 1); w_u32(0xffffffffu);
	T_EQ_INT(kp_ipc_decode(w.b, w.n, KP_IPC_TO_AUTH, m), KP_E_PROTO,
		 "length past the end");

	/* unknown types */
	w_reset(); w_hdr(0, 1);
	T_EQ_INT(kp_ipc_decode(w.b, w.n, ALL_DIRS, m), KP_E_PROTO, "type 0 unknown");
	w_reset(); w_hdr(0x08, 1);
	T_EQ_INT(kp_ipc_decode(w.b, w.n, ALL_DIRS, m), KP_E_PROTO, "type 8 unknown");
	w_reset(); w_hdr(0xffffffffu, 1);
	T_EQ_INT(kp_ipc_decode(w.b, w.n, ALL_DIRS, m), KP_E_PROTO, "type ~0 unknown");
	T_EQ_STR(kp_ipc_type_name(0x99), "?", "unknown name");
	T_EQ_INT(kp_ipc_type_maxlen(0x99), 0, "unknown maxlen");
	T_EQ_INT(kp_ipc_decode("", 0, ALL_DIRS, m), KP_E_PROTO, "empty message");
	free(m);
}

/* --- the encoders refuse what the decoders would refuse ---------------------------- */

static void
test_encoder_refusals(void)
{
	static unsigned char big[KP_IPC_GSSCTX_MAX + 1];
	struct kp_ipc_verdict *vd = calloc(1, sizeof(*vd));
	struct kp_ipc_begin bg;
	struct kp_ipc_gss_step gs;
	struct kp_ipc_kpop_apreq ap = { { NULL, 0 }, 0 };
	struct kp_ipc_kpop_user ku;
	struct kp_ipc_fail fl;
	struct kp_buf b;
	int rc;

	memset(&bg, 0, sizeof(bg));
	bg.mode = 4;
	T_EQ_INT(kp_ipc_enc_begin(&b, 1, &bg), KP_E_RANGE, "mode 4 not encoded");
	T_OK(b.data == NULL && b.len == 0, "buffer freed on error");
	kp_buf_free(&b);
	bg.mode = 0;
	bg.tls = 2;
	T_EQ_INT(kp_ipc_enc_begin(&b, 1, &bg), KP_E_RANGE, "tls 2 not encoded");
	kp_buf_free(&b);

	memset(&ku, 'a', sizeof(ku)); /* no NUL anywhere in the array */
	T_EQ_INT(kp_ipc_enc_kpop_user(&b, 1, &ku), KP_E_TOOBIG, "unterminated string");
	kp_buf_free(&b);
	ku.user[KP_NAME_MAX - 1] = '\0';
	T_EQ_INT(kp_ipc_enc_kpop_user(&b, 1, &ku), 0, "string at its cap");
	T_EQ_INT(b.len, KP_IPC_HDR_LEN + 4 + KP_NAME_MAX - 1, "length at cap");
	kp_buf_free(&b);

	ap.apreq.data = big;
	ap.apreq.len = KP_AUTH_TOKEN_MAX + 1;
	T_EQ_INT(kp_ipc_enc_kpop_apreq(&b, 1, &ap), KP_E_TOOBIG, "bytes one over cap");
	kp_buf_free(&b);
	ap.apreq.len = KP_AUTH_TOKEN_MAX;
	T_EQ_INT(kp_ipc_enc_kpop_apreq(&b, 1, &ap), 0, "bytes at cap");
	kp_buf_free(&b);

	gs.token.data = big;
	gs.token.len = 1;
	gs.has_token = 0;
	T_EQ_INT(kp_ipc_enc_gss_step(&b, 1, &gs), KP_E_PROTO, "token without has_token");
	kp_buf_free(&b);

	memset(&fl, 0, sizeof(fl));
	fl.tries_left = KP_AUTH_FAIL_MAX + 1;
	T_EQ_INT(kp_ipc_enc_fail(&b, 1, &fl), KP_E_RANGE, "tries_left over the maximum");
	kp_buf_free(&b);

	/* the largest message: a VERDICT with every field at its cap */
	memset(vd->principal, 'p', KP_NAME_MAX - 1);
	memset(vd->user, 'u', KP_NAME_MAX - 1);
	memset(vd->maildrop, 'm', PATH_MAX - 1);
	vd->uid = vd->gid = 0xfffffffeu;
	vd->gss_ctx.data = big;
	vd->gss_ctx.len = KP_IPC_GSSCTX_MAX;
	rc = kp_ipc_enc_verdict(&b, 1, vd);
	T_EQ_INT(rc, 0, "full VERDICT encodes");
	T_EQ_INT(b.len, kp_ipc_type_maxlen(KP_IPC_VERDICT), "full VERDICT length");
	kp_buf_free(&b);
	vd->uid = 0xffffffffu;
	T_EQ_INT(kp_ipc_enc_verdict(&b, 1, vd), KP_E_RANGE, "uid -1 not encoded");
	kp_buf_free(&b);
	vd->uid = 0;
	vd->gss_ctx.len = KP_IPC_GSSCTX_MAX + 1;
	T_EQ_INT(kp_ipc_enc_verdict(&b, 1, vd), KP_E_TOOBIG, "context one over cap");
	kp_buf_free(&b);
	free(vd);

	/* the primitives: sticky error */
	kp_buf_init(&b, KP_IPC_MSG_MAX, 0);
	kp_ipc_put_hdr(&b, KP_IPC_KPOP_USER, 1);
	T_EQ_INT(kp_ipc_put_str(&b, "abcd", 3), KP_E_TOOBIG, "put_str over cap");
	T_EQ_INT(kp_ipc_put_u32(&b, 1), KP_E_TOOBIG, "error is sticky");
	T_EQ_INT(b.len, KP_IPC_HDR_LEN, "nothing added after the error");
	T_EQ_INT(kp_ipc_put_bytes(&b, NULL, 0, 0), KP_E_TOOBIG, "still sticky");
	kp_buf_free(&b);
}

/* --- the cursor ------------------------------------------------------------------- */

static void
test_cursor(void)
{
	struct kp_ipc_rd r;
	uint32_t v;
	uint64_t q;
	char s[4];
	const unsigned char *p;
	size_t n;

	w_reset(); w_u32(7); w_str("abc"); w_u64(5);
	kp_ipc_rd_init(&r, w.b, w.n);
	T_EQ_INT(kp_ipc_get_u32(&r, &v), 0, "get_u32");
	T_EQ_INT(v, 7, "u32 value");
	T_EQ_INT(kp_ipc_get_str(&r, s, sizeof(s)), 0, "string of outsz - 1");
	T_EQ_STR(s, "abc", "string value");
	T_EQ_INT(kp_ipc_end(&r), KP_E_PROTO, "leftover before the last field");
	T_EQ_INT(kp_ipc_get_u64(&r, &q), 0, "get_u64");
	T_EQ_INT(kp_ipc_end(&r), 0, "end");
	T_EQ_INT(kp_ipc_get_u32(&r, &v), KP_E_PROTO, "read past the end");
	T_EQ_INT(kp_ipc_get_bytes(&r, &p, &n, 10), KP_E_PROTO, "sticky");
	T_OK(p == NULL && n == 0, "outputs cleared after the error");
	T_EQ_INT(kp_ipc_end(&r), KP_E_PROTO, "end reports the sticky error");

	w_reset(); w_str("abcd");
	kp_ipc_rd_init(&r, w.b, w.n);
	memcpy(s, "zzz", 4);
	T_EQ_INT(kp_ipc_get_str(&r, s, sizeof(s)), KP_E_TOOBIG, "string of outsz");
	T_EQ_STR(s, "", "out is empty after the error");
}

/* --- the transport ------------------------------------------------------------------ */

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Send msg with nfd copies of fd attached, bypassing kp_ipc_send_fd. */
static int
raw_send_fds(int sock, const void *msg, size_t len, int fd, int nfd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(8 * sizeof(int))];
	} ctl;
	struct cmsghdr *c;
	int i;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
	for (i = 0; i < nfd; i++)
		memcpy(CMSG_DATA(c) + (size_t)i * sizeof(int), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void
test_transport(void)
{
	static unsigned char rbuf[KP_IPC_MSG_MAX + 1];
	static unsigned char huge[KP_IPC_MSG_MAX + 2];
	static unsigned char ctxbytes[KP_IPC_GSSCTX_MAX];
	struct kp_ipc_verdict *vd = calloc(1, sizeof(*vd));
	struct kp_ipc_msg *m = malloc(sizeof(*m));
	struct kp_buf b;
	int sv[2], pfd[2], got, before, rc, fl;
	size_t len;
	char c = 0;
	uint32_t sid;

	T_EQ_INT(kp_ipc_pair(sv), 0, "socketpair");
	T_OK((fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0, "pair is close-on-exec");
	{
		int type = 0;
		socklen_t sl = sizeof(type);

		getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &sl);
		T_EQ_INT(type, SOCK_SEQPACKET, "pair is SOCK_SEQPACKET");
	}

	/* one message per packet: two sends are two receives */
	kp_ipc_enc_idle(&b, 1);
	T_EQ_INT(kp_ipc_send(sv[0], &b), 0, "send IDLE");
	T_EQ_INT(kp_ipc_send(sv[0], &b), 0, "send IDLE again");
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), 0, "recv");
	T_EQ_INT(len, KP_IPC_HDR_LEN, "one packet, one message");
	T_EQ_INT(kp_ipc_dec_idle(rbuf, len, &sid), 0, "decode received");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), 0, "second recv");
	T_EQ_INT(len, KP_IPC_HDR_LEN, "second message");

	/* sendv: up to KP_IPC_SENDV_MAX messages in one call, each its own packet, in
	 * order; a count out of range or a bad message sends nothing */
	{
		struct kp_buf v[3], bad;
		const struct kp_buf *vp[4];
		int i;

		for (i = 0; i < 3; i++) {
			kp_ipc_enc_idle(&v[i], (uint32_t)(10 + i));
			vp[i] = &v[i];
		}
		vp[3] = &v[0];
		T_EQ_INT(kp_ipc_sendv(sv[0], vp, 3), 0, "sendv of 3");
		for (i = 0; i < 3; i++) {
			sid = 0;
			T_OK(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len) == 0 &&
			     kp_ipc_dec_idle(rbuf, len, &sid) == 0 && sid == (uint32_t)(10 + i),
			     i == 0 ? "sendv: the first packet is the first message" :
			     i == 1 ? "sendv: the second packet is the second" :
				      "sendv: the third packet is the third");
		}
		T_EQ_INT(kp_ipc_sendv(sv[0], vp, 1), 0, "sendv of 1");
		T_OK(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len) == 0 &&
		     kp_ipc_dec_idle(rbuf, len, &sid) == 0 && sid == 10, "sendv of 1 arrives");
		T_EQ_INT(kp_ipc_sendv(sv[0], vp, 0), KP_E_INTERNAL, "sendv of 0 refused");
		T_EQ_INT(kp_ipc_sendv(sv[0], vp, 4), KP_E_INTERNAL, "sendv over the max refused");
		kp_buf_init(&bad, 16, 0);
		kp_buf_add(&bad, "abc", 3);
		vp[1] = &bad;
		T_EQ_INT(kp_ipc_sendv(sv[0], vp, 3), KP_E_INTERNAL,
			 "sendv with a message shorter than a header refused");
		fl = fcntl(sv[1], F_GETFL);
		fcntl(sv[1], F_SETFL, fl | O_NONBLOCK);
		T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_TIMEOUT,
			 "... and nothing of it was sent");
		fcntl(sv[1], F_SETFL, fl);
		kp_buf_free(&bad);
		for (i = 0; i < 3; i++)
			kp_buf_free(&v[i]);
	}

	/* the largest valid message crosses the socket whole */
	memset(vd->principal, 'p', KP_NAME_MAX - 1);
	memset(vd->user, 'u', KP_NAME_MAX - 1);
	memset(vd->maildrop, 'm', PATH_MAX - 1);
	memset(ctxbytes, 0xa5, sizeof(ctxbytes));
	vd->gss_ctx.data = ctxbytes;
	vd->gss_ctx.len = sizeof(ctxbytes);
	T_EQ_INT(kp_ipc_enc_verdict(&b, 3, vd), 0, "full VERDICT");
	T_EQ_INT(kp_ipc_send(sv[0], &b), 0, "send full VERDICT");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), 0, "recv full VERDICT");
	T_EQ_MEM(rbuf, len, b.data, b.len, "full VERDICT intact");
	T_EQ_INT(kp_ipc_decode(rbuf, len, KP_IPC_FROM_AUTH, m), 0, "full VERDICT decodes");
	kp_ipc_wipe(rbuf, len);
	kp_buf_free(&b);

	/* a packet of exactly the cap is received, one byte more is refused */
	memset(huge, 0, sizeof(huge));
	T_OK(send(sv[0], huge, KP_IPC_MSG_MAX, 0) == KP_IPC_MSG_MAX, "raw send at cap");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), 0, "packet at cap");
	T_EQ_INT(len, KP_IPC_MSG_MAX, "length at cap");
	T_OK(send(sv[0], huge, KP_IPC_MSG_MAX + 1, 0) == KP_IPC_MSG_MAX + 1,
	     "raw send of cap + 1");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_TOOBIG,
		 "packet of cap + 1 refused");
	T_EQ_INT(len, 0, "no length on error");
	T_OK(send(sv[0], huge, KP_IPC_MSG_MAX + 2, 0) == KP_IPC_MSG_MAX + 2,
	     "raw send of cap + 2");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_TOOBIG,
		 "packet of cap + 2 refused");
	kp_ipc_enc_admit(&b, 4);
	kp_ipc_send(sv[0], &b);
	kp_buf_free(&b);
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), 0,
		 "the next packet is intact");
	T_EQ_INT(kp_ipc_dec_admit(rbuf, len, &sid), 0, "next is ADMIT");
	T_EQ_INT(sid, 4, "ADMIT sid");

	/* send refuses a message built with an error, and one past the maximum */
	kp_buf_init(&b, KP_IPC_MSG_MAX, 0);
	kp_ipc_put_hdr(&b, KP_IPC_KPOP_USER, 1);
	kp_ipc_put_str(&b, "toolong", 3);
	T_EQ_INT(kp_ipc_send(sv[0], &b), KP_E_TOOBIG, "sticky error not sent");
	kp_buf_free(&b);
	kp_buf_init(&b, KP_IPC_MSG_MAX + 1, 0);
	kp_buf_add(&b, huge, KP_IPC_MSG_MAX + 1);
	T_EQ_INT(kp_ipc_send(sv[0], &b), KP_E_TOOBIG, "oversized not sent");
	kp_buf_reset(&b);
	kp_buf_add(&b, huge, 3);
	T_EQ_INT(kp_ipc_send(sv[0], &b), KP_E_INTERNAL, "shorter than a header");
	kp_buf_free(&b);

	/* non-blocking and empty: a timeout, not an error */
	fl = fcntl(sv[1], F_GETFL);
	fcntl(sv[1], F_SETFL, fl | O_NONBLOCK);
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_TIMEOUT,
		 "nothing to read");
	fcntl(sv[1], F_SETFL, fl);

	/* SCM_RIGHTS: one descriptor passes and arrives close-on-exec */
	T_OK(pipe(pfd) == 0, "pipe");
	kp_ipc_enc_admit(&b, 5);
	T_EQ_INT(kp_ipc_send_fd(sv[0], &b, pfd[1]), 0, "send with a descriptor");
	T_EQ_INT(kp_ipc_recv_fd(sv[1], rbuf, KP_IPC_MSG_MAX, &len, &got), 0,
		 "recv with a descriptor");
	T_EQ_MEM(rbuf, len, b.data, b.len, "message beside the descriptor");
	T_OK(got >= 0 && got != pfd[1], "a new descriptor");
	T_OK(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0, "received close-on-exec");
	T_OK(got >= 0 && write(got, "x", 1) == 1 && read(pfd[0], &c, 1) == 1 && c == 'x',
	     "the descriptor is the pipe");
	if (got >= 0)
		close(got);

	/* a descriptor missing, or where none is expected, or too many */
	before = count_fds();
	T_EQ_INT(kp_ipc_send(sv[0], &b), 0, "send without a descriptor");
	got = 99;
	T_EQ_INT(kp_ipc_recv_fd(sv[1], rbuf, KP_IPC_MSG_MAX, &len, &got), KP_E_PROTO,
		 "missing descriptor refused");
	T_EQ_INT(got, -1, "no descriptor out");
	T_EQ_INT(kp_ipc_send_fd(sv[0], &b, pfd[1]), 0, "send a descriptor again");
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_PROTO,
		 "unexpected descriptor refused");
	T_EQ_INT(count_fds(), before, "the unexpected descriptor was not left open");
	T_EQ_INT(raw_send_fds(sv[0], b.data, b.len, pfd[1], 2), 0, "send two descriptors");
	rc = kp_ipc_recv_fd(sv[1], rbuf, KP_IPC_MSG_MAX, &len, &got);
	T_EQ_INT(rc, KP_E_PROTO, "two descriptors refused");
	T_EQ_INT(got, -1, "none handed out");
	T_EQ_INT(count_fds(), before, "both extra descriptors closed");
	T_EQ_INT(raw_send_fds(sv[0], b.data, b.len, pfd[1], 8), 0, "send eight descriptors");
	rc = kp_ipc_recv_fd(sv[1], rbuf, KP_IPC_MSG_MAX, &len, &got);
	T_EQ_INT(rc, KP_E_PROTO, "eight descriptors refused");
	T_EQ_INT(count_fds(), before, "all eight closed");
	T_EQ_INT(kp_ipc_send_fd(sv[0], &b, -1), KP_E_INTERNAL, "no descriptor to send");
	close(pfd[0]);
	close(pfd[1]);

	/* the peer goes away: EOF both ways, and no SIGPIPE (this process would die) */
	close(sv[0]);
	T_EQ_INT(kp_ipc_recv(sv[1], rbuf, KP_IPC_MSG_MAX, &len), KP_E_EOF, "recv after close");
	T_EQ_INT(kp_ipc_send(sv[1], &b), KP_E_EOF, "send after close");
	kp_buf_free(&b);
	close(sv[1]);
	free(vd);
	free(m);
}

/* --- permits ------------------------------------------------------------------------ */

static const uint32_t requests[] = {
	KP_IPC_BEGIN, KP_IPC_KPOP_APREQ, KP_IPC_KPOP_USER, KP_IPC_GSS_STEP,
	KP_IPC_GSS_CANCEL, KP_IPC_PASSWORD, KP_IPC_END,
};

/* The permitted requests as a bitmask, asked one by one. */
static uint32_t
permitted(const struct kp_ipc_permit *p)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (kp_ipc_permit_allowed(p, requests[i]))
			m |= 1u << requests[i];
	return m;
}

#define P(t) (1u << (t))

static int
req(struct kp_ipc_permit *p, uint32_t type, uint32_t sid)
{
	struct kp_ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.sid = sid;
	return kp_ipc_permit_consume(p, &m);
}

static int
begin(struct kp_ipc_permit *p, uint32_t sid, uint32_t mode, uint32_t tls)
{
	struct kp_ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KP_IPC_BEGIN;
	m.sid = sid;
	m.u.begin.mode = mode;
	m.u.begin.tls = tls;
	return kp_ipc_permit_consume(p, &m);
}

static void
test_permits(void)
{
	struct kp_ipc_permit p;
	const uint32_t sasl = P(KP_IPC_GSS_STEP) | P(KP_IPC_GSS_CANCEL) | P(KP_IPC_END);
	size_t i;
	int seen = 0;

	for (i = 0; i < kp_ipc_nrules; i++)
		seen |= 1 << kp_ipc_rules[i].type;
	T_EQ_INT(kp_ipc_nrules, 7, "one rule per request");
	T_EQ_INT(seen, 0xfe, "rules for BEGIN .. END");

	kp_ipc_permit_init(&p, 1);
	T_EQ_INT(permitted(&p), P(KP_IPC_BEGIN) | P(KP_IPC_END), "start: BEGIN (or END)");
	T_EQ_INT(kp_ipc_permit_allowed(&p, KP_IPC_CONTINUE), 0, "an answer is no request");
	T_EQ_INT(kp_ipc_permit_allowed(&p, 0x1f), 0, "unknown type");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), KP_E_PROTO, "GSS_STEP before BEGIN refused");
	T_EQ_INT(req(&p, KP_IPC_PASSWORD, 1), KP_E_PROTO, "PASSWORD before BEGIN refused");
	T_EQ_INT(req(&p, KP_IPC_CONTINUE, 1), KP_E_PROTO, "answer as a request refused");
	T_EQ_INT(begin(&p, 1, KP_IPC_MODE_POP3, 0), 0, "BEGIN");
	T_EQ_INT(permitted(&p), sasl, "POP3 without TLS: GSS and END");
	T_EQ_INT(begin(&p, 1, KP_IPC_MODE_POP3, 0), KP_E_PROTO, "repeated BEGIN refused");
	T_EQ_INT(req(&p, KP_IPC_KPOP_APREQ, 1), KP_E_PROTO, "no KPOP on a POP3 listener");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), 0, "GSS_STEP");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), 0, "GSS_STEP again");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 2), KP_E_PROTO, "another session id refused");
	T_EQ_INT(permitted(&p), sasl, "a refusal changes nothing");
	kp_ipc_permit_answer(&p, KP_IPC_CONTINUE, 0);
	T_EQ_INT(permitted(&p), sasl, "CONTINUE changes nothing");
	T_EQ_INT(req(&p, KP_IPC_GSS_CANCEL, 1), 0, "GSS_CANCEL");
	kp_ipc_permit_answer(&p, KP_IPC_FAIL, 2);
	T_EQ_INT(permitted(&p), sasl, "FAIL with tries left: try again");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), 0, "GSS_STEP after a FAIL");
	kp_ipc_permit_answer(&p, KP_IPC_VERDICT, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_END), "after a verdict only END");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), KP_E_PROTO, "GSS_STEP after a verdict");
	T_EQ_INT(begin(&p, 1, KP_IPC_MODE_POP3, 0), KP_E_PROTO, "BEGIN after a verdict");
	kp_ipc_permit_answer(&p, KP_IPC_KPOP_OK, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_END) | P(KP_IPC_KPOP_USER),
		 "(a stray KPOP_OK opens only KPOP_USER)");
	T_EQ_INT(req(&p, KP_IPC_END, 1), 0, "END");
	T_EQ_INT(permitted(&p), P(KP_IPC_BEGIN) | P(KP_IPC_END), "END resets");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 1), KP_E_PROTO, "GSS_STEP after END");
	T_EQ_INT(begin(&p, 2, KP_IPC_MODE_POP3, 0), 0, "a new session, a new id");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 2), 0, "its GSS_STEP");
	T_EQ_INT(req(&p, KP_IPC_END, 3), KP_E_PROTO, "END with another id refused");
	T_EQ_INT(req(&p, KP_IPC_END, 2), 0, "END");
	T_EQ_INT(req(&p, KP_IPC_END, 9), 0, "END before BEGIN is harmless");

	/* PASSWORD: only with TLS and plaintext_login */
	kp_ipc_permit_init(&p, 1);
	begin(&p, 1, KP_IPC_MODE_POP3, 1);
	T_EQ_INT(permitted(&p), sasl | P(KP_IPC_PASSWORD), "TLS + plaintext: PASSWORD");
	T_EQ_INT(req(&p, KP_IPC_PASSWORD, 1), 0, "PASSWORD");
	kp_ipc_permit_answer(&p, KP_IPC_FAIL, 1);
	T_EQ_INT(req(&p, KP_IPC_PASSWORD, 1), 0, "PASSWORD after a FAIL with tries left");
	kp_ipc_permit_answer(&p, KP_IPC_FAIL, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_END), "FAIL with no tries left: only END");
	kp_ipc_permit_init(&p, 0);
	begin(&p, 1, KP_IPC_MODE_POP3S, 1);
	T_EQ_INT(permitted(&p), sasl, "TLS without plaintext_login: no PASSWORD");
	T_EQ_INT(req(&p, KP_IPC_PASSWORD, 1), KP_E_PROTO, "PASSWORD refused");
	kp_ipc_permit_init(&p, 1);
	begin(&p, 1, KP_IPC_MODE_POP3, 0);
	T_EQ_INT(req(&p, KP_IPC_PASSWORD, 1), KP_E_PROTO, "PASSWORD without TLS refused");

	/* KPOP listener: the AP-REQ right after BEGIN, then USER after KPOP_OK */
	kp_ipc_permit_init(&p, 1);
	begin(&p, 7, KP_IPC_MODE_KPOP, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_KPOP_APREQ) | P(KP_IPC_END), "KPOP: AP-REQ next");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 7), KP_E_PROTO, "no GSS on a KPOP listener");
	T_EQ_INT(req(&p, KP_IPC_KPOP_USER, 7), KP_E_PROTO, "KPOP_USER before KPOP_OK");
	T_EQ_INT(req(&p, KP_IPC_KPOP_APREQ, 7), 0, "KPOP_APREQ");
	T_EQ_INT(req(&p, KP_IPC_KPOP_APREQ, 7), KP_E_PROTO, "KPOP_APREQ once");
	T_EQ_INT(req(&p, KP_IPC_KPOP_USER, 7), KP_E_PROTO, "KPOP_USER before the answer");
	kp_ipc_permit_answer(&p, KP_IPC_KPOP_OK, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_KPOP_USER) | P(KP_IPC_END), "KPOP_OK: USER");
	T_EQ_INT(req(&p, KP_IPC_KPOP_USER, 7), 0, "KPOP_USER");
	kp_ipc_permit_answer(&p, KP_IPC_FAIL, 2);
	T_EQ_INT(req(&p, KP_IPC_KPOP_USER, 7), 0, "KPOP_USER after a FAIL");
	kp_ipc_permit_answer(&p, KP_IPC_VERDICT, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_END), "KPOP verdict: only END");
	kp_ipc_permit_init(&p, 1);
	begin(&p, 7, KP_IPC_MODE_KPOP, 0);
	req(&p, KP_IPC_KPOP_APREQ, 7);
	kp_ipc_permit_answer(&p, KP_IPC_KPOP_FAIL, 0);
	T_EQ_INT(permitted(&p), P(KP_IPC_END), "KPOP_FAIL: only END");

	/* auto listener: KPOP only as the first request; either path closes the other */
	kp_ipc_permit_init(&p, 1);
	begin(&p, 8, KP_IPC_MODE_AUTO, 1);
	T_EQ_INT(permitted(&p), sasl | P(KP_IPC_PASSWORD) | P(KP_IPC_KPOP_APREQ),
		 "auto: KPOP or POP3");
	T_EQ_INT(req(&p, KP_IPC_GSS_STEP, 8), 0, "POP3 chosen");
	T_EQ_INT(req(&p, KP_IPC_KPOP_APREQ, 8), KP_E_PROTO, "AP-REQ no longer next");
	kp_ipc_permit_init(&p, 1);
	begin(&p, 8, KP_IPC_MODE_AUTO, 1);
	T_EQ_INT(req(&p, KP_IPC_KPOP_APREQ, 8), 0, "KPOP chosen");
	T_EQ_INT(permitted(&p), P(KP_IPC_END), "KPOP closes GSS and PASSWORD");
}

int
main(void)
{
	test_literals();
	test_roundtrips();
	test_caps();
	test_encoder_refusals();
	test_cursor();
	test_transport();
	test_permits();
	return tap_summary();
}
