/*
 * Matrix expansion (see include/guts/matrix.h for the rules).
 *
 * The expansion walks the cross product by index, as GitHub's MatrixBuilder
 * does, so no intermediate product is ever built: a combination that an
 * exclude entry drops costs one comparison pass and no allocation.  Work is
 * bounded twice: the product of the vector sizes by GUTS_MATRIX_MAX_PRODUCT,
 * and the number of value comparisons by MATRIX_MAX_WORK, so a hostile
 * workflow cannot make a plan take long.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/json.h"
#include "guts/matrix.h"
#include "guts/plan.h"
#include "wf_internal.h"
#include "banned.h"

/* Value comparisons one expansion may make (about a second of work). */
#define MATRIX_MAX_WORK ((size_t)16 << 20)
/* Nesting of values inside a matrix that we walk recursively. */
#define MATRIX_MAX_DEPTH 64

struct expander {
	json_t *matrix;	   /* resolved: expressions evaluated */
	const char **keys; /* vector names, in order */
	json_t **vectors;  /* the vectors, parallel to keys */
	size_t nr_vectors;
	json_t *include, *exclude; /* arrays or NULL */
	char *deferred;
	size_t work;
	int too_much; /* the work budget ran out */
};

void guts_matrix_init(struct guts_matrix *m)
{
	m->legs = NULL;
	m->name_keys = NULL;
	m->deferred = NULL;
}

void guts_matrix_release(struct guts_matrix *m)
{
	if (!m)
		return;
	json_decref(m->legs);
	free(m->name_keys);
	free(m->deferred);
	guts_matrix_init(m);
}

/* ---- the expression language's == ---- */

static int is_js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static double parse_radix(const char *s, size_t len, int base)
{
	double v = 0;

	if (!len)
		return NAN;
	for (size_t i = 0; i < len; i++) {
		int d;

		if (isdigit((unsigned char)s[i]))
			d = s[i] - '0';
		else if (isalpha((unsigned char)s[i]))
			d = tolower((unsigned char)s[i]) - 'a' + 10;
		else
			return NAN;
		if (d >= base)
			return NAN;
		v = v * base + d;
	}
	return v;
}

/*
 * A string as JavaScript's Number() reads it, which is what the expression
 * language does when it compares a string with a number: blanks around are
 * ignored, "" is 0, 0x/0o/0b prefixes, Infinity, and decimal numbers with an
 * optional exponent; anything else is NaN.
 */
static double string_to_number(const char *s, size_t len)
{
	size_t i = 0, digits = 0;
	char *copy;
	double v;

	while (len && is_js_space(*s)) {
		s++;
		len--;
	}
	while (len && is_js_space(s[len - 1]))
		len--;
	if (!len)
		return 0;
	if (len > 2 && s[0] == '0') {
		char p = (char)tolower((unsigned char)s[1]);

		if (p == 'x')
			return parse_radix(s + 2, len - 2, 16);
		if (p == 'o')
			return parse_radix(s + 2, len - 2, 8);
		if (p == 'b')
			return parse_radix(s + 2, len - 2, 2);
	}
	if (len == 8 && !memcmp(s, "Infinity", 8))
		return INFINITY;
	if (len == 9 && (s[0] == '+' || s[0] == '-') &&
	    !memcmp(s + 1, "Infinity", 8))
		return s[0] == '-' ? -INFINITY : INFINITY;
	/* Check the decimal grammar ourselves: strtod takes more (nan, hex). */
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && isdigit((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && isdigit((unsigned char)s[i])) {
			i++;
			digits++;
		}
	}
	if (!digits)
		return NAN;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && isdigit((unsigned char)s[i])) {
			i++;
			exp++;
		}
		if (!exp)
			return NAN;
	}
	if (i != len)
		return NAN;
	copy = guts_xstrndup(s, len);
	v = strtod(copy, NULL);
	free(copy);
	return v;
}

enum kind { K_NULL, K_BOOL, K_NUMBER, K_STRING, K_ARRAY, K_OBJECT };

static enum kind kind_of(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_INTEGER:
	case JSON_REAL:
		return K_NUMBER;
	case JSON_STRING:
		return K_STRING;
	case JSON_ARRAY:
		return K_ARRAY;
	case JSON_OBJECT:
		return K_OBJECT;
	case JSON_NULL:
		break;
	}
	return K_NULL;
}

