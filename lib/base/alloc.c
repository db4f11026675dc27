#include "guts/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static void die_oom(size_t n)
{
	fprintf(stderr, "guts: out of memory allocating %zu bytes\n", n);
	abort();
}

void *guts_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *guts_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die_oom(nmemb * size);
	return p;
}

void *guts_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

void *guts_xreallocarray(void *p, size_t nmemb, size_t elem)
{
	if (elem && nmemb > SIZE_MAX / elem)
		die_oom(SIZE_MAX);
	return guts_xrealloc(p, nmemb * elem);
}

char *guts_xstrdup(const char *s)
{
	return guts_xstrndup(s, strlen(s));
}

char *guts_xstrndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = guts_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *guts_xvasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	char *p;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0; /* a bad format gives an empty string */
	p = guts_xmalloc((size_t)n + 1);
	p[0] = '\0';
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *guts_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = guts_xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}
