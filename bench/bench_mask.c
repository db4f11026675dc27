/*
 * Masking throughput: a log stream of 256 MiB filtered through a mask of 20
 * secrets (each also in its base64 forms), in 64 KiB writes, against one
 * plain pass over the same bytes in the same run (finding the line ends
 * with memchr, which log capture does anyway).  The executor's target is at
 * least 500 MB/s with masking on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guts/mask.h"
#include "banned.h"

#define CHUNK (64 * 1024)
#define TOTAL (256UL * 1024 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sink {
	char *out;
	size_t len;
};

static void copy_sink(const char *data, size_t len, void *ud)
{
	struct sink *s = ud;

	if (s->len + len > CHUNK * 2)
		s->len = 0;
	memcpy(s->out + s->len, data, len);
	s->len += len;
}

int main(void)
{
	static const char words[] = "build step log line compiling test ok "
				    "warning error linking src/main.c\n";
	struct guts_mask *m = guts_mask_new();
	struct sink s = {malloc(CHUNK * 2), 0};
	char *chunk = malloc(CHUNK);
	double t0, copy, masked;
	size_t patterns, lines = 0;

	for (size_t i = 0; i < CHUNK; i++)
		chunk[i] = words[i % (sizeof(words) - 1)];
	for (int i = 0; i < 20; i++) {
		char secret[64];

		snprintf(secret, sizeof(secret), "ghp_%08dAbCdEfGhIjKlMn%02d",
			 i * 7919, i);
		guts_mask_add(m, secret, strlen(secret));
	}
	patterns = guts_mask_count(m);

	t0 = now();
	for (size_t done = 0; done < TOTAL; done += CHUNK) {
		const char *p = chunk, *e = chunk + CHUNK;

		while ((p = memchr(p, '\n', (size_t)(e - p))))
			lines++, p++;
	}
	copy = now() - t0;
	t0 = now();
	for (size_t done = 0; done < TOTAL; done += CHUNK)
		guts_mask_write(m, chunk, CHUNK, copy_sink, &s);
	guts_mask_flush(m, copy_sink, &s);
	masked = now() - t0;

	printf("mask: %lu MiB in %d KiB writes, 20 secrets (%zu patterns)\n",
	       TOTAL >> 20, CHUNK / 1024, patterns);
	printf("  baseline memchr line scan: %8.0f MB/s (%zu lines)\n",
	       TOTAL / copy / 1e6, lines);
	printf("  masked:                    %8.0f MB/s (target >= 500 MB/s)\n",
	       TOTAL / masked / 1e6);
	printf("  ratio: masked throughput is %.2f of the line scan\n",
	       copy / masked);
	guts_mask_free(m);
	free(chunk);
	free(s.out);
	return 0;
}
