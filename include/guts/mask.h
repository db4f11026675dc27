/*
 * Masking secrets in logs.  A struct guts_mask holds the values to hide
 * (secrets and `::add-mask::` values) and filters a byte stream through
 * them, replacing every occurrence with "***".
 *
 * Each value is hidden in its exact form and in its base64 forms: the
 * encoding of the value alone, and the stable middle of its encoding at
 * each of the three byte alignments it can have inside a longer base64
 * stream.  A multi-line value is also hidden line by line.
 *
 * Streaming: guts_mask_write() may be called with any split of the stream
 * (a value cut across two reads of a pipe is still masked).  It holds back
 * at most (longest value - 1) bytes that could still be the start of a
 * value, and guts_mask_flush() emits them at the end.  Output goes to a
 * sink callback.  Not thread-safe: one mask per stream, or a lock around it.
 */
#ifndef GUTS_MASK_H
#define GUTS_MASK_H

#include <stddef.h>

#define GUTS_MASK_REPLACEMENT "***"
/* Longest value accepted (bytes); longer ones are refused with ETOOBIG. */
#define GUTS_MASK_MAX_VALUE (64 * 1024)

struct guts_mask;

/** Called with masked output, in order. */
typedef void (*guts_mask_sink_fn)(const char *data, size_t len, void *ud);

struct guts_mask *guts_mask_new(void);
void guts_mask_free(struct guts_mask *m);

/**
 * Hide @len bytes of @value from now on.  Empty or all-blank values are
 * ignored (masking them would hide every space).  GUTS_ETOOBIG past
 * GUTS_MASK_MAX_VALUE.
 */
int guts_mask_add(struct guts_mask *m, const char *value, size_t len);

/** How many patterns (forms of values) are in force. */
size_t guts_mask_count(const struct guts_mask *m);

/** Filter @len bytes of the stream into @sink. */
void guts_mask_write(struct guts_mask *m, const char *data, size_t len,
		     guts_mask_sink_fn sink, void *ud);

/** Emit what was held back; the stream can go on afterwards. */
void guts_mask_flush(struct guts_mask *m, guts_mask_sink_fn sink, void *ud);

/** Mask a whole string at once into a new heap string (caller frees). */
char *guts_mask_string(struct guts_mask *m, const char *s, size_t len,
		       size_t *out_len);

#endif
