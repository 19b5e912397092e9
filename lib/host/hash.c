#include "hash.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <unistd.h>

void sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		die(KTSTR_EXIT_USAGE, "cannot initialise SHA-256");
	h->ctx = ctx;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void sha256_buf_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_final_hex(&h, hex);
}

int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	char buf[65536];
	struct sha256 h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			sha256_final_hex(&h, hex);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
	}
	close(fd);
	sha256_final_hex(&h, hex);
	return 0;
}
