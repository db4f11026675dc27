/*
 * Streaming secret masking (see guts/mask.h).  Patterns are indexed by
 * their first byte, longest first; bytes that may still be the start of a
 * pattern at the end of a write are carried into the next one.
 *
 * The scan skips ahead Wu-Manber style: with m the length of the shortest
 * pattern, the two bytes at the end of each m-byte window say how far the
 * window may move without passing the start of a match (shift[]), so
 * ordinary text is crossed several bytes a step.  Where the shift is 0 the
 * window's first byte is checked against the patterns as before.
 */
#include "guts/mask.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "banned.h"

/*
 * The skip table is indexed by the two bytes (64 KiB), or, when few
 * blocks are in use, by a hash of them into 4 KiB that stays in the L1
 * cache (blocks that collide share the smaller shift, which stays safe).
 */
#define SHIFT_BIG 65536
#define SHIFT_SMALL 4096
#define SMALL_BLOCKS 512

static inline unsigned shift_index(int small, unsigned a, unsigned b)
{
	return small ? ((a << 5) ^ b) & (SHIFT_SMALL - 1) : a << 8 | b;
}

/* A base64 core shorter than this is too likely to be ordinary text. */
#define MIN_BASE64_CORE 6

struct pattern {
	char *s;
	size_t len;
};

struct guts_mask {
	struct pattern *p;
	size_t nr, alloc;
	size_t maxlen;
	/* Per first byte: pattern indices, longest first. */
	size_t *by_first[256];
	size_t nr_first[256];
	/*
	 * Bit (a << 8 | b) is set when a pattern starts with bytes a, b (or
	 * is the single byte a): most positions are skipped on this alone.
	 */
	uint64_t pairs[65536 / 64];
	/*
	 * Wu-Manber: minlen is the shortest pattern; shift[block] how far a
	 * window ending in the two-byte block may move (built lazily when
	 * patterns change; NULL when minlen < 3, where it would not pay).
	 * See shift_index() for how a block indexes it.
	 */
	size_t minlen;
	unsigned char *shift;
	int shift_stale;
	int shift_small; /* shift[] is the hashed 4 KiB table */
	struct guts_buf carry;
	struct guts_buf tmp;
};

struct guts_mask *guts_mask_new(void)
{
	struct guts_mask *m = guts_xcalloc(1, sizeof(*m));

	guts_buf_init(&m->carry, 0);
	guts_buf_init(&m->tmp, 0);
	return m;
}

void guts_mask_free(struct guts_mask *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		free(m->p[i].s);
	free(m->p);
	for (int b = 0; b < 256; b++)
		free(m->by_first[b]);
	guts_buf_release(&m->carry);
	guts_buf_release(&m->tmp);
	free(m->shift);
	free(m);
}

size_t guts_mask_count(const struct guts_mask *m)
{
	return m->nr;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

static void add_pattern(struct guts_mask *m, const char *s, size_t len)
{
	unsigned char b;
	size_t *list, n, i;

	if (!len || blank(s, len))
		return;
	for (i = 0; i < m->nr; i++)
		if (m->p[i].len == len && !memcmp(m->p[i].s, s, len))
			return;
	GUTS_ALLOC_GROW(m->p, m->nr + 1, m->alloc);
	/* Values may hold NUL bytes; copy them exactly. */
	m->p[m->nr].s = guts_xmalloc(len + 1);
	memcpy(m->p[m->nr].s, s, len);
	m->p[m->nr].s[len] = '\0';
	m->p[m->nr].len = len;
	if (len > m->maxlen)
		m->maxlen = len;
	if (!m->minlen || len < m->minlen)
		m->minlen = len;
	m->shift_stale = 1;

	b = (unsigned char)s[0];
	if (len == 1) {
		for (unsigned c = 0; c < 256; c++)
			m->pairs[(b << 8 | c) >> 6] |= 1ULL
						       << ((b << 8 | c) & 63);
	} else {
		unsigned pr = (unsigned)b << 8 | (unsigned char)s[1];

		m->pairs[pr >> 6] |= 1ULL << (pr & 63);
	}
	n = m->nr_first[b];
	list = guts_xreallocarray(m->by_first[b], n + 1, sizeof(*list));
	/* Insert keeping longest first. */
	for (i = n; i > 0 && m->p[list[i - 1]].len < len; i--)
		list[i] = list[i - 1];
	list[i] = m->nr;
	m->by_first[b] = list;
	m->nr_first[b] = n + 1;
	m->nr++;
}

/* The base64 text of @v as it appears inside a longer base64 stream. */
static void add_base64_forms(struct guts_mask *m, const char *v, size_t len)
{
	size_t cap = (len + 2 + 2) / 3 * 4 + 1;
	unsigned char *in = guts_xmalloc(len + 2);
	unsigned char *out = guts_xmalloc(cap);
	int n;

	/* The encoding of the value alone, padding included. */
	n = EVP_EncodeBlock(out, (const unsigned char *)v, (int)len);
	if (n >= MIN_BASE64_CORE)
		add_pattern(m, (const char *)out, (size_t)n);
	for (size_t k = 0; k < 3; k++) {
		/*
		 * After k bytes of something else, character j covers bits
		 * [6j, 6j+6); keep those that lie wholly inside the value.
		 */
		size_t first = (8 * k + 5) / 6;
		size_t last = 8 * (k + len) / 6;

		memset(in, 0, k);
		memcpy(in + k, v, len);
		n = EVP_EncodeBlock(out, in, (int)(len + k));
		if (n > 0 && last > first && last - first >= MIN_BASE64_CORE &&
		    last <= (size_t)n)
			add_pattern(m, (const char *)out + first, last - first);
	}
	free(in);
	free(out);
}

int guts_mask_add(struct guts_mask *m, const char *value, size_t len)
{
	if (len > GUTS_MASK_MAX_VALUE)
		return guts_error(GUTS_ETOOBIG,
				  "a masked value may be at most %d bytes",
				  GUTS_MASK_MAX_VALUE);
	if (!len || blank(value, len))
		return 0;
	add_pattern(m, value, len);
	add_base64_forms(m, value, len);
	/* Each line of a multi-line value on its own, as it is printed. */
	if (memchr(value, '\n', len)) {
		const char *s = value, *end = value + len;

		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t l = (nl ? nl : end) - s;

			if (l && s[l - 1] == '\r')
				l--;
			add_pattern(m, s, l);
			s = nl ? nl + 1 : end;
		}
	}
	return 0;
}

