/* SHA-256 over buffers, files and streams (OpenSSL libcrypto). */
#ifndef KTSTR_HASH_H
#define KTSTR_HASH_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256 {
	void *ctx;	/* EVP_MD_CTX */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes 64 hex chars + NUL into hex and frees the context. */
void sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1]);

void sha256_buf_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);
/* 0, or -1 with errno set. */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
