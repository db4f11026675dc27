/*
 * SHA-256 through OpenSSL's EVP interface.  Incremental use streams data that
 * does not fit in memory; the one-shot helpers hash a buffer or a file.
 */
#ifndef GUTS_HASH_H
#define GUTS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define GUTS_SHA256_LEN 32
#define GUTS_SHA256_HEX_LEN 64

struct guts_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

/** Start a digest; aborts only when OpenSSL cannot allocate. */
void guts_sha256_init(struct guts_sha256 *h);
void guts_sha256_update(struct guts_sha256 *h, const void *data, size_t len);
/** Finish into @out and release the context. */
void guts_sha256_final(struct guts_sha256 *h, uint8_t out[GUTS_SHA256_LEN]);
/** Release a digest that will not be finished. */
void guts_sha256_release(struct guts_sha256 *h);

void guts_sha256_buf(uint8_t out[GUTS_SHA256_LEN], const void *data,
		     size_t len);
/** Lower-case hex of a digest into @hex (65 bytes with the NUL). */
void guts_sha256_hex(char hex[GUTS_SHA256_HEX_LEN + 1],
		     const uint8_t digest[GUTS_SHA256_LEN]);
/** Hash a file's contents; GUTS_EIO on read errors. */
int guts_sha256_file(uint8_t out[GUTS_SHA256_LEN], const char *path);

#endif
