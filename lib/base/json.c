#include "guts/json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "banned.h"

int guts_json_parse(json_t **out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *v;

	v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v)
		return guts_error(GUTS_EINVAL, "invalid JSON at %d:%d: %s",
				  jerr.line, jerr.column, jerr.text);
	*out = v;
	return 0;
}

char *guts_json_canonical(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

int guts_json_get_string(const char **out, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return guts_error(GUTS_EINVAL, "missing field '%s'", key);
	if (!json_is_string(v))
		return guts_error(GUTS_EINVAL, "field '%s' must be a string",
				  key);
	*out = json_string_value(v);
	return 0;
}

int guts_json_get_int(long long *out, const json_t *obj, const char *key,
		      long long min, long long max)
{
	json_t *v = json_object_get(obj, key);
	long long n;

	if (!v)
		return guts_error(GUTS_EINVAL, "missing field '%s'", key);
	if (!json_is_integer(v))
		return guts_error(GUTS_EINVAL, "field '%s' must be an integer",
				  key);
	n = json_integer_value(v);
	if (n < min || n > max)
		return guts_error(GUTS_EINVAL,
				  "field '%s' must be between %lld and %lld",
				  key, min, max);
	*out = n;
	return 0;
}

int guts_json_get_bool(int *out, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return guts_error(GUTS_EINVAL, "missing field '%s'", key);
	if (!json_is_boolean(v))
		return guts_error(GUTS_EINVAL, "field '%s' must be a boolean",
				  key);
	*out = json_is_true(v);
	return 0;
}

json_t *guts_json_object_iget(const json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	/* The exact spelling is the common case and costs one hash lookup. */
	v = json_object_get(obj, key);
	if (v)
		return v;
	json_object_foreach((json_t *)obj, k, v) {
		if (!strcasecmp(k, key))
			return v;
	}
	return NULL;
}

char *guts_utf8_lossy(const char *in)
{
	const unsigned char *s;
	char *out, *o;

	if (!in)
		return guts_xstrdup("");
	s = (const unsigned char *)in;
	out = o = guts_xstrdup(in);
	while (*s) {
		size_t n = *s < 0x80	       ? 1
			   : (*s >> 5) == 0x6  ? 2
			   : (*s >> 4) == 0xe  ? 3
			   : (*s >> 3) == 0x1e ? 4
					       : 0;
		size_t k = 1;

		while (n > 1 && k < n && (s[k] & 0xc0) == 0x80)
			k++;
		if (!n || k < n) {
			*o++ = '?';
			s++;
			continue;
		}
		memcpy(o, s, n);
		o += n;
		s += n;
	}
	*o = '\0';
	return out;
}
