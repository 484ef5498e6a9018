/* kp_tls.c - TLS (OpenSSL 3) as a kp_io layer. */
#include "config.h"
#include "kp_tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "kp_err.h"

struct kp_tls {
	SSL *ssl;
	int fd;
	int timeout_ms;
};

static void
ssl_err(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, cap, "%s: %s", what, buf);
	} else {
		snprintf(err, cap, "%s", what);
	}
	ERR_clear_error();
}

SSL_CTX *
kp_tls_server_ctx(const char *cert, const char *key, const char *chain, int min_version,
		  char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ssl_err(err, cap, "SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
		ssl_err(err, cap, "tls_min_protocol");
		goto fail;
	}
	if (min_version < TLS1_2_VERSION &&
	    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1) {
		ssl_err(err, cap, "tls_min_protocol: the legacy cipher list");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_err(err, cap, cert);
		goto fail;
	}
	if (chain != NULL && SSL_CTX_load_verify_locations(ctx, chain, NULL) != 1) {
		ssl_err(err, cap, chain);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, cap, key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
kp_tls_client_ctx(const char *cafile, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		ssl_err(err, cap, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((cafile != NULL ? SSL_CTX_load_verify_locations(ctx, cafile, NULL)
			    : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		ssl_err(err, cap, cafile != NULL ? cafile : "system certificate store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Wait for the descriptor as OpenSSL asks; 0, or KP_E_TIMEOUT / KP_E_IO. */
static int
wait_want(struct kp_tls *t, int r)
{
	int e = SSL_get_error(t->ssl, r);

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return KP_E_IO;
	return kp_io_wait(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, t->timeout_ms);
}

static ssize_t
tls_read(void *ctx, void *buf, size_t n)
{
	struct kp_tls *t = ctx;

	for (;;) {
		int r = SSL_read(t->ssl, buf, n > 0x40000000 ? 0x40000000 : (int)n), e;

		if (r > 0)
			return r;
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return 0; /* the peer closed without close_notify */
		if ((e = wait_want(t, r)) != 0) {
			ERR_clear_error();
			return e == KP_E_TIMEOUT ? KP_E_TIMEOUT : KP_E_LAYER;
		}
	}
}

static ssize_t
tls_write(void *ctx, const void *buf, size_t n)
{
	struct kp_tls *t = ctx;

	for (;;) {
		int r = SSL_write(t->ssl, buf, n > 0x40000000 ? 0x40000000 : (int)n), e;

		if (r > 0)
			return r;
		if ((e = wait_want(t, r)) != 0) {
			ERR_clear_error();
			return e == KP_E_TIMEOUT ? KP_E_TIMEOUT : KP_E_LAYER;
		}
	}
}

static size_t
tls_pending(void *ctx)
{
	struct kp_tls *t = ctx;

	return (size_t)SSL_pending(t->ssl);
}

int
kp_tls_start(struct kp_io *io, SSL_CTX *ctx, const char *verify_host,
	     struct kp_tls **tls_out, char *err, size_t cap)
{
	struct kp_io_layer layer;
	struct kp_tls *t;
	int r, rc;

	*tls_out = NULL;
	if (kp_io_flush(io) != 0) {
		snprintf(err, cap, "write error before the TLS handshake");
		return KP_E_LAYER;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return KP_E_NOMEM;
	t->fd = io->rfd;
	t->timeout_ms = io->timeout_ms;
	t->ssl = SSL_new(ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, t->fd) != 1) {
		ssl_err(err, cap, "SSL_new");
		goto fail;
	}
	if (verify_host != NULL) {
		SSL_set_tlsext_host_name(t->ssl, verify_host);
		if (SSL_set1_host(t->ssl, verify_host) != 1) {
			ssl_err(err, cap, "SSL_set1_host");
			goto fail;
		}
		SSL_set_connect_state(t->ssl);
	} else {
		SSL_set_accept_state(t->ssl);
	}
	while ((r = SSL_do_handshake(t->ssl)) != 1) {
		long v = SSL_get_verify_result(t->ssl);

		if (verify_host != NULL && v != X509_V_OK) {
			snprintf(err, cap, "the server's certificate is not acceptable: %s",
				 X509_verify_cert_error_string(v));
			if (v == X509_V_ERR_HOSTNAME_MISMATCH)
				snprintf(err, cap, "the server's certificate is not valid for the "
					 "host name %s", verify_host);
			else if (v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
				 v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
				 v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
				snprintf(err, cap, "the server's certificate is signed by a CA this "
					 "client does not trust (%s); give the CA with --cafile",
					 X509_verify_cert_error_string(v));
			ERR_clear_error();
			goto fail;
		}
		if ((rc = wait_want(t, r)) != 0) {
			if (rc == KP_E_TIMEOUT)
				snprintf(err, cap, "TLS handshake timed out");
			else
				ssl_err(err, cap, "TLS handshake failed");
			goto fail;
		}
	}
	memset(&layer, 0, sizeof(layer));
	layer.read = tls_read;
	layer.write = tls_write;
	layer.pending = tls_pending;
	layer.ctx = t;
	kp_io_set_layer(io, &layer);
	*tls_out = t;
	return 0;
fail:
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	free(t);
	return KP_E_LAYER;
}

const char *
kp_tls_describe(const struct kp_tls *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
	return buf;
}

void
kp_tls_free(struct kp_tls *t)
{
	if (t == NULL)
		return;
	(void)SSL_shutdown(t->ssl);
	SSL_free(t->ssl);
	free(t);
}
