#include "guts/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "banned.h"

/* Length of the well-formed UTF-8 character at @s, or 0. */
static size_t utf8_char(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	/* A NUL ends the loop too: it is no continuation byte. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * Messages quote the user's text, clipped or whole.  Keep each one line of
 * valid UTF-8 whatever that text holds, so that the output stays one
 * FILE:LINE:COL line per problem and JSON can carry every message: control
 * characters are escaped and broken UTF-8 becomes U+FFFD.
 */
static char *clean_text(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	struct guts_buf b;
	size_t n;

	guts_buf_init(&b, 0);
	while (*s) {
		if (*s < 0x20 || *s == 0x7f) {
			if (*s == '\n')
				guts_buf_adds(&b, "\\n");
			else if (*s == '\t')
				guts_buf_adds(&b, "\\t");
			else if (*s == '\r')
				guts_buf_adds(&b, "\\r");
			else
				guts_buf_addf(&b, "\\x%02x", *s);
			s++;
		} else if ((n = utf8_char(s)) > 0) {
			guts_buf_add(&b, s, n);
			s += n;
		} else {
			guts_buf_adds(&b, "\xef\xbf\xbd");
			s++;
		}
	}
	return guts_buf_detach(&b, NULL);
}

void guts_diags_init(struct guts_diags *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file ? clean_text(file) : NULL;
}

void guts_diags_release(struct guts_diags *d)
{
	for (size_t i = 0; i < d->nr; i++)
		free(d->v[i].message);
	free(d->v);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

void guts_diags_add(struct guts_diags *d, enum guts_diag_severity sev,
		    unsigned line, unsigned col, const char *fmt, ...)
{
	size_t max = d->max ? d->max : 1000;
	struct guts_diag *g;
	va_list ap;
	char *raw, *msg;

	/* Warnings stop at the cap; errors have as many places again. */
	if (d->nr >= max && (sev != GUTS_DIAG_ERROR || d->nr >= 2 * max)) {
		/* Not kept, but counted: an error past the cap is an error. */
		if (sev == GUTS_DIAG_ERROR)
			d->errors++;
		else
			d->warnings++;
		return;
	}
	va_start(ap, fmt);
	raw = guts_xvasprintf(fmt, ap);
	va_end(ap);
	msg = clean_text(raw);
	free(raw);

	for (size_t i = 0; i < d->nr; i++) {
		g = &d->v[i];
		if (g->line == line && g->col == col && g->severity == sev &&
		    !strcmp(g->message, msg)) {
			free(msg);
			return;
		}
	}
	GUTS_ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	g = &d->v[d->nr++];
	g->severity = sev;
	g->line = line;
	g->col = col;
	g->message = msg;
	if (sev == GUTS_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
}

static int cmp_pos(const struct guts_diag *a, const struct guts_diag *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

void guts_diags_sort(struct guts_diags *d)
{
	/* Insertion sort keeps equal positions in the order they were found. */
	for (size_t i = 1; i < d->nr; i++) {
		struct guts_diag tmp = d->v[i];
		size_t j = i;

		while (j > 0 && cmp_pos(&d->v[j - 1], &tmp) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = tmp;
	}
}

void guts_diags_format(const struct guts_diags *d, struct guts_buf *out)
{
	const char *file = d->file ? d->file : "<input>";

	for (size_t i = 0; i < d->nr; i++) {
		const struct guts_diag *g = &d->v[i];
		const char *sev =
		    g->severity == GUTS_DIAG_ERROR ? "error" : "warning";

		if (g->line)
			guts_buf_addf(out, "%s:%u:%u: %s: %s\n", file, g->line,
				      g->col, sev, g->message);
		else
			guts_buf_addf(out, "%s: %s: %s\n", file, sev,
				      g->message);
	}
}
