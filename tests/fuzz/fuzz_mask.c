/*
 * libFuzzer target for secret masking.  The input is "secret1\nsecret2\n
 * ...\n\n<stream>".  Oracles: masking the stream in random-sized chunks
 * gives the same bytes as masking it at once, and no secret without a '*'
 * in it survives in the output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/buf.h"
#include "guts/mask.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void to_buf(const char *d, size_t len, void *ud)
{
	guts_buf_add(ud, d, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *sep;
	struct guts_mask *m = guts_mask_new();
	struct guts_buf whole, parts;
	const char *secrets[8];
	size_t lens[8], nr = 0, pos = 0, step = 1;

	sep = memmem(s, size, "\n\n", 2);
	if (!sep)
		sep = s;
	while (s < sep && nr < 8) {
		const char *nl = memchr(s, '\n', (size_t)(sep - s));
		size_t l = (size_t)((nl ? nl : sep) - s);

		if (l && l < 64) {
			secrets[nr] = s;
			lens[nr++] = l;
			guts_mask_add(m, s, l);
		}
		s = nl ? nl + 1 : sep;
	}
	s = sep < end ? sep + (sep + 2 <= end ? 2 : 0) : end;

	guts_buf_init(&whole, 0);
	guts_buf_init(&parts, 0);
	guts_mask_write(m, s, (size_t)(end - s), to_buf, &whole);
	guts_mask_flush(m, to_buf, &whole);
	while (pos < (size_t)(end - s)) {
		size_t n = step;

		if (n > (size_t)(end - s) - pos)
			n = (size_t)(end - s) - pos;
		guts_mask_write(m, s + pos, n, to_buf, &parts);
		pos += n;
		step = step * 7 % 13 + 1;
	}
	guts_mask_flush(m, to_buf, &parts);
	if (whole.len != parts.len || memcmp(whole.data, parts.data, whole.len))
		abort();
	for (size_t i = 0; i < nr; i++) {
		int blank = 1;

		for (size_t j = 0; j < lens[i]; j++)
			if (secrets[i][j] != ' ' && secrets[i][j] != '\t' &&
			    secrets[i][j] != '\r' && secrets[i][j] != '\v' &&
			    secrets[i][j] != '\f')
				blank = 0;
		if (blank || memchr(secrets[i], '*', lens[i]))
			continue;
		if (memmem(whole.data, whole.len, secrets[i], lens[i]))
			abort();
	}
	guts_buf_release(&whole);
	guts_buf_release(&parts);
	guts_mask_free(m);
	return 0;
}
