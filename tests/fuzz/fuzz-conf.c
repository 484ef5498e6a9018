/* fuzz-conf.c - kpopd.conf (server/conf.c): any file is loaded or refused with a
 * message, the checks and the dump (kpopd -t -v) run on whatever loaded, and the
 * configuration frees cleanly (leaks are reported by ASan). */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "server/conf.h"

FUZZ_FILE_INIT("kpopd.conf")

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_conf c;
	int rc;

	fuzz_write_file(fuzz_path, data, size);
	kp_conf_defaults(&c);
	rc = kp_conf_load(&c, fuzz_path);
	FUZZ_CHECK(rc == 0 || rc == KP_E_CONFIG, "kp_conf_load", "unexpected return code");
	if (rc == 0) {
		(void)kp_conf_check(&c);
		kp_conf_dump(&c);
	}
	kp_conf_free(&c);
	/* a second load over a loaded configuration replaces, never leaks */
	kp_conf_defaults(&c);
	(void)kp_conf_load(&c, fuzz_path);
	(void)kp_conf_load(&c, fuzz_path);
	kp_conf_free(&c);
	return 0;
}