static double number_of(const json_t *v)
{
	switch (kind_of(v)) {
	case K_NULL:
		return 0;
	case K_BOOL:
		return json_is_true(v) ? 1 : 0;
	case K_NUMBER:
		return json_number_value(v);
	case K_STRING:
		return string_to_number(json_string_value(v),
					json_string_length(v));
	case K_ARRAY:
	case K_OBJECT:
		break;
	}
	return NAN;
}

int guts_matrix_loose_equal(const json_t *a, const json_t *b)
{
	enum kind ka = kind_of(a), kb = kind_of(b);

	if (ka != kb) {
		if (ka >= K_ARRAY || kb >= K_ARRAY)
			return 0;
		return number_of(a) == number_of(b);
	}
	switch (ka) {
	case K_NULL:
		return 1;
	case K_BOOL:
		return json_is_true(a) == json_is_true(b);
	case K_NUMBER:
		return json_number_value(a) == json_number_value(b);
	case K_STRING: {
		size_t la = json_string_length(a), lb = json_string_length(b);
		const char *sa = json_string_value(a),
			   *sb = json_string_value(b);

		if (la != lb)
			return 0;
		for (size_t i = 0; i < la; i++)
			if (tolower((unsigned char)sa[i]) !=
			    tolower((unsigned char)sb[i]))
				return 0;
		return 1;
	}
	case K_ARRAY:
	case K_OBJECT:
		break;
	}
	return a == b;
}

/*
 * Whether every scalar of @filter equals @value's scalar at the same path
 * (a missing path reads as null), GitHub's filter test.
 */
static int filter_match(struct expander *x, const json_t *filter,
			const json_t *value)
{
	if (++x->work > MATRIX_MAX_WORK) {
		x->too_much = 1;
		return 0;
	}
	if (json_is_object(filter)) {
		const char *k;
		json_t *fv;

		json_object_foreach((json_t *)filter, k, fv) {
			const json_t *sub =
			    json_is_object(value)
				? guts_json_object_iget(value, k)
				: NULL;

			if (!filter_match(x, fv, sub))
				return 0;
		}
		return 1;
	}
	if (json_is_array(filter)) {
		size_t i;
		json_t *fv;

		json_array_foreach(filter, i, fv) {
			const json_t *sub = json_is_array(value)
						? json_array_get(value, i)
						: NULL;

			if (!filter_match(x, fv, sub))
				return 0;
		}
		return 1;
	}
	return guts_matrix_loose_equal(value, filter);
}

/* ---- shape ---- */

static const char *type_name(const json_t *v)
{
	switch (kind_of(v)) {
	case K_NULL:
		return "null";
	case K_BOOL:
		return "boolean";
	case K_NUMBER:
		return "number";
	case K_STRING:
		return "string";
	case K_ARRAY:
		return "sequence";
	case K_OBJECT:
		break;
	}
	return "mapping";
}

static long vector_index(const struct expander *x, const char *key)
{
	for (size_t i = 0; i < x->nr_vectors; i++)
		if (!strcasecmp(x->keys[i], key))
			return (long)i;
	return -1;
}

static int check_entries(struct expander *x, const json_t *list,
			 const char *what)
{
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return guts_error(GUTS_EINVAL,
				  "matrix %s must be a sequence of mappings, "
				  "not a %s",
				  what, type_name(list));
	json_array_foreach(list, i, e) {
		const char *k;
		json_t *v;

		if (!json_is_object(e))
			return guts_error(GUTS_EINVAL,
					  "matrix %s entry %zu must be a "
					  "mapping, not a %s",
					  what, i + 1, type_name(e));
		if (!json_object_size(e))
			return guts_error(GUTS_EINVAL,
					  "matrix %s entry %zu is empty", what,
					  i + 1);
		if (strcmp(what, "exclude") != 0)
			continue;
		json_object_foreach(e, k, v) {
			if (vector_index(x, k) < 0)
				return guts_error(
				    GUTS_EINVAL,
				    "matrix exclude key '%s' does not "
				    "match any key within the matrix",
				    k);
		}
	}
	return 0;
}

