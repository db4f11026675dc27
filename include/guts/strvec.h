/*
 * A NULL-terminated vector of owned strings, used for argv and env arrays and
 * for lists of names.  Lifecycle: _init/_release; _detach hands out the array.
 */
#ifndef GUTS_STRVEC_H
#define GUTS_STRVEC_H

#include <stddef.h>

struct guts_strvec {
	char **v; /* NULL-terminated once anything was pushed */
	size_t nr;
	size_t alloc;
};

#define GUTS_STRVEC_INIT   \
	{                  \
		NULL, 0, 0 \
	}

void guts_strvec_init(struct guts_strvec *sv);
void guts_strvec_release(struct guts_strvec *sv);
/** Append a copy of @s; returns the copy. */
const char *guts_strvec_push(struct guts_strvec *sv, const char *s);
const char *guts_strvec_pushf(struct guts_strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Append @s without copying; the vector takes ownership. */
void guts_strvec_push_nodup(struct guts_strvec *sv, char *s);
void guts_strvec_pop(struct guts_strvec *sv);
/** Index of the first element equal to @s, or -1. */
long guts_strvec_find(const struct guts_strvec *sv, const char *s);
/** Hand out the NULL-terminated array (never NULL); the vector is reset. */
char **guts_strvec_detach(struct guts_strvec *sv);
/** Free an array returned by guts_strvec_detach(). */
void guts_strvec_free_array(char **v);

#endif
