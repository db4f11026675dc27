/*
 * Values of the expression language: coercions, number formatting and JSON
 * text the way the reference (JavaScript) produces them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

/* ---- lifecycle --------------------------------------------------------- */

void guts_expr_value_release(struct guts_expr_value *v)
{
	if (!v)
		return;
	if (v->flags & GUTS_EXPR_VALUE_OWNED) {
		if (v->kind == GUTS_EXPR_STRING)
			free((char *)v->u.string.ptr);
		else if (v->kind == GUTS_EXPR_ARRAY ||
			 v->kind == GUTS_EXPR_OBJECT)
			json_decref(v->u.json);
	}
	memset(v, 0, sizeof(*v));
}

void guts_expr_value_set_null(struct guts_expr_value *v)
{
	memset(v, 0, sizeof(*v));
}

void guts_expr_value_set_boolean(struct guts_expr_value *v, int b)
{
	memset(v, 0, sizeof(*v));
	v->kind = GUTS_EXPR_BOOLEAN;
	v->u.boolean = !!b;
}

void guts_expr_value_set_number(struct guts_expr_value *v, double d)
{
	memset(v, 0, sizeof(*v));
	v->kind = GUTS_EXPR_NUMBER;
	v->u.number = d;
}

void guts_expr_value_set_string(struct guts_expr_value *v, const char *s,
				size_t len)
{
	char *p = guts_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	memset(v, 0, sizeof(*v));
	v->kind = GUTS_EXPR_STRING;
	v->flags = GUTS_EXPR_VALUE_OWNED;
	v->u.string.ptr = p;
	v->u.string.len = len;
}

void guts_expr_value_set_json(struct guts_expr_value *v, json_t *j)
{
	guts__expr_from_json(v, j, 1);
}

void guts_expr_value_copy(struct guts_expr_value *dst,
			  const struct guts_expr_value *src)
{
	unsigned filtered = src->flags & GUTS_EXPR_VALUE_FILTERED;

	switch (src->kind) {
	case GUTS_EXPR_STRING:
		guts_expr_value_set_string(dst, src->u.string.ptr,
					   src->u.string.len);
		return;
	case GUTS_EXPR_ARRAY:
	case GUTS_EXPR_OBJECT:
		*dst = *src;
		dst->flags = GUTS_EXPR_VALUE_OWNED | filtered;
		json_incref(dst->u.json);
		return;
	default:
		*dst = *src;
		dst->flags = 0;
		return;
	}
}

const char *guts_expr_kind_name(enum guts_expr_kind kind)
{
	switch (kind) {
	case GUTS_EXPR_NULL:
		return "Null";
	case GUTS_EXPR_BOOLEAN:
		return "Boolean";
	case GUTS_EXPR_NUMBER:
		return "Number";
	case GUTS_EXPR_STRING:
		return "String";
	case GUTS_EXPR_ARRAY:
		return "Array";
	case GUTS_EXPR_OBJECT:
		return "Object";
	}
	return "unknown";
}

int guts_expr_value_truthy(const struct guts_expr_value *v)
{
	switch (v->kind) {
	case GUTS_EXPR_NULL:
		return 0;
	case GUTS_EXPR_BOOLEAN:
		return v->u.boolean;
	case GUTS_EXPR_NUMBER:
		return !(v->u.number == 0 || isnan(v->u.number));
	case GUTS_EXPR_STRING:
		return v->u.string.len != 0;
	default:
		return 1;
	}
}

int guts__expr_is_primitive(const struct guts_expr_value *v)
{
	return v->kind != GUTS_EXPR_ARRAY && v->kind != GUTS_EXPR_OBJECT;
}

