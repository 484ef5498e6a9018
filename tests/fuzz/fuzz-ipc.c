/* fuzz-ipc.c - the IPC decoder (common/kp_ipc.c), what the auth service and the
 * master read from less trusted processes: any packet decodes strictly or is
 * refused, and whatever decodes re-encodes to exactly the same bytes (no field is
 * read loosely, none is dropped). */
#include "config.h"
#include "fuzz.h"

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_ipc_msg.h"
#include "kp_limits.h"

FUZZ_QUIET_INIT

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_ipc_msg m;
	static const unsigned int dirs[] = { KP_IPC_TO_AUTH, KP_IPC_FROM_AUTH, KP_IPC_TO_MASTER,
					     KP_IPC_FROM_MASTER };
	struct kp_buf b;
	size_t i, len;
	char *enc;
	int rc;

	if (size > KP_IPC_MSG_MAX)
		return 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		rc = kp_ipc_decode(data, size, dirs[i], &m);
		FUZZ_CHECK(rc == 0 || rc == KP_E_PROTO || rc == KP_E_TOOBIG || rc == KP_E_NUL ||
			   rc == KP_E_RANGE, "kp_ipc_decode", "unexpected return code");
		if (rc != 0)
			continue;
		FUZZ_CHECK(kp_ipc_type_dir(m.type) & dirs[i], "kp_ipc_decode",
			   "decoded a message outside the receiver's directions");
		FUZZ_CHECK(kp_ipc_type_maxlen(m.type) >= size, "kp_ipc_decode",
			   "accepted a message longer than its type's maximum");
		rc = kp_ipc_encode(&b, &m);
		FUZZ_CHECK(rc == 0, "kp_ipc_encode", "cannot encode what was decoded");
		enc = kp_buf_steal(&b, &len);
		FUZZ_CHECK(len == size && memcmp(enc, data, size) == 0, "kp_ipc_decode",
			   "decoded message does not re-encode to the same bytes");
		kp_buf_free(&b);
		free(enc);
	}
	return 0;
}