static int check_shape(struct expander *x)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	int rc;

	if (!json_is_object(x->matrix))
		return guts_error(GUTS_EINVAL,
				  "the matrix must be a mapping, not a %s",
				  type_name(x->matrix));
	x->keys =
	    guts_xcalloc(json_object_size(x->matrix) + 1, sizeof(*x->keys));
	x->vectors =
	    guts_xcalloc(json_object_size(x->matrix) + 1, sizeof(*x->vectors));
	json_object_foreach(x->matrix, k, v) {
		if (!strcmp(k, "include")) {
			x->include = v;
			continue;
		}
		if (!strcmp(k, "exclude")) {
			x->exclude = v;
			continue;
		}
		if (!json_is_array(v))
			return guts_error(GUTS_EINVAL,
					  "matrix vector '%s' must be a "
					  "sequence of values, not a %s",
					  k, type_name(v));
		if (!json_array_size(v))
			return guts_error(
			    GUTS_EINVAL, "matrix vector '%s' has no values", k);
		x->keys[n] = k;
		x->vectors[n++] = v;
	}
	x->nr_vectors = n;
	if (x->include && (rc = check_entries(x, x->include, "include")) < 0)
		return rc;
	if (x->exclude && (rc = check_entries(x, x->exclude, "exclude")) < 0)
		return rc;
	if (!n && !(x->include && json_array_size(x->include)))
		return guts_error(GUTS_EINVAL, "the matrix has no vectors and "
					       "no include entries");
	return 0;
}

/* ---- expansion ---- */

/* Whether the vector keys of include entry @e match combination @c. */
static int include_applies(struct expander *x, const json_t *e, const json_t *c)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)e, k, v) {
		if (vector_index(x, k) < 0)
			continue;
		if (!filter_match(x, v, guts_json_object_iget(c, k)))
			return 0;
	}
	return 1;
}

static int excluded(struct expander *x, const json_t *c)
{
	size_t i;
	json_t *e;

	if (!x->exclude)
		return 0;
	json_array_foreach(x->exclude, i, e) {
		if (filter_match(x, e, c))
			return 1;
	}
	return 0;
}

/* Add the extras of include entry @e to @c (case-insensitive keys). */
static void add_extras(struct expander *x, json_t *c, const json_t *e)
{
	const char *k, *ck;
	json_t *v, *cv;

	json_object_foreach((json_t *)e, k, v) {
		const char *key = k;

		if (vector_index(x, k) >= 0)
			continue;
		json_object_foreach(c, ck, cv) {
			if (!strcasecmp(ck, k)) {
				key = ck;
				break;
			}
		}
		json_object_set(c, key, v);
	}
}

static int expand(struct expander *x, struct guts_matrix *m)
{
	size_t product = x->nr_vectors ? 1 : 0, nr_inc, nr = 0, alloc = 0;
	char *matched = NULL;
	json_t *legs = json_array();
	size_t *name_keys = NULL;
	int rc = 0;

	for (size_t i = 0; i < x->nr_vectors; i++) {
		size_t len = json_array_size(x->vectors[i]);

		if (product > GUTS_MATRIX_MAX_PRODUCT / len) {
			rc = guts_error(GUTS_ETOOBIG,
					"the matrix vectors multiply to more "
					"than %d combinations",
					GUTS_MATRIX_MAX_PRODUCT);
			goto out;
		}
		product *= len;
	}
	nr_inc = x->include ? json_array_size(x->include) : 0;
	matched = guts_xcalloc(nr_inc + 1, 1);
	for (size_t p = 0; p < product; p++) {
		json_t *c = json_object();
		size_t block = product;

		for (size_t i = 0; i < x->nr_vectors; i++) {
			size_t len = json_array_size(x->vectors[i]);

			block /= len;
			json_object_set(
			    c, x->keys[i],
			    json_array_get(x->vectors[i], (p / block) % len));
		}
		if (excluded(x, c)) {
			json_decref(c);
			continue;
		}
		for (size_t j = 0; j < nr_inc; j++) {
			const json_t *e = json_array_get(x->include, j);

			if (include_applies(x, e, c)) {
				matched[j] = 1;
				add_extras(x, c, e);
			}
		}
		if (x->too_much) {
			json_decref(c);
			break;
		}
		/* Past the limit, only count: the error names the total. */
		if (nr < GUTS_MATRIX_MAX_COMBINATIONS) {
			GUTS_ALLOC_GROW(name_keys, nr + 1, alloc);
			name_keys[nr] = x->nr_vectors;
			json_array_append_new(legs, c);
		} else {
			json_decref(c);
		}
		nr++;
	}
	if (x->too_much) {
		rc = guts_error(GUTS_ETOOBIG,
				"the matrix is too large to expand (more "
				"than %zu value comparisons)",
				MATRIX_MAX_WORK);
		goto out;
	}
	for (size_t j = 0; j < nr_inc; j++) {
		const json_t *e = json_array_get(x->include, j);
		json_t *c, *v;
		const char *k;

		if (matched[j])
			continue;
		if (nr++ >= GUTS_MATRIX_MAX_COMBINATIONS)
			continue;
		/* GitHub puts the entry's vector keys first, then the rest. */
		c = json_object();
		json_object_foreach((json_t *)e, k, v) {
			if (vector_index(x, k) >= 0)
				json_object_set(c, k, v);
		}
		json_object_foreach((json_t *)e, k, v) {
			if (vector_index(x, k) < 0)
				json_object_set(c, k, v);
		}
		GUTS_ALLOC_GROW(name_keys, nr, alloc);
		name_keys[nr - 1] = json_object_size(c);
		json_array_append_new(legs, c);
	}
	if (nr > GUTS_MATRIX_MAX_COMBINATIONS) {
		rc = guts_error(GUTS_EINVAL,
				"the matrix produces %zu combinations; the "
				"limit is %d",
				nr, GUTS_MATRIX_MAX_COMBINATIONS);
		goto out;
	}
	m->legs = legs;
	m->name_keys = name_keys;
	legs = NULL;
	name_keys = NULL;
out:
	json_decref(legs);
	free(name_keys);
	free(matched);
	return rc;
}