void guts__expr_from_json(struct guts_expr_value *out, json_t *j, int own)
{
	memset(out, 0, sizeof(*out));
	switch (json_typeof(j)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		out->kind =
		    json_is_object(j) ? GUTS_EXPR_OBJECT : GUTS_EXPR_ARRAY;
		out->u.json = j;
		if (own) {
			json_incref(j);
			out->flags = GUTS_EXPR_VALUE_OWNED;
		}
		break;
	case JSON_STRING:
		if (own) {
			guts_expr_value_set_string(out, json_string_value(j),
						   json_string_length(j));
		} else {
			out->kind = GUTS_EXPR_STRING;
			out->u.string.ptr = json_string_value(j);
			out->u.string.len = json_string_length(j);
		}
		break;
	case JSON_INTEGER:
		out->kind = GUTS_EXPR_NUMBER;
		out->u.number = (double)json_integer_value(j);
		break;
	case JSON_REAL:
		out->kind = GUTS_EXPR_NUMBER;
		out->u.number = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = GUTS_EXPR_BOOLEAN;
		out->u.boolean = json_is_true(j);
		break;
	case JSON_NULL:
		break;
	}
}

/* ---- numbers ----------------------------------------------------------- */

void guts_expr_number_format(double d, char buf[32])
{
	char tmp[40], digits[20] = "0";
	int p, nd = 0, exp10, n, k, i, o = 0;
	const char *e;

	if (isnan(d)) {
		snprintf(buf, 32, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, 32, "%s", d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		snprintf(buf, 32, "0");
		return;
	}
	/* The shortest digits that read back as the same double. */
	for (p = 0; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	for (e = tmp; *e && *e != 'e'; e++)
		if (*e >= '0' && *e <= '9' && nd < (int)sizeof(digits))
			digits[nd++] = *e;
	exp10 = (int)strtol(e + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	k = nd ? nd : 1;
	n = exp10 + 1;
	if (d < 0)
		buf[o++] = '-';
	/* ECMAScript Number::toString, for radix 10. */
	if (k <= n && n <= 21) {
		for (i = 0; i < k; i++)
			buf[o++] = digits[i];
		for (i = 0; i < n - k; i++)
			buf[o++] = '0';
	} else if (0 < n && n <= 21) {
		for (i = 0; i < n; i++)
			buf[o++] = digits[i];
		buf[o++] = '.';
		for (; i < k; i++)
			buf[o++] = digits[i];
	} else if (-6 < n && n <= 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (i = 0; i < -n; i++)
			buf[o++] = '0';
		for (i = 0; i < k; i++)
			buf[o++] = digits[i];
	} else {
		buf[o++] = digits[0];
		if (k > 1) {
			buf[o++] = '.';
			for (i = 1; i < k; i++)
				buf[o++] = digits[i];
		}
		snprintf(buf + o, (size_t)(32 - o), "e%c%d",
			 n - 1 < 0 ? '-' : '+', abs(n - 1));
		return;
	}
	buf[o] = '\0';
}

/*
 * JavaScript's x.toFixed(15): exact decimal rounding where a tie goes away
 * from zero.  printf is exact too but breaks ties to even; a tie at the 16th
 * decimal needs |x| * 2^16 to be an odd integer, and then "%.16f" is exact
 * and we round the last digit up by hand.
 */
static void to_fixed15(double d, char *buf, size_t size)
{
	double ad = fabs(d), y;
	size_t len, i;

	y = ad * 65536.0;
	if (ad >= 137438953472.0 /* 2^37 */ || y != floor(y) ||
	    fmod(y, 2.0) != 1.0) {
		snprintf(buf, size, "%.15f", d);
		return;
	}
	snprintf(buf, size, "%.16f", d);
	len = strlen(buf);
	buf[--len] = '\0'; /* drop the 5 */
	for (i = len; i-- > 0;) {
		if (buf[i] == '.')
			continue;
		if (buf[i] == '-')
			break;
		if (buf[i] != '9') {
			buf[i]++;
			return;
		}
		buf[i] = '0';
	}
	/* Carried out of the most significant digit: insert a 1. */
	i = buf[0] == '-' ? 1 : 0;
	if (len + 2 > size)
		return;
	memmove(buf + i + 1, buf + i, len - i + 1);
	buf[i] = '1';
}

static void coerce_number(double d, char buf[64])
{
	char fixed[64];

	if (d == 0) {
		snprintf(buf, 64, "0");
		return;
	}
	if (!isfinite(d) || fabs(d) >= 1e21) {
		guts_expr_number_format(d, buf);
		return;
	}
	/* GitHub rounds to 15 decimals first: (+x.toFixed(15)).toString(). */
	to_fixed15(d, fixed, sizeof(fixed));
	guts_expr_number_format(strtod(fixed, NULL), buf);
}

static int is_js_space(const unsigned char *s, size_t len, size_t *n)
{
	uint32_t cp;

	*n = 1;
	if (s[0] < 0x80)
		return s[0] == ' ' || (s[0] >= 9 && s[0] <= 13);
	*n = guts__expr_utf8_decode(s, len, &cp);
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000 || cp == 0xfeff;
}

/* The byte length of trailing JavaScript whitespace. */
static size_t js_space_suffix(const unsigned char *s, size_t len)
{
	size_t end = len;

	while (end > 0) {
		size_t start = end - 1, n;

		while (start > 0 && (s[start] & 0xc0) == 0x80 &&
		       end - start < 4)
			start--;
		if (!is_js_space(s + start, end - start, &n) ||
		    start + n != end)
			break;
		end = start;
	}
	return len - end;
}

size_t guts__expr_js_trim(const char *str, size_t len, size_t *start)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while (i < len && is_js_space(s + i, len - i, &n))
		i += n;
	if (start)
		*start = i;
	if (i >= len)
		return 0;
	return len - i - js_space_suffix(s + i, len - i);
}

static double parse_radix(const char *s, size_t len, int radix)
{
	double v = 0;
	uint64_t u = 0;
	int exact = 1;

	if (!len)
		return NAN;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i], dg;

		if (c >= '0' && c <= '9')
			dg = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			dg = (c | 0x20) - 'a' + 10;
		else
			return NAN;
		if (dg >= radix)
			return NAN;
		if (exact &&
		    u > (UINT64_MAX - (uint64_t)dg) / (uint64_t)radix) {
			exact = 0;
			v = (double)u;
		}
		if (exact)
			u = u * (uint64_t)radix + (uint64_t)dg;
		else
			v = v * radix + dg;
	}
	if (exact)
		return (double)u;
	if (radix == 16) {
		/* strtod rounds long hex strings correctly. */
		char *tmp = guts_xmalloc(len + 3);

		memcpy(tmp, "0x", 2);
		memcpy(tmp + 2, s, len);
		tmp[len + 2] = '\0';
		v = strtod(tmp, NULL);
		free(tmp);
	}
	return v;
}

