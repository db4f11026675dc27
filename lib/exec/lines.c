/* Line splitting with a cap (see guts/lines.h). */
#include "guts/lines.h"

#include <string.h>

#include "banned.h"

void guts_lines_init(struct guts_lines *l, size_t max_line)
{
	l->max = max_line ? max_line : GUTS_LINES_DEFAULT_MAX;
	guts_buf_init(&l->partial, 0);
}

void guts_lines_release(struct guts_lines *l)
{
	guts_buf_release(&l->partial);
}

/*
 * Add @n bytes to the pending line.  A full pending line goes out as a
 * piece only when more bytes come, so a line of exactly the maximum
 * followed by "\n" is one complete line.
 */
static int add_partial(struct guts_lines *l, const char *s, size_t n,
		       guts_line_fn fn, void *ud)
{
	while (n) {
		size_t take;

		if (l->partial.len == l->max) {
			int rc = fn(l->partial.data, l->partial.len, 0, ud);

			guts_buf_reset(&l->partial);
			if (rc)
				return rc;
		}
		take = l->max - l->partial.len;
		if (take > n)
			take = n;
		guts_buf_add(&l->partial, s, take);
		s += take;
		n -= take;
	}
	return 0;
}

int guts_lines_feed(struct guts_lines *l, const char *data, size_t len,
		    guts_line_fn fn, void *ud)
{
	const char *s = data, *end = data + len;
	int rc;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);

		if (!nl)
			return add_partial(l, s, n, fn, ud);
		if (l->partial.len) {
			rc = add_partial(l, s, n, fn, ud);
			if (rc)
				return rc;
			rc = fn(l->partial.data, l->partial.len, 1, ud);
			guts_buf_reset(&l->partial);
		} else {
			/* Over-long lines still go out in pieces of max. */
			while (n > l->max) {
				rc = fn(s, l->max, 0, ud);
				if (rc)
					return rc;
				s += l->max;
				n -= l->max;
			}
			rc = fn(s, n, 1, ud);
		}
		if (rc)
			return rc;
		s = nl + 1;
	}
	return 0;
}

int guts_lines_flush(struct guts_lines *l, guts_line_fn fn, void *ud)
{
	int rc;

	if (!l->partial.len)
		return 0;
	rc = fn(l->partial.data, l->partial.len, 0, ud);
	guts_buf_reset(&l->partial);
	return rc;
}
