/* fuzz-kpop.c - legacy KPOP (server/kpop_server.c): the krb5 sendauth framing as
 * the server reads it before the greeting, on a socket so that the sniffing of an
 * auto listener (recv MSG_PEEK) runs too.  The AP-REQ goes to fakeauth.h's stand-in
 * ("G..." is accepted), whose answer is queued beforehand (one thread less).  The first byte: bit 0 a kpop listener (the handshake is
 * required), else auto.  Checked: the result is one of the documented ones, and a
 * completed handshake consumed exactly its own bytes (what the client pipelined
 * after it is left for the session). */
#include "config.h"
#include "fuzz.h"

#include <arpa/inet.h>

#include "kp_err.h"
#include "server/conf.h"
#include "server/kpop_server.h"
#include "fakeauth.h"

static struct kp_conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	kp_conf_defaults(&conf);
	conf.sniff_ms = 0;      /* the input is all there already */
	conf.kpop_timeout = 2;
	return 0;
}

/* Bytes a well-formed handshake at the start of in takes, 0 if it is not one;
 * *apreq_out: where its third frame (the AP-REQ) starts. */
static size_t
handshake_len(const uint8_t *in, size_t n, size_t *apreq_out)
{
	size_t pos = 0;
	int i;

	*apreq_out = 0;
	for (i = 0; i < 3; i++) {
		uint32_t be;

		if (n - pos < 4)
			return 0;
		memcpy(&be, in + pos, 4);
		if (i == 2)
			*apreq_out = pos + 4;
		if (ntohl(be) > n - pos - 4)
			return 0;
		pos += 4 + ntohl(be);
	}
	return pos;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_auth fa;
	struct kp_authc a;
	struct kp_ipc_msg q;
	int fd, rc, required;
	char rest[8];
	ssize_t left;
	size_t hs, ap;

	if (size < 1)
		return 0;
	required = data[0] & 1;
	fd = fuzz_input_socket(data + 1, size - 1);
	fake_auth_start(&fa, &a, required ? KP_IPC_MODE_KPOP : KP_IPC_MODE_AUTO, 0);
	hs = handshake_len(data + 1, size - 1, &ap);
	memset(&q, 0, sizeof(q));
	q.type = KP_IPC_KPOP_APREQ;
	if (hs > 0 && hs > ap && hs - ap <= KP_AUTH_TOKEN_MAX) { /* the whole AP-REQ came */
		q.u.kpop_apreq.apreq.data = data + 1 + ap;
		q.u.kpop_apreq.apreq.len = 1;
	}
	if (fake_auth_answer(fa.fd, &q) != 0)
		abort();
	rc = kp_kpop_accept(&conf, &a, fd, fuzz_null_fd(), required);
	FUZZ_CHECK(rc == KP_KPOP_NONE || rc == KP_KPOP_DONE || rc == KP_E_PROTO ||
		   rc == KP_E_AUTH || rc == KP_E_EOF || rc == KP_E_TIMEOUT || rc == KP_E_IO,
		   "kp_kpop_accept", "unexpected return code");
	if (rc == KP_KPOP_DONE) {
		FUZZ_CHECK(hs > 0, "kp_kpop_accept", "accepted a malformed handshake");
		left = recv(fd, rest, sizeof(rest), MSG_DONTWAIT);
		FUZZ_CHECK((left <= 0 && hs == size - 1) || (left > 0 && hs < size - 1 &&
			   memcmp(rest, data + 1 + hs, (size_t)left) == 0), "kp_kpop_accept",
			   "did not stop right after the handshake");
	}
	if (rc == KP_KPOP_NONE) {
		FUZZ_CHECK(!required, "kp_kpop_accept", "no handshake on a kpop listener");
		left = recv(fd, rest, 1, MSG_DONTWAIT);
		FUZZ_CHECK(size == 1 || (left == 1 && rest[0] == (char)data[1]), "kp_kpop_accept",
			   "consumed a POP3 client's bytes");
	}
	fake_auth_stop(&fa, &a);
	close(fd);
	return 0;
}
