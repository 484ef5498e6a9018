/* fuzz-sizecache.c - the Maildir size cache (.kpopd.sizes, server/maildrop.c): the
 * input is the cache file, written into a Maildir of three messages whose
 * directories are settled (so that a cache can be current).  "%H" in the input
 * stands for the true header numbers (NEWINO NEWMTIME CURINO CURMTIME), "%0".."%2"
 * for a message's true "ino mtime fsize" and "%a".."%c" for its name, so that the
 * fuzzer reaches current caches and matching entries.  Whatever the file says,
 * opening succeeds; unless the header is current the listing is the directories'
 * (three messages, their UIDLs, unique), and a message whose numbers the input
 * does not name has its true size. */
#include "config.h"
#include "fuzz.h"

#include <sys/time.h>

#include "kp_err.h"
#include "kp_limits.h"
#include "server/maildrop.h"

static char root[4200], cachepath[4300];
static char header[128], nums[3][96], names[3][64];
static unsigned long long true_size[3];
static char true_uidl[3][KP_UIDL_MAX + 1];

static void
settle(const char *dir)
{
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	if (utimes(dir, tv) != 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *msgs[3] = { "Subject: one\n\nbody\n", "Subject: two\r\n\r\n.x\r\n",
				       "Subject: three\n\nno end" };
	struct kp_maildrop *md = NULL;
	char p[4400];
	struct stat st[2], m;
	int i;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(root, sizeof(root), "%s/Maildir", fuzz_scratch());
	snprintf(cachepath, sizeof(cachepath), "%s/.kpopd.sizes", root);
	mkdir(root, 0700);
	snprintf(p, sizeof(p), "%s/new", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/cur", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/tmp", root);
	mkdir(p, 0700);
	for (i = 0; i < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "100000000%d.M%dP1.fuzz%s", i, i,
			 i == 2 ? ":2,S" : "");
		snprintf(p, sizeof(p), "%s/%s/%s", root, i == 2 ? "cur" : "new", names[i]);
		fuzz_write_file(p, msgs[i], strlen(msgs[i]));
		settle(p);
		if (stat(p, &m) != 0)
			abort();
		snprintf(nums[i], sizeof(nums[i]), "%llu %llu %llu", (unsigned long long)m.st_ino,
			 (unsigned long long)m.st_mtim.tv_sec * 1000000000ULL +
			 (unsigned long long)m.st_mtim.tv_nsec, (unsigned long long)m.st_size);
	}
	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", root, i == 0 ? "new" : "cur");
		settle(p);
		if (stat(p, &st[i]) != 0)
			abort();
	}
	snprintf(header, sizeof(header), "%llu %llu %llu %llu",
		 (unsigned long long)st[0].st_ino,
		 (unsigned long long)st[0].st_mtim.tv_sec * 1000000000ULL,
		 (unsigned long long)st[1].st_ino,
		 (unsigned long long)st[1].st_mtim.tv_sec * 1000000000ULL);
	/* the truth, from the files themselves */
	unlink(cachepath);
	if (kp_maildrop_open(root, geteuid(), 0, &md) != 0 || kp_maildrop_count(md) != 3)
		abort();
	for (i = 0; i < 3; i++) {
		true_size[i] = kp_maildrop_size(md, (unsigned long)i + 1);
		snprintf(true_uidl[i], sizeof(true_uidl[i]), "%s",
			 kp_maildrop_uidl(md, (unsigned long)i + 1));
	}
	kp_maildrop_close(md);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_out f = { NULL, 0, 0 };
	struct kp_maildrop *md = NULL;
	int named[3] = { 0, 0, 0 }, current, rc;
	unsigned long n, i, j;
	size_t k;

	/* expand the placeholders */
	for (k = 0; k < size; k++) {
		const char *s = NULL;

		if (data[k] == '%' && k + 1 < size) {
			char c = (char)data[k + 1];

			if (c == 'H')
				s = header;
			else if (c >= '0' && c <= '2')
				s = nums[c - '0'], named[c - '0'] = 1;
			else if (c >= 'a' && c <= 'c')
				s = names[c - 'a'];
		}
		if (s != NULL) {
			fuzz_out_write(&f, s, strlen(s));
			k++;
		} else {
			fuzz_out_write(&f, data + k, 1);
		}
	}
	fuzz_write_file(cachepath, f.p, f.len);
	current = f.len > 14 + strlen(header) && memcmp(f.p, "kpopd-sizes-2 ", 14) == 0 &&
		  memcmp(f.p + 14, header, strlen(header)) == 0 && f.p[14 + strlen(header)] == '\n';
	free(f.p);
	rc = kp_maildrop_open(root, geteuid(), size > 0 ? data[0] % 5 : 0, &md);
	FUZZ_CHECK(rc == 0, "kp_maildrop_open", "a bad size cache made the maildrop fail");
	n = kp_maildrop_count(md);
	if (!current) {
		unsigned long want = size > 0 && data[0] % 5 > 0 && data[0] % 5 < 3 ? data[0] % 5 : 3;

		FUZZ_CHECK(n == want, "kp_maildrop_open", "a stale cache changed the listing");
		for (i = 1; i <= n; i++) {
			for (j = 0; j < 3 && strcmp(true_uidl[j], kp_maildrop_uidl(md, i)) != 0; j++)
				;
			FUZZ_CHECK(j < 3, "kp_maildrop_open", "a UIDL that is no message's");
			for (k = 1; k < i; k++)
				FUZZ_CHECK(strcmp(kp_maildrop_uidl(md, k), kp_maildrop_uidl(md, i)) != 0,
					   "kp_maildrop_open", "two messages with one UIDL");
			FUZZ_CHECK(named[j] || kp_maildrop_size(md, i) == true_size[j],
				   "kp_maildrop_size", "a size the cache could not vouch for is wrong");
		}
	}
	kp_maildrop_close(md);
	return 0;
}
