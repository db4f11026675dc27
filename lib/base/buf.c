#include "guts/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "banned.h"

/* Every empty buffer points here, so data is never NULL. */
static char guts__empty[1];

void guts_buf_init(struct guts_buf *b, size_t cap)
{
	b->data = guts__empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void guts_buf_release(struct guts_buf *b)
{
	if (b->alloc)
		free(b->data);
	guts_buf_init(b, b->cap);
}

char *guts_buf_detach(struct guts_buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	p = b->alloc ? b->data : guts_xstrdup("");
	guts_buf_init(b, b->cap);
	return p;
}

void guts_buf_reset(struct guts_buf *b)
{
	guts_buf_truncate(b, 0);
}

int guts_buf_grow(struct guts_buf *b, size_t extra)
{
	size_t need, n;

	if (!b->data)
		guts_buf_init(b, b->cap);
	if (extra > (size_t)-1 - b->len - 1)
		return guts_error(GUTS_ETOOBIG, "buffer size overflow");
	need = b->len + extra;
	if (b->cap && need > b->cap)
		return guts_error(GUTS_ETOOBIG, "more than %zu bytes", b->cap);
	if (need + 1 <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need + 1)
		n = n > ((size_t)-1) / 2 ? need + 1 : n * 2;
	if (b->alloc) {
		b->data = guts_xrealloc(b->data, n);
	} else {
		b->data = guts_xmalloc(n);
		b->data[0] = '\0';
	}
	b->alloc = n;
	return 0;
}

int guts_buf_add(struct guts_buf *b, const void *data, size_t len)
{
	int rc = guts_buf_grow(b, len);

	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int guts_buf_adds(struct guts_buf *b, const char *s)
{
	return guts_buf_add(b, s, strlen(s));
}

int guts_buf_addch(struct guts_buf *b, char c)
{
	return guts_buf_add(b, &c, 1);
}

int guts_buf_vaddf(struct guts_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return guts_error(GUTS_EINVAL, "bad format string");
	rc = guts_buf_grow(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int guts_buf_addf(struct guts_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = guts_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void guts_buf_truncate(struct guts_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}