double guts__expr_str_to_number(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, start, digits = 0;
	char small[64], *tmp;
	double v;
	int neg = 0;

	while (i < len && is_js_space(s + i, len - i, &n))
		i += n;
	len -= js_space_suffix(s + i, len - i);
	if (i >= len)
		return 0;
	if (len - i > 2 && s[i] == '0') {
		switch (s[i + 1]) {
		case 'x':
		case 'X':
			return parse_radix(str + i + 2, len - i - 2, 16);
		case 'o':
		case 'O':
			return parse_radix(str + i + 2, len - i - 2, 8);
		case 'b':
		case 'B':
			return parse_radix(str + i + 2, len - i - 2, 2);
		}
	}
	start = i;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	if (len - i == 8 && !memcmp(s + i, "Infinity", 8))
		return neg ? -INFINITY : INFINITY;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return NAN;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t ed = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, ed++;
		if (!ed)
			return NAN;
	}
	if (i != len)
		return NAN;
	n = len - start;
	tmp = n < sizeof(small) ? small : guts_xmalloc(n + 1);
	memcpy(tmp, str + start, n);
	tmp[n] = '\0';
	v = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	return v;
}

double guts__expr_value_number(const struct guts_expr_value *v)
{
	switch (v->kind) {
	case GUTS_EXPR_NULL:
		return 0;
	case GUTS_EXPR_BOOLEAN:
		return v->u.boolean ? 1 : 0;
	case GUTS_EXPR_NUMBER:
		return v->u.number;
	case GUTS_EXPR_STRING:
		return guts__expr_str_to_number(v->u.string.ptr,
						v->u.string.len);
	default:
		return NAN;
	}
}

