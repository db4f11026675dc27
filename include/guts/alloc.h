/*
 * Allocation: out of memory aborts, as in git and redis.  Every allocation in
 * libguts goes through this family, so callers never check for NULL.
 */
#ifndef GUTS_ALLOC_H
#define GUTS_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *guts_xmalloc(size_t n);
void *guts_xcalloc(size_t nmemb, size_t size);
void *guts_xrealloc(void *p, size_t n);
/** Resize to @nmemb items of @elem bytes; aborts on overflow. */
void *guts_xreallocarray(void *p, size_t nmemb, size_t elem);
char *guts_xstrdup(const char *s);
char *guts_xstrndup(const char *s, size_t n);
/** printf into a fresh heap string. */
char *guts_xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/** The same with a va_list (which it consumes). */
char *guts_xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/*
 * Grow @arr (of @nr used items, @alloc capacity) so that it holds @need items.
 * The usual git ALLOC_GROW idiom.
 */
#define GUTS_ALLOC_GROW(arr, need, alloc)                           \
	do {                                                        \
		if ((need) > (alloc)) {                             \
			size_t guts__n = (alloc) ? (alloc)*2 : 8;   \
			if (guts__n < (need))                       \
				guts__n = (need);                   \
			(arr) = guts_xreallocarray((arr), guts__n,  \
						   sizeof(*(arr))); \
			(alloc) = guts__n;                          \
		}                                                   \
	} while (0)

#endif
