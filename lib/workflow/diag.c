#include "guts/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "banned.h"

void guts_diags_init(struct guts_diags *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = file ? guts_xstrdup(file) : NULL;
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
	char *msg;
	int n;

	if (d->nr >= max)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	msg = guts_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);

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
