/* authd-peer.c - hostile session workers against a real auth service (make check,
 * tests/e2e/authd.sh): each breaks the protocol its own way on its own channel, and
 * must be dropped; an honest worker connected before them must still be served, and
 * the service must still be running.  Usage: authd-peer KEYTAB RCACHE_DIR.  Prints
 * "ok - ..." / "FAIL - ..." lines and "N passed, N failed". */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_io.h"
#include "kp_ipc.h"
#include "kp_ipc_msg.h"
#include "kp_log.h"
#include "server/authd/authd.h"
#include "server/conf.h"
#include "server/ident.h"

static int passed, failed;
static unsigned char rx[KP_IPC_MSG_MAX + 1];

static void
check(int ok, const char *what, const char *detail)
{
	if (ok) {
		printf("ok - %s\n", what);
		passed++;
	} else {
		printf("FAIL - %s: %s\n", what, detail);
		failed++;
	}
	fflush(stdout);
}

/* A new peer of the auth service: our end of its channel. */
static int
new_peer(int ctl, long pid)
{
	int sv[2];

	if (kp_ipc_pair(sv) != 0 || kp_authd_add_peer(ctl, sv[1], pid) != 0) {
		perror("peer");
		exit(2);
	}
	close(sv[1]);
	return sv[0];
}

static void
send_buf(int fd, struct kp_buf *b, int enc_rc)
{
	if (enc_rc != 0 || kp_ipc_send(fd, b) != 0) {
		fprintf(stderr, "send failed\n");
		exit(2);
	}
	kp_buf_free(b);
}

static void
send_begin(int fd, uint32_t sid, uint32_t tls)
{
	struct kp_ipc_begin m;
	struct kp_buf b;

	memset(&m, 0, sizeof(m));
	m.mode = KP_IPC_MODE_POP3;
	m.tls = tls;
	snprintf(m.peer, sizeof(m.peer), "127.0.0.1;40000");
	snprintf(m.local, sizeof(m.local), "127.0.0.1;1109");
	send_buf(fd, &b, kp_ipc_enc_begin(&b, sid, &m));
}

static void
send_gss_step(int fd, uint32_t sid, const char *token)
{
	struct kp_ipc_gss_step m;
	struct kp_buf b;

	memset(&m, 0, sizeof(m));
	m.token.data = (const unsigned char *)token;
	m.token.len = strlen(token);
	m.has_token = 1;
	send_buf(fd, &b, kp_ipc_enc_gss_step(&b, sid, &m));
}

/* The next packet within 10 s: 0 and its type in *type, KP_E_EOF (dropped), or
 * another KP_E_*. */
static int
next(int fd, uint32_t *type)
{
	struct kp_ipc_msg m;
	size_t len;
	int rc;

	if (kp_io_wait(fd, POLLIN, 10000) != 0)
		return KP_E_TIMEOUT;
	rc = kp_ipc_recv(fd, rx, KP_IPC_MSG_MAX, &len);
	if (rc != 0)
		return rc;
	rc = kp_ipc_decode(rx, len, KP_IPC_FROM_AUTH, &m);
	if (rc == 0)
		*type = m.type;
	return rc;
}

static void
expect_dropped(int fd, const char *what)
{
	uint32_t type = 0;
	int rc = next(fd, &type);
	char detail[128];

	snprintf(detail, sizeof(detail), "%s (type 0x%x)", rc == 0 ? "answered" : kp_strerror(rc),
		 (unsigned)type);
	check(rc == KP_E_EOF, what, detail);
	close(fd);
}

/* The honest worker: one GSS step with a token that is not one must be refused with
 * FAIL, the session ended, and a new one begun. */
static void
honest_round(int fd, uint32_t sid, const char *what)
{
	struct kp_buf b;
	uint32_t type = 0;
	int rc;
	char detail[128];

	send_begin(fd, sid, 0);
	send_gss_step(fd, sid, "not a GSS-API token");
	rc = next(fd, &type);
	snprintf(detail, sizeof(detail), "%s, type 0x%x", rc == 0 ? "answered" : kp_strerror(rc),
		 (unsigned)type);
	check(rc == 0 && type == KP_IPC_FAIL, what, detail);
	send_buf(fd, &b, kp_ipc_enc_end(&b, sid));
}

int
main(int argc, char **argv)
{
	struct kp_conf c;
	struct kp_buf b;
	unsigned char junk[KP_IPC_MSG_MAX + 64];
	int ctl[2], honest, fd, st;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: authd-peer KEYTAB RCACHE_DIR\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	kp_log_open("authd-peer", 0, KP_LOG_INFO);
	kp_ident_init();
	kp_conf_defaults(&c);
	if (kp_conf_set(&c, "keytab", argv[1], "command line") != 0 ||
	    kp_conf_set(&c, "rcache_dir", argv[2], "command line") != 0 ||
	    kp_conf_set(&c, "auth_failure_delay_ms", "0", "command line") != 0)
		return 2;
	if (kp_ipc_pair(ctl) != 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(ctl[0]);
		kp_authd_main(&c, ctl[1], -1);
	}
	close(ctl[1]);

	honest = new_peer(ctl[0], 100);
	honest_round(honest, 1, "an honest worker is served");

	fd = new_peer(ctl[0], 101);
	memset(junk, 0xa5, sizeof(junk));
	if (send(fd, junk, 5, 0) != 5)
		return 2;
	expect_dropped(fd, "a packet shorter than a header: that worker is dropped");

	fd = new_peer(ctl[0], 102);
	if (send(fd, junk, 200, 0) != 200)
		return 2;
	expect_dropped(fd, "200 bytes of garbage: that worker is dropped");

	fd = new_peer(ctl[0], 103);
	if (send(fd, junk, sizeof(junk), 0) != (ssize_t)sizeof(junk))
		return 2;
	expect_dropped(fd, "a packet over KP_IPC_MSG_MAX: that worker is dropped");

	fd = new_peer(ctl[0], 104);
	send_gss_step(fd, 7, "token");
	expect_dropped(fd, "GSS_STEP before BEGIN (unpermitted): that worker is dropped");

	fd = new_peer(ctl[0], 105);
	send_begin(fd, 8, 0);
	send_begin(fd, 8, 0);
	expect_dropped(fd, "BEGIN twice (repeated): that worker is dropped");

	fd = new_peer(ctl[0], 106);
	{
		struct kp_ipc_password m;

		send_begin(fd, 9, 0);
		memset(&m, 0, sizeof(m));
		snprintf(m.user, sizeof(m.user), "alice");
		snprintf(m.password, sizeof(m.password), "secret");
		send_buf(fd, &b, kp_ipc_enc_password(&b, 9, &m));
	}
	expect_dropped(fd, "PASSWORD outside TLS: that worker is dropped");

	fd = new_peer(ctl[0], 107);
	{
		struct kp_ipc_verdict v;

		memset(&v, 0, sizeof(v));
		snprintf(v.user, sizeof(v.user), "root");
		snprintf(v.principal, sizeof(v.principal), "root@EVIL");
		send_buf(fd, &b, kp_ipc_enc_verdict(&b, 10, &v));
	}
	expect_dropped(fd, "a worker sending a VERDICT: that worker is dropped");

	honest_round(honest, 2, "the honest worker is still served after all of them");
	check(kill(pid, 0) == 0, "the auth service is still running", strerror(errno));

	close(honest);
	close(ctl[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "with the master's channel and the last peer gone it exits 0", "bad status");
	printf("%d passed, %d failed\n", passed, failed);
	kp_conf_free(&c);
	return failed == 0 ? 0 : 1;
}
