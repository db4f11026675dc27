#include "guts/strvec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "banned.h"

void guts_strvec_init(struct guts_strvec *sv)
{
	sv->v = NULL;
	sv->nr = 0;
	sv->alloc = 0;
}

void guts_strvec_release(struct guts_strvec *sv)
{
	for (size_t i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	free(sv->v);
	guts_strvec_init(sv);
}

void guts_strvec_push_nodup(struct guts_strvec *sv, char *s)
{
	GUTS_ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

const char *guts_strvec_push(struct guts_strvec *sv, const char *s)
{
	char *p = guts_xstrdup(s);

	guts_strvec_push_nodup(sv, p);
	return p;
}

const char *guts_strvec_pushf(struct guts_strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = guts_xvasprintf(fmt, ap);
	va_end(ap);
	guts_strvec_push_nodup(sv, p);
	return p;
}

void guts_strvec_pop(struct guts_strvec *sv)
{
	if (!sv->nr)
		return;
	free(sv->v[--sv->nr]);
	sv->v[sv->nr] = NULL;
}

long guts_strvec_find(const struct guts_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return (long)i;
	return -1;
}

char **guts_strvec_detach(struct guts_strvec *sv)
{
	char **v = sv->v;

	if (!v)
		v = guts_xcalloc(1, sizeof(*v));
	guts_strvec_init(sv);
	return v;
}

void guts_strvec_free_array(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