/*
 * Mask @n bytes of @b into @sink.  Unless @final, bytes from the first
 * position where a pattern may begin but the data ends too soon to tell
 * are kept in m->carry.
 */
static void build_shift(struct guts_mask *m)
{
	size_t mlen = m->minlen;
	unsigned char dflt;

	m->shift_stale = 0;
	if (mlen < 3) {
		free(m->shift);
		m->shift = NULL;
		return;
	}
	dflt = (unsigned char)(mlen - 1 > 255 ? 255 : mlen - 1);
	m->shift_small = m->nr * (mlen - 1) <= SMALL_BLOCKS;
	free(m->shift);
	m->shift = guts_xmalloc(SHIFT_BIG);
	memset(m->shift, dflt, m->shift_small ? SHIFT_SMALL : SHIFT_BIG);
	for (size_t k = 0; k < m->nr; k++) {
		const unsigned char *s = (const unsigned char *)m->p[k].s;

		/* Blocks of the first mlen bytes: a window ending in one may
		 * move only as far as that block lies from the end. */
		for (size_t q = 0; q + 2 <= mlen; q++) {
			unsigned blk =
			    shift_index(m->shift_small, s[q], s[q + 1]);
			size_t d = mlen - 2 - q;

			if (d < m->shift[blk])
				m->shift[blk] = (unsigned char)d;
		}
	}
}

static void process(struct guts_mask *m, const char *b, size_t n, int final,
		    guts_mask_sink_fn sink, void *ud)
{
	const unsigned char *u = (const unsigned char *)b;
	size_t i = 0, start = 0;

	if (m->shift_stale)
		build_shift(m);
	while (i < n) {
		if (m->shift) {
			/* Skip windows that cannot hold the start of a match.
			 */
			size_t mlen = m->minlen;
			int small = m->shift_small;

			while (i + mlen <= n) {
				unsigned char sh = m->shift[shift_index(
				    small, u[i + mlen - 2], u[i + mlen - 1])];

				if (!sh)
					break;
				i += sh;
			}
			if (i >= n)
				break;
		}
		unsigned char c = (unsigned char)b[i];
		const size_t *list = m->by_first[c];
		size_t nr = m->nr_first[c], k;
		int partial = 0, matched = 0;

		if (!nr) {
			i++;
			continue;
		}
		if (i + 1 < n) {
			unsigned pr =
			    (unsigned)c << 8 | (unsigned char)b[i + 1];

			if (!(m->pairs[pr >> 6] >> (pr & 63) & 1)) {
				i++;
				continue;
			}
		}
		for (k = 0; k < nr; k++) {
			const struct pattern *p = &m->p[list[k]];

			if (i + p->len <= n) {
				if (!memcmp(b + i, p->s, p->len)) {
					matched = 1;
					break;
				}
			} else if (!final && !memcmp(b + i, p->s, n - i)) {
				/* A longer value may still complete here. */
				partial = 1;
				break;
			}
		}
		if (matched) {
			if (i > start)
				sink(b + start, i - start, ud);
			sink(GUTS_MASK_REPLACEMENT,
			     sizeof(GUTS_MASK_REPLACEMENT) - 1, ud);
			i += m->p[list[k]].len;
			start = i;
			continue;
		}
		if (partial) {
			if (i > start)
				sink(b + start, i - start, ud);
			guts_buf_reset(&m->carry);
			guts_buf_add(&m->carry, b + i, n - i);
			return;
		}
		i++;
	}
	if (n > start)
		sink(b + start, n - start, ud);
	guts_buf_reset(&m->carry);
}

void guts_mask_write(struct guts_mask *m, const char *data, size_t len,
		     guts_mask_sink_fn sink, void *ud)
{
	if (!len)
		return;
	if (!m->carry.len) {
		process(m, data, len, 0, sink, ud);
		return;
	}
	/* The held-back bytes go first; they are shorter than any value. */
	guts_buf_reset(&m->tmp);
	guts_buf_add(&m->tmp, m->carry.data, m->carry.len);
	guts_buf_add(&m->tmp, data, len);
	process(m, m->tmp.data, m->tmp.len, 0, sink, ud);
}

void guts_mask_flush(struct guts_mask *m, guts_mask_sink_fn sink, void *ud)
{
	if (!m->carry.len)
		return;
	guts_buf_reset(&m->tmp);
	guts_buf_add(&m->tmp, m->carry.data, m->carry.len);
	guts_buf_reset(&m->carry);
	process(m, m->tmp.data, m->tmp.len, 1, sink, ud);
}

static void to_buf(const char *data, size_t len, void *ud)
{
	guts_buf_add(ud, data, len);
}

char *guts_mask_string(struct guts_mask *m, const char *s, size_t len,
		       size_t *out_len)
{
	struct guts_buf out;

	guts_buf_init(&out, 0);
	guts_mask_write(m, s, len, to_buf, &out);
	guts_mask_flush(m, to_buf, &out);
	return guts_buf_detach(&out, out_len);
}
