/*
 * Growable byte buffers with an optional size cap.
 *
 * A struct guts_buf always holds a NUL-terminated string (the NUL is not
 * counted in len), so buf.data can be handed to C string functions.  A buffer
 * filled from untrusted input gets a cap: appends that would grow it past the
 * cap fail with GUTS_ETOOBIG and leave it unchanged.  Lifecycle: _init and
 * _release (git's strbuf verbs); _detach hands the data out.
 */
#ifndef GUTS_BUF_H
#define GUTS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct guts_buf {
	char *data; /* never NULL after _init: at least "" */
	size_t len;
	size_t alloc;
	size_t cap; /* 0: unlimited */
};

#define GUTS_BUF_INIT         \
	{                     \
		NULL, 0, 0, 0 \
	}

/** Initialise an empty buffer; @cap 0 means no cap. */
void guts_buf_init(struct guts_buf *b, size_t cap);
void guts_buf_release(struct guts_buf *b);
/** Hand the string out (caller frees) and reset the buffer to empty. */
char *guts_buf_detach(struct guts_buf *b, size_t *len);
void guts_buf_reset(struct guts_buf *b);

/** Append bytes; GUTS_ETOOBIG when the cap would be exceeded. */
int guts_buf_add(struct guts_buf *b, const void *data, size_t len);
int guts_buf_adds(struct guts_buf *b, const char *s);
int guts_buf_addch(struct guts_buf *b, char c);
int guts_buf_addf(struct guts_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int guts_buf_vaddf(struct guts_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/** Make room for @extra more bytes without changing len. */
int guts_buf_grow(struct guts_buf *b, size_t extra);
/** Shorten to @len bytes (no-op when already shorter). */
void guts_buf_truncate(struct guts_buf *b, size_t len);

#endif
