#include "guts/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guts/error.h"
#include "banned.h"

void guts_sha256_init(struct guts_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "guts: OpenSSL cannot start SHA-256\n");
		abort();
	}
	h->ctx = ctx;
}

void guts_sha256_update(struct guts_sha256 *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->ctx, data, len) != 1) {
		fprintf(stderr, "guts: OpenSSL SHA-256 update failed\n");
		abort();
	}
}

void guts_sha256_final(struct guts_sha256 *h, uint8_t out[GUTS_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != GUTS_SHA256_LEN) {
		fprintf(stderr, "guts: OpenSSL SHA-256 final failed\n");
		abort();
	}
	guts_sha256_release(h);
}

void guts_sha256_release(struct guts_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void guts_sha256_buf(uint8_t out[GUTS_SHA256_LEN], const void *data, size_t len)
{
	struct guts_sha256 h;

	guts_sha256_init(&h);
	guts_sha256_update(&h, data, len);
	guts_sha256_final(&h, out);
}

void guts_sha256_hex(char hex[GUTS_SHA256_HEX_LEN + 1],
		     const uint8_t digest[GUTS_SHA256_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < GUTS_SHA256_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[GUTS_SHA256_HEX_LEN] = '\0';
}

int guts_sha256_file(uint8_t out[GUTS_SHA256_LEN], const char *path)
{
	struct guts_sha256 h;
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return guts_error_errno("cannot open '%s'", path);
	guts_sha256_init(&h);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			guts_sha256_release(&h);
			close(fd);
			return guts_error_errno("cannot read '%s'", path);
		}
		if (!n)
			break;
		guts_sha256_update(&h, buf, (size_t)n);
	}
	close(fd);
	guts_sha256_final(&h, out);
	return 0;
}
