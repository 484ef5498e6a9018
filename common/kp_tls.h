/* kp_tls.h - TLS (OpenSSL 3) as a kp_io layer, for STLS, implicit TLS and the
 * client; TLS 1.2 minimum unless a server is configured lower. */
#ifndef KP_TLS_H
#define KP_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "kp_io.h"

struct kp_tls;

/* A server context from a PEM certificate file (the chain may follow the leaf in
 * the same file; chain adds more) and a PEM key, accepting TLS versions from
 * min_version (TLS1_2_VERSION etc.; below TLS 1.2 also OpenSSL security level 0,
 * without which OpenSSL 3 refuses those versions' SHA-1 handshakes).  NULL on
 * failure, reason in err. */
SSL_CTX *kp_tls_server_ctx(const char *cert, const char *key, const char *chain,
			   int min_version, char *err, size_t cap);

/* A client context that verifies the server: against cafile, or the system store
 * when cafile is NULL.  NULL on failure, reason in err. */
SSL_CTX *kp_tls_client_ctx(const char *cafile, char *err, size_t cap);

/* Run the TLS handshake on io's descriptor (nothing may be read ahead: the caller
 * discards or refuses such input first) and put TLS under io.  A client passes the
 * host name to verify (NULL on a server).  Returns 0 and *tls_out, or KP_E_LAYER with
 * the reason in err (for a client: certificate problems in plain words). */
int kp_tls_start(struct kp_io *io, SSL_CTX *ctx, const char *verify_host,
		 struct kp_tls **tls_out, char *err, size_t cap);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" for logs. */
const char *kp_tls_describe(const struct kp_tls *t, char *buf, size_t cap);

/* Send close_notify (best effort) and free. */
void kp_tls_free(struct kp_tls *t);

#endif
