/*
 * JSON helpers over jansson.  jansson does the parsing and encoding; these
 * wrap the patterns libguts repeats: typed getters that report which field
 * was wrong, capped parsing of untrusted text, and canonical encoding.
 */
#ifndef GUTS_JSON_H
#define GUTS_JSON_H

#include <jansson.h>
#include <stddef.h>

/** Parse @len bytes of untrusted JSON; GUTS_EINVAL names line:column. */
int guts_json_parse(json_t **out, const char *text, size_t len);

/** Canonical text: sorted keys, compact, no trailing newline (caller frees). */
char *guts_json_canonical(const json_t *v);

/** Look up @key and check its type; GUTS_EINVAL names the field. */
int guts_json_get_string(const char **out, const json_t *obj, const char *key);
int guts_json_get_int(long long *out, const json_t *obj, const char *key,
		      long long min, long long max);
int guts_json_get_bool(int *out, const json_t *obj, const char *key);

/** Case-insensitive object lookup (ASCII), as GitHub contexts need. */
json_t *guts_json_object_iget(const json_t *obj, const char *key);

/**
 * A copy of @in (NULL: "") with every byte that is not part of valid UTF-8
 * replaced by '?': host data (a path, $USER, a commit subject) made fit for
 * JSON, which takes UTF-8 only.
 */
char *guts_utf8_lossy(const char *in);

#endif
