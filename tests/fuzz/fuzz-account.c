/* fuzz-account.c - kpop's config file (client/account.c): any file is read or
 * refused with a message; every account read is complete and frees cleanly. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "client/account.h"

FUZZ_FILE_INIT("config")

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct account *accts = NULL, defaults;
	size_t n = 0, i;
	int rc;

	fuzz_write_file(fuzz_path, data, size);
	account_init(&defaults);
	rc = config_read(fuzz_path, &accts, &n, &defaults);
	FUZZ_CHECK(rc == 0 || rc == KP_E_CONFIG, "config_read", "unexpected return code");
	if (rc == 0) {
		FUZZ_CHECK(n <= ACCOUNTS_MAX, "config_read", "more accounts than allowed");
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(strlen(accts[i].name) <= ACCOUNT_NAME_MAX, "config_read",
				   "account name");
			account_free(&accts[i]);
		}
	} else {
		FUZZ_CHECK(accts == NULL && n == 0, "config_read", "output set on failure");
	}
	free(accts);
	account_free(&defaults);
	return 0;
}