int guts_matrix_expand(struct guts_matrix *m, const json_t *matrix,
		       const json_t *contexts)
{
	struct expander x;
	int rc;

	memset(&x, 0, sizeof(x));
	if (!matrix)
		return guts_error(GUTS_EINVAL, "no matrix to expand");
	/* Evaluate first: any part of the matrix may be an expression. */
	rc = guts_plan_eval(&x.matrix, matrix, contexts, &x.deferred);
	if (rc < 0)
		goto out;
	if (!x.matrix) {
		m->deferred = x.deferred;
		x.deferred = NULL;
		goto out;
	}
	rc = check_shape(&x);
	if (rc < 0)
		goto out;
	rc = expand(&x, m);
out:
	json_decref(x.matrix);
	free(x.keys);
	free(x.vectors);
	free(x.deferred);
	return rc;
}

/* ---- display names ---- */

static void name_segments(struct guts_buf *b, const json_t *v, int *first,
			  int depth)
{
	const char *k;
	json_t *item;
	size_t i;
	char *num = NULL;
	const char *s = NULL;
	size_t len = 0;

	if (depth > MATRIX_MAX_DEPTH)
		return;
	switch (kind_of(v)) {
	case K_OBJECT:
		json_object_foreach((json_t *)v, k, item)
			name_segments(b, item, first, depth + 1);
		return;
	case K_ARRAY:
		json_array_foreach(v, i, item)
			name_segments(b, item, first, depth + 1);
		return;
	case K_NULL:
		return;
	case K_BOOL:
		s = json_is_true(v) ? "true" : "false";
		len = strlen(s);
		break;
	case K_NUMBER:
		num = wf_number_string(json_number_value(v));
		s = num;
		len = strlen(s);
		break;
	case K_STRING:
		s = json_string_value(v);
		len = json_string_length(v);
		break;
	}
	if (len) {
		if (!*first)
			guts_buf_adds(b, ", ");
		guts_buf_add(b, s, len);
		*first = 0;
	}
	free(num);
}

/* Byte offset of the @n-th character of UTF-8 @s (or its length). */
static size_t utf8_offset(const char *s, size_t len, size_t n)
{
	size_t i = 0;

	while (i < len && n) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

char *guts_matrix_leg_name(const char *job, const json_t *leg, size_t name_keys)
{
	struct guts_buf b, segs;
	const char *k;
	json_t *v;
	size_t i = 0, cut;
	int first = 1;

	guts_buf_init(&b, 0);
	guts_buf_init(&segs, 0);
	guts_buf_adds(&b, job);
	if (json_is_object(leg)) {
		json_object_foreach((json_t *)leg, k, v) {
			if (i++ >= name_keys)
				break;
			name_segments(&segs, v, &first, 0);
		}
	}
	if (!first)
		guts_buf_addf(&b, " (%s)", segs.data);
	guts_buf_release(&segs);
	cut = utf8_offset(b.data, b.len, GUTS_MATRIX_MAX_NAME);
	if (cut < b.len) {
		guts_buf_truncate(
		    &b, utf8_offset(b.data, b.len, GUTS_MATRIX_MAX_NAME - 3));
		guts_buf_adds(&b, "...");
	}
	return guts_buf_detach(&b, NULL);
}
