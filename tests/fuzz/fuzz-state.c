/* fuzz-state.c - kpop's UIDL state file (client/state.c): the input is the file.
 * A unique id counts as stored only from a whole line, after the header for this
 * account, that is a valid RFC 1939 unique id; anything else (another account's
 * file, a torn last line, garbage) only costs a duplicate.  Compaction keeps every
 * stored id and the file it writes loads back the same. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "client/state.h"

#define IDENT "alice@127.0.0.1:110"

FUZZ_FILE_INIT("state")

static int
keep_odd(void *arg, const char *uidl)
{
	(void)arg;
	return strlen(uidl) % 2;
}

/* Calls fn for every whole line of data after the first (NUL-terminated copies;
 * lines holding a NUL are skipped: they are no unique id). */
static void
each_line(const uint8_t *data, size_t size, void (*fn)(const char *line, void *arg), void *arg)
{
	const uint8_t *p = memchr(data, '\n', size), *end = data + size, *nl;
	char line[128];

	for (p = p != NULL ? p + 1 : end; p < end && (nl = memchr(p, '\n', (size_t)(end - p)));
	     p = nl + 1) {
		size_t n = (size_t)(nl - p);

		if (n < sizeof(line) && memchr(p, '\0', n) == NULL) {
			memcpy(line, p, n);
			line[n] = '\0';
			fn(line, arg);
		}
	}
}

struct expect {
	const struct state *st;
	int (*keep)(void *, const char *);
	int stored;             /* 1: each valid id must be there; 0: none may be */
	const char *when;
};

static void
expect_line(const char *line, void *arg)
{
	const struct expect *e = arg;

	if (!state_uidl_ok(line) || (e->keep != NULL && !e->keep(NULL, line)))
		return;
	if (e->stored)
		FUZZ_CHECK(state_has(e->st, line), e->when, "a stored id was forgotten");
	else
		FUZZ_CHECK(!state_has(e->st, line), e->when,
			   "another account's file counts as stored");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "kpop-state 1 " IDENT "\n";
	int (*keep)(void *, const char *) = size > 0 && (data[0] & 1) ? keep_odd : NULL;
	int ours = size >= sizeof(head) - 1 && memcmp(data, head, sizeof(head) - 1) == 0, rc;
	struct state st;
	struct expect e;

	fuzz_write_file(fuzz_path, data, size);
	rc = state_open(&st, fuzz_path, IDENT);
	FUZZ_CHECK(rc == 0, "state_open", "a bad state file is an error, not an empty state");
	e.st = &st;
	e.keep = NULL;
	e.stored = ours;
	e.when = "state_open";
	each_line(data, size, expect_line, &e);
	/* a torn last line that is no whole line elsewhere: never "stored" */
	if (ours && size > 0 && data[size - 1] != '\n') {
		const uint8_t *last = data + size;
		char torn[128], whole[132];

		while (last > data && last[-1] != '\n')
			last--;
		if ((size_t)(data + size - last) < sizeof(torn) &&
		    memchr(last, '\0', (size_t)(data + size - last)) == NULL) {
			memcpy(torn, last, (size_t)(data + size - last));
			torn[data + size - last] = '\0';
			snprintf(whole, sizeof(whole), "\n%s\n", torn);
			if (state_uidl_ok(torn) && memmem(data, size, whole, strlen(whole)) == NULL)
				FUZZ_CHECK(!state_has(&st, torn), "state_open",
					   "a torn line counts as stored");
		}
	}
	state_add(&st, "fuzz-new-id");
	rc = state_save(&st, keep, NULL);
	FUZZ_CHECK(rc == 0, "state_save", "compaction failed");
	state_close(&st);
	rc = state_open(&st, fuzz_path, IDENT);
	FUZZ_CHECK(rc == 0, "state_open", "the compacted file does not load");
	FUZZ_CHECK(state_has(&st, "fuzz-new-id"), "state_save", "an id added was lost");
	if (ours) {
		e.keep = keep;
		e.when = "state_save";
		each_line(data, size, expect_line, &e);
	}
	state_close(&st);
	return 0;
}
