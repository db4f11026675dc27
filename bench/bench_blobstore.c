/*
 * The blob store's two costs, each on 1 GiB (or argv[1] MiB) of
 * pseudo-random bytes in memory:
 *
 *   hash    guts_sha256_update() in 1 MiB pieces, as a blob upload hashes
 *   store   guts_blob_writer (hash, write by its second thread, fsync,
 *           rename) into a fresh store under /tmp
 *
 * printed as MB/s.  bench/node/artifacts.sh sets the hash figure against
 * `openssl speed -evp sha256` from the same run (the target: the
 * node hashes at >= 80% of what OpenSSL can).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/blobstore.h"
#include "guts/builtin.h"
#include "guts/hash.h"
#include "banned.h"

#define PIECE (1u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1024;
	unsigned char *piece = malloc(PIECE);
	char dir[] = "/tmp/guts-bench-blobs-XXXXXX";
	char hex[GUTS_SHA256_HEX_LEN + 1];
	struct guts_blobstore *bs = NULL;
	struct guts_blob_writer *w = NULL;
	struct guts_sha256 h;
	uint8_t digest[GUTS_SHA256_LEN];
	unsigned int x = 12345;
	double t0, hash_s, store_s;

	if (!piece || !mib || !mkdtemp(dir))
		return 1;
	for (size_t i = 0; i < PIECE; i++) {
		x = x * 1103515245u + 12345u;
		piece[i] = (unsigned char)(x >> 16);
	}
	t0 = now();
	guts_sha256_init(&h);
	for (size_t i = 0; i < mib; i++) {
		piece[0] = (unsigned char)i; /* no two pieces alike */
		guts_sha256_update(&h, piece, PIECE);
	}
	guts_sha256_final(&h, digest);
	hash_s = now() - t0;
	if (guts_blobstore_open(&bs, dir) < 0 ||
	    guts_blob_writer_new(bs, &w) < 0) {
		fprintf(stderr, "bench_blobstore: cannot open a store\n");
		return 1;
	}
	t0 = now();
	for (size_t i = 0; i < mib; i++) {
		piece[0] = (unsigned char)i;
		if (guts_blob_writer_write(w, piece, PIECE) < 0)
			return 1;
	}
	if (guts_blob_writer_commit(w, NULL, hex, NULL) < 0)
		return 1;
	store_s = now() - t0;
	printf("hash %.1f MB/s\nstore %.1f MB/s\n",
	       (double)mib * PIECE / hash_s / 1e6,
	       (double)mib * PIECE / store_s / 1e6);
	guts_blobstore_free(bs);
	guts_remove_tree(dir);
	free(piece);
	return 0;
}