/* ---- strings ----------------------------------------------------------- */

void guts__expr_coerce_string(struct guts_buf *b,
			      const struct guts_expr_value *v)
{
	char num[64];

	switch (v->kind) {
	case GUTS_EXPR_NULL:
		break;
	case GUTS_EXPR_BOOLEAN:
		guts_buf_adds(b, v->u.boolean ? "true" : "false");
		break;
	case GUTS_EXPR_NUMBER:
		coerce_number(v->u.number, num);
		guts_buf_adds(b, num);
		break;
	case GUTS_EXPR_STRING:
		guts_buf_add(b, v->u.string.ptr, v->u.string.len);
		break;
	case GUTS_EXPR_ARRAY:
		guts_buf_adds(b, "Array");
		break;
	case GUTS_EXPR_OBJECT:
		guts_buf_adds(b, "Object");
		break;
	}
}

char *guts_expr_value_to_string(const struct guts_expr_value *v, size_t *len)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	guts__expr_coerce_string(&b, v);
	return guts_buf_detach(&b, len);
}

/* ---- objects ----------------------------------------------------------- */

json_t *guts__expr_object_get(const json_t *obj, const char *key, size_t len)
{
	void *it;

	if (!json_is_object(obj))
		return NULL;
	/*
	 * The reference keeps the first of keys that are equal lowercased, so
	 * {"A": 1, "a": 2}.a is 1: scan in order rather than hash the exact
	 * spelling.
	 */
	for (it = json_object_iter((json_t *)obj); it;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *k = json_object_iter_key(it);

		if (guts__expr_key_eq(k, json_object_iter_key_len(it), key,
				      len))
			return json_object_iter_value(it);
	}
	return NULL;
}

