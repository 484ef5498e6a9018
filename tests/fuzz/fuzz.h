/* fuzz.h - what every libFuzzer harness of tests/fuzz/ shares: quiet logging, the
 * input as a descriptor or a file, a scratch directory, and invariant checks that
 * name the function that broke them.  Header-only: each harness is one program. */
#ifndef KP_FUZZ_H
#define KP_FUZZ_H

#define _GNU_SOURCE 1
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_io.h"
#include "kp_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* stderr as it was at start: scripts/fuzz.sh runs with -close_fd_mask=3 (the code
 * under test prints), and libFuzzer itself and the sanitizers keep a copy too. */
static int fuzz_err_fd = 2;

/* An invariant of the code under test does not hold: say which function broke it
 * (scripts/fuzz.sh reports the line) and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, func, what) do { \
	if (!(cond)) { \
		dprintf(fuzz_err_fd, "fuzz: invariant broken in %s: %s (%s:%d)\n", (func), \
			(what), __FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

/* Called from LLVMFuzzerInitialize (before libFuzzer closes stdout and stderr):
 * logging off unless FUZZ_VERBOSE is set (then everything, to stderr); SIGPIPE
 * ignored, as kpopd and kpop do. */
static inline void
fuzz_quiet(void)
{
	int fd = dup(2);

	signal(SIGPIPE, SIG_IGN);
	if (fd >= 0)
		fuzz_err_fd = fd;
	kp_log_open("fuzz", 0, getenv("FUZZ_VERBOSE") != NULL ? KP_LOG_DEBUG : -1);
}

/* The usual LLVMFuzzerInitialize: nothing but fuzz_quiet. */
#define FUZZ_QUIET_INIT \
	int LLVMFuzzerInitialize(int *argc, char ***argv) \
	{ \
		(void)argc; \
		(void)argv; \
		fuzz_quiet(); \
		return 0; \
	}

/* An LLVMFuzzerInitialize for harnesses whose input is one file: fuzz_path is
 * NAME in the scratch directory. */
#define FUZZ_FILE_INIT(name) \
	static char fuzz_path[4200]; \
	int LLVMFuzzerInitialize(int *argc, char ***argv) \
	{ \
		(void)argc; \
		(void)argv; \
		fuzz_quiet(); \
		snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_scratch(), (name)); \
		return 0; \
	}

/* A small deterministic generator (xorshift32) for chunk sizes and the like:
 * seeded from the input, so that a run replays. */
static inline uint32_t
fuzz_rng(uint32_t *state)
{
	uint32_t x = *state != 0 ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static inline int
fuzz_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The input as a readable descriptor at offset 0 that ends where the input does
 * (an anonymous file: poll says readable, read returns 0 at the end). */
static inline int
fuzz_input_fd(const uint8_t *data, size_t n)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0 || fuzz_write_all(fd, data, n) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		perror("fuzz: memfd");
		abort();
	}
	return fd;
}

/* The input as the read end of a stream socket (for code that peeks with recv):
 * all of it is queued and the other side has shut down, so it ends where the input
 * does.  Inputs must fit the socket buffer (libFuzzer's -max_len default does). */
static inline int
fuzz_input_socket(const uint8_t *data, size_t n)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    fuzz_write_all(sv[1], data, n) != 0) {
		perror("fuzz: socketpair");
		abort();
	}
	close(sv[1]);
	return sv[0];
}

/* /dev/null for writing: where replies go. */
static inline int
fuzz_null_fd(void)
{
	static int fd = -1;

	if (fd < 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
		perror("fuzz: /dev/null");
		abort();
	}
	return fd;
}

static char fuzz_dir[4096];

static int
fuzz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == 0 ? 0 : 0;
}

/* Remove everything under path (path itself too). */
static inline void
fuzz_rm_tree(const char *path)
{
	nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fuzz_rm_dir_at_exit(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rm_tree(fuzz_dir);
}

/* A private scratch directory for this process, removed at exit. */
static inline const char *
fuzz_scratch(void)
{
	if (fuzz_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/kpop-fuzz.XXXXXX",
			 t != NULL && t[0] != '\0' ? t : "/tmp");
		if (mkdtemp(fuzz_dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_rm_dir_at_exit);
	}
	return fuzz_dir;
}

/* Replace path's contents with n bytes of data. */
static inline void
fuzz_write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || fuzz_write_all(fd, data, n) != 0) {
		perror(path);
		abort();
	}
	close(fd);
}

/* Output of a kp_io kept in memory (fuzz_capture): what a peer would receive. */
struct fuzz_out {
	unsigned char *p;
	size_t len, cap;
};

static ssize_t
fuzz_out_write(void *ctx, const void *buf, size_t n)
{
	struct fuzz_out *o = ctx;

	if (o->len + n > o->cap) {
		size_t cap = (o->len + n) * 2;
		unsigned char *p = realloc(o->p, cap);

		if (p == NULL)
			abort();
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, buf, n);
	o->len += n;
	return (ssize_t)n;
}

static ssize_t
fuzz_out_read(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0; /* nothing to read: end of stream */
}

/* io writes into o (emptied first); reads see end of stream. */
static inline void
fuzz_capture(struct kp_io *io, struct fuzz_out *o)
{
	struct kp_io_layer layer = { fuzz_out_read, fuzz_out_write, NULL, o };

	o->len = 0;
	kp_io_init(io, -1, -1, 1000);
	kp_io_set_layer(io, &layer);
}

/* A NUL-terminated copy of the input (the caller frees it). */
static inline char *
fuzz_strdup(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

#endif