/* JavaScript puts keys that are array indices (0 .. 2^32-2) first. */
static int array_index_key(const char *k, size_t len, uint32_t *idx)
{
	uint64_t v = 0;

	if (!len || len > 10 || (k[0] == '0' && len > 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (k[i] < '0' || k[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(k[i] - '0');
	}
	if (v > 4294967294ull)
		return 0;
	*idx = (uint32_t)v;
	return 1;
}

struct entry_sort {
	size_t orig; /* position in insertion order */
	size_t rank; /* position in JavaScript order */
	uint32_t index;
	int is_index;
	size_t lower_off; /* the lowered key, in a shared buffer */
	size_t lower_len;
	const char *lower;
};

static int cmp_js_order(const void *pa, const void *pb)
{
	const struct entry_sort *a = pa, *b = pb;

	if (a->is_index != b->is_index)
		return a->is_index ? -1 : 1;
	if (a->is_index && a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->orig < b->orig ? -1 : a->orig > b->orig;
}

static int cmp_lower_then_rank(const void *pa, const void *pb)
{
	const struct entry_sort *a = *(struct entry_sort *const *)pa;
	const struct entry_sort *b = *(struct entry_sort *const *)pb;
	size_t n = a->lower_len < b->lower_len ? a->lower_len : b->lower_len;
	int c = memcmp(a->lower, b->lower, n);

	if (c)
		return c;
	if (a->lower_len != b->lower_len)
		return a->lower_len < b->lower_len ? -1 : 1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

size_t guts__expr_object_entries(const json_t *obj,
				 struct guts__expr_entry **out)
{
	size_t n = json_object_size(obj), i = 0, kept = 0;
	struct guts__expr_entry *raw, *res;
	struct entry_sort *es, **byk;
	struct guts_buf lower;
	unsigned char *drop;
	const char *k;
	json_t *v;
	int any_index = 0;

	*out = NULL;
	if (!n)
		return 0;
	raw = guts_xcalloc(n, sizeof(*raw));
	es = guts_xcalloc(n, sizeof(*es));
	guts_buf_init(&lower, 0);
	json_object_foreach((json_t *)obj, k, v) {
		size_t kl =
		    json_object_iter_key_len(json_object_key_to_iter(k));

		raw[i].key = k;
		raw[i].key_len = kl;
		raw[i].value = v;
		es[i].orig = i;
		es[i].is_index = array_index_key(k, kl, &es[i].index);
		any_index |= es[i].is_index;
		es[i].lower_off = lower.len;
		guts__expr_case_map(&lower, k, kl, 0);
		es[i].lower_len = lower.len - es[i].lower_off;
		i++;
	}
	if (any_index)
		qsort(es, n, sizeof(*es), cmp_js_order);
	byk = guts_xcalloc(n, sizeof(*byk)); /* NOLINT: pointers */
	for (i = 0; i < n; i++) {
		es[i].rank = i;
		es[i].lower = lower.data + es[i].lower_off;
		byk[i] = &es[i];
	}
	/* Of keys equal after lowercasing, the first in JS order wins. */
	qsort(byk, n, sizeof(*byk), /* NOLINT: pointers */
	      cmp_lower_then_rank);
	drop = guts_xcalloc(n, 1);
	for (i = 1; i < n; i++)
		if (byk[i]->lower_len == byk[i - 1]->lower_len &&
		    !memcmp(byk[i]->lower, byk[i - 1]->lower,
			    byk[i]->lower_len))
			drop[byk[i]->rank] = 1;
	res = guts_xcalloc(n, sizeof(*res));
	for (i = 0; i < n; i++)
		if (!drop[i])
			res[kept++] = raw[es[i].orig];
	free(drop);
	free(byk);
	free(es);
	free(raw);
	guts_buf_release(&lower);
	*out = res;
	return kept;
}

/* ---- JSON text --------------------------------------------------------- */

static void encode_string(struct guts_buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	guts_buf_addch(b, '"');
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			for (run = i;
			     run < len && s[run] >= 0x20 && s[run] != '"' &&
			     s[run] != '\\' && s[run] < 0x80;
			     run++)
				;
			guts_buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		if (c >= 0x80) {
			n = guts__expr_utf8_decode(s + i, len - i, &cp);
			if (cp == GUTS__EXPR_INVALID_CP)
				guts_buf_adds(b, "\\ufffd");
			else
				guts_buf_add(b, s + i, n);
			i += n;
			continue;
		}
		switch (c) {
		case '"':
			guts_buf_adds(b, "\\\"");
			break;
		case '\\':
			guts_buf_adds(b, "\\\\");
			break;
		case '\b':
			guts_buf_adds(b, "\\b");
			break;
		case '\f':
			guts_buf_adds(b, "\\f");
			break;
		case '\n':
			guts_buf_adds(b, "\\n");
			break;
		case '\r':
			guts_buf_adds(b, "\\r");
			break;
		case '\t':
			guts_buf_adds(b, "\\t");
			break;
		default:
			guts_buf_addf(b, "\\u%04x", c);
			break;
		}
		i++;
	}
	guts_buf_addch(b, '"');
}

static void newline_indent(struct guts_buf *b, int pretty, int depth)
{
	if (!pretty)
		return;
	guts_buf_addch(b, '\n');
	for (int i = 0; i < depth; i++)
		guts_buf_add(b, "  ", 2);
}

static void encode_value(struct guts_buf *b, const struct guts_expr_value *v,
			 int pretty, int depth);

static void encode_json(struct guts_buf *b, json_t *j, int pretty, int depth)
{
	struct guts_expr_value v;

	guts__expr_from_json(&v, j, 0);
	encode_value(b, &v, pretty, depth);
}

static void encode_value(struct guts_buf *b, const struct guts_expr_value *v,
			 int pretty, int depth)
{
	char num[32];

	switch (v->kind) {
	case GUTS_EXPR_NULL:
		guts_buf_adds(b, "null");
		break;
	case GUTS_EXPR_BOOLEAN:
		guts_buf_adds(b, v->u.boolean ? "true" : "false");
		break;
	case GUTS_EXPR_NUMBER:
		if (!isfinite(v->u.number)) {
			guts_buf_adds(b, "null");
			break;
		}
		guts_expr_number_format(v->u.number, num);
		guts_buf_adds(b, num);
		break;
	case GUTS_EXPR_STRING:
		encode_string(b, v->u.string.ptr, v->u.string.len);
		break;
	case GUTS_EXPR_ARRAY: {
		size_t n = json_array_size(v->u.json);

		if (!n) {
			guts_buf_adds(b, "[]");
			break;
		}
		guts_buf_addch(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				guts_buf_addch(b, ',');
			newline_indent(b, pretty, depth + 1);
			encode_json(b, json_array_get(v->u.json, i), pretty,
				    depth + 1);
		}
		newline_indent(b, pretty, depth);
		guts_buf_addch(b, ']');
		break;
	}
	case GUTS_EXPR_OBJECT: {
		struct guts__expr_entry *ents;
		size_t n = guts__expr_object_entries(v->u.json, &ents);

		if (!n) {
			guts_buf_adds(b, "{}");
			break;
		}
		guts_buf_addch(b, '{');
		for (size_t i = 0; i < n; i++) {
			if (i)
				guts_buf_addch(b, ',');
			newline_indent(b, pretty, depth + 1);
			encode_string(b, ents[i].key, ents[i].key_len);
			guts_buf_adds(b, pretty ? ": " : ":");
			encode_json(b, ents[i].value, pretty, depth + 1);
		}
		free(ents);
		newline_indent(b, pretty, depth);
		guts_buf_addch(b, '}');
		break;
	}
	}
}

void guts__expr_encode(struct guts_buf *b, const struct guts_expr_value *v,
		       int pretty)
{
	encode_value(b, v, pretty, 0);
}

char *guts_expr_value_encode(const struct guts_expr_value *v, int pretty,
			     size_t *len)
{
	struct guts_buf b;

	guts_buf_init(&b, 0);
	encode_value(&b, v, pretty, 0);
	return guts_buf_detach(&b, len);
}

json_t *guts_expr_value_to_json(const struct guts_expr_value *v)
{
	switch (v->kind) {
	case GUTS_EXPR_NULL:
		return json_null();
	case GUTS_EXPR_BOOLEAN:
		return json_boolean(v->u.boolean);
	case GUTS_EXPR_NUMBER:
		if (!isfinite(v->u.number))
			return json_null();
		if (v->u.number == floor(v->u.number) &&
		    fabs(v->u.number) < 9007199254740992.0)
			return json_integer((json_int_t)v->u.number);
		return json_real(v->u.number);
	case GUTS_EXPR_STRING:
		return json_stringn_nocheck(v->u.string.ptr, v->u.string.len);
	default:
		return json_incref(v->u.json);
	}
}

/* ---- errors ------------------------------------------------------------ */

size_t guts__expr_position(const char *src, size_t off)
{
	size_t pos = 1;

	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)src[i];

		if ((c & 0xc0) != 0x80)
			pos++;
		if (c >= 0xf0)
			pos++; /* a surrogate pair in UTF-16 */
	}
	return pos;
}

int guts__expr_set_error(struct guts_expr_error *err,
			 enum guts_expr_error_kind kind, int code,
			 size_t offset, size_t position, const char *msg)
{
	if (err) {
		free(err->message);
		err->kind = kind;
		err->offset = offset;
		err->position = position;
		err->message = guts_xstrdup(msg);
	}
	return guts_error(code, "%s", msg);
}

void guts_expr_error_release(struct guts_expr_error *err)
{
	if (!err)
		return;
	free(err->message);
	err->message = NULL;
	err->kind = GUTS_EXPR_ERR_NONE;
	err->offset = 0;
	err->position = 0;
}

const char *guts_expr_error_kind_name(enum guts_expr_error_kind kind)
{
	switch (kind) {
	case GUTS_EXPR_ERR_LEXING:
		return "lexing";
	case GUTS_EXPR_ERR_PARSING:
		return "parsing";
	case GUTS_EXPR_ERR_EVALUATION:
		return "evaluation";
	default:
		return "none";
	}
}
