/*
 * The functions: GitHub's built-ins (contains, startsWith, endsWith,
 * format, join, toJSON, fromJSON, case) and the runner's (success,
 * failure, cancelled, always, hashFiles) through the env's callbacks.
 * Error messages are the reference's, since workflows authors see them.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

/* A string value that owns @b's bytes. */
static void take_buf(struct guts_expr_value *out, struct guts_buf *b)
{
	size_t len;
	char *s = guts_buf_detach(b, &len);

	memset(out, 0, sizeof(*out));
	out->kind = GUTS_EXPR_STRING;
	out->flags = GUTS_EXPR_VALUE_OWNED;
	out->u.string.ptr = s;
	out->u.string.len = len;
}

/* The argument's coerceString(), borrowed when it is already a string. */
static const char *str_of(const struct guts_expr_value *v, struct guts_buf *b,
			  size_t *len)
{
	if (v->kind == GUTS_EXPR_STRING) {
		*len = v->u.string.len;
		return v->u.string.ptr;
	}
	guts_buf_reset(b);
	guts__expr_coerce_string(b, v);
	*len = b->len;
	return b->data;
}

static int ascii_only_contains(const char *h, size_t hl, const char *n,
			       size_t nl)
{
	if (nl > hl)
		return 0;
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t k = 0;

		while (k < nl) {
			char a = h[i + k], c = n[k];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a + 32);
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (a != c)
				break;
			k++;
		}
		if (k == nl)
			return 1;
	}
	return 0;
}

static int fn_contains(const struct guts_expr_value *args,
		       struct guts_expr_value *out)
{
	const struct guts_expr_value *l = &args[0], *r = &args[1];
	int found = 0;

	if (guts__expr_is_primitive(l)) {
		if (guts__expr_is_primitive(r)) {
			struct guts_buf lb, rb, ll, rl;
			const char *ls, *rs;
			size_t lsl, rsl;

			guts_buf_init(&lb, 0);
			guts_buf_init(&rb, 0);
			ls = str_of(l, &lb, &lsl);
			rs = str_of(r, &rb, &rsl);
			if (guts__expr_is_ascii(ls, lsl) &&
			    guts__expr_is_ascii(rs, rsl)) {
				found = ascii_only_contains(ls, lsl, rs, rsl);
			} else {
				guts_buf_init(&ll, 0);
				guts_buf_init(&rl, 0);
				guts__expr_case_map(&ll, ls, lsl, 0);
				guts__expr_case_map(&rl, rs, rsl, 0);
				found =
				    !rl.len || memmem(ll.data, ll.len, rl.data,
						      rl.len) != NULL;
				guts_buf_release(&ll);
				guts_buf_release(&rl);
			}
			guts_buf_release(&lb);
			guts_buf_release(&rb);
		}
	} else if (l->kind == GUTS_EXPR_ARRAY) {
		size_t i;
		json_t *item;

		json_array_foreach(l->u.json, i, item) {
			struct guts_expr_value v;

			guts__expr_from_json(&v, item, 0);
			if (guts__expr_equals(r, &v)) {
				found = 1;
				break;
			}
		}
	}
	guts_expr_value_set_boolean(out, found);
	return 0;
}

static int fn_starts_ends(const struct guts_expr_value *args,
			  struct guts_expr_value *out, int ends)
{
	struct guts_buf lb, rb, lu, ru;
	const char *ls, *rs;
	size_t lsl, rsl;
	int r = 0;

	if (!guts__expr_is_primitive(&args[0]) ||
	    !guts__expr_is_primitive(&args[1])) {
		guts_expr_value_set_boolean(out, 0);
		return 0;
	}
	guts_buf_init(&lb, 0);
	guts_buf_init(&rb, 0);
	guts_buf_init(&lu, 0);
	guts_buf_init(&ru, 0);
	ls = str_of(&args[0], &lb, &lsl);
	rs = str_of(&args[1], &rb, &rsl);
	guts__expr_case_map(&lu, ls, lsl, 1);
	guts__expr_case_map(&ru, rs, rsl, 1);
	if (ru.len <= lu.len)
		r = !memcmp(lu.data + (ends ? lu.len - ru.len : 0), ru.data,
			    ru.len);
	guts_buf_release(&lb);
	guts_buf_release(&rb);
	guts_buf_release(&lu);
	guts_buf_release(&ru);
	guts_expr_value_set_boolean(out, r);
	return 0;
}

static const char *find_char(const char *s, size_t len, size_t from, char c)
{
	if (from >= len)
		return NULL;
	return memchr(s + from, c, len - from);
}

static int fn_format(struct guts__expr_eval *cx,
		     const struct guts_expr_value *args, size_t nr,
		     struct guts_expr_value *out)
{
	struct guts_buf fb, res, tmp;
	const char *fs;
	size_t len, index = 0;
	int rc = 0;

	guts_buf_init(&fb, 0);
	guts_buf_init(&res, 0);
	guts_buf_init(&tmp, 0);
	fs = str_of(&args[0], &fb, &len);
	while (index < len) {
		const char *lp = find_char(fs, len, index, '{');
		const char *rp = find_char(fs, len, index, '}');
		size_t lb = lp ? (size_t)(lp - fs) : 0;
		size_t rb = rp ? (size_t)(rp - fs) : 0;

		if (lp && (!rp || rb > lb)) {
			size_t digits = 0, argi = 0;
			int overflow = 0;

			/* An escaped left brace. */
			if (lb + 1 < len && fs[lb + 1] == '{') {
				guts_buf_add(&res, fs + index, lb - index + 1);
				index = lb + 2;
				continue;
			}
			/* {N...}: the digits after the brace pick the argument.
			 */
			if (rp && rb > lb + 1) {
				while (lb + 1 + digits < len &&
				       fs[lb + 1 + digits] >= '0' &&
				       fs[lb + 1 + digits] <= '9') {
					if (argi > 100000)
						overflow = 1;
					else
						argi = argi * 10 +
						       (size_t)(fs[lb + 1 +
								   digits] -
								'0');
					digits++;
				}
			}
			if (digits) {
				const char *s;
				size_t sl;

				if (overflow || 1 + argi > nr - 1) {
					rc = guts__expr_fail(
					    cx, GUTS_EINVAL,
					    "The following format string "
					    "references more arguments "
					    "than were supplied: %.*s",
					    (int)len, fs);
					goto out;
				}
				guts_buf_add(&res, fs + index, lb - index);
				s = str_of(&args[1 + argi], &tmp, &sl);
				guts_buf_add(&res, s, sl);
				index = rb + 1;
				if (res.len > cx->mem_max) {
					rc = guts__expr_charge(cx, res.len);
					goto out;
				}
				continue;
			}
			rc = guts__expr_fail(cx, GUTS_EINVAL,
					     "The following format string is "
					     "invalid: %.*s",
					     (int)len, fs);
			goto out;
		} else if (rp) {
			/* An escaped right brace, or an error. */
			if (rb + 1 < len && fs[rb + 1] == '}') {
				guts_buf_add(&res, fs + index, rb - index + 1);
				index = rb + 2;
				continue;
			}
			rc = guts__expr_fail(cx, GUTS_EINVAL,
					     "The following format string is "
					     "invalid: %.*s",
					     (int)len, fs);
			goto out;
		} else {
			guts_buf_add(&res, fs + index, len - index);
			break;
		}
	}
	rc = guts__expr_charge(cx, res.len);
	if (rc < 0)
		goto out;
	take_buf(out, &res);
out:
	guts_buf_release(&fb);
	guts_buf_release(&res);
	guts_buf_release(&tmp);
	return rc;
}

static int fn_join(struct guts__expr_eval *cx,
		   const struct guts_expr_value *args, size_t nr,
		   struct guts_expr_value *out)
{
	struct guts_buf res, sepb;
	const char *sep = ",";
	size_t sep_len = 1, i;
	json_t *item;
	int rc;

	guts_buf_init(&res, 0);
	guts_buf_init(&sepb, 0);
	if (guts__expr_is_primitive(&args[0])) {
		guts__expr_coerce_string(&res, &args[0]);
	} else if (args[0].kind == GUTS_EXPR_ARRAY) {
		if (nr > 1 && guts__expr_is_primitive(&args[1]))
			sep = str_of(&args[1], &sepb, &sep_len);
		json_array_foreach(args[0].u.json, i, item) {
			struct guts_expr_value v;

			if (i)
				guts_buf_add(&res, sep, sep_len);
			guts__expr_from_json(&v, item, 0);
			guts__expr_coerce_string(&res, &v);
			if (res.len > cx->mem_max)
				break;
		}
	}
	guts_buf_release(&sepb);
	rc = guts__expr_charge(cx, res.len);
	if (rc < 0) {
		guts_buf_release(&res);
		return rc;
	}
	take_buf(out, &res);
	return 0;
}

static int fn_tojson(struct guts__expr_eval *cx,
		     const struct guts_expr_value *args,
		     struct guts_expr_value *out)
{
	struct guts_buf res;
	int rc;

	guts_buf_init(&res, 0);
	guts__expr_encode(&res, &args[0], 1);
	rc = guts__expr_charge(cx, res.len);
	if (rc < 0) {
		guts_buf_release(&res);
		return rc;
	}
	take_buf(out, &res);
	return 0;
}

/* A JSON number (with JSON's blanks around it) as a double. */
static int lone_number(const char *s, size_t len, double *d)
{
	size_t i = 0, start, end;

	while (i < len && strchr(" \t\n\r", s[i]) && s[i])
		i++;
	while (len > i && strchr(" \t\n\r", s[len - 1]) && s[len - 1])
		len--;
	start = i;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		end = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == end)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		end = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == end)
			return 0;
	}
	if (i != len)
		return 0;
	*d = guts__expr_str_to_number(s + start, len - start);
	return 1;
}

static int fn_fromjson(struct guts__expr_eval *cx,
		       const struct guts_expr_value *args,
		       struct guts_expr_value *out)
{
	struct guts_buf b;
	double d;
	json_error_t jerr;
	const char *s;
	size_t len;
	json_t *j;
	int rc;

	guts_buf_init(&b, 0);
	s = str_of(&args[0], &b, &len);
	if (!guts__expr_js_trim(s, len, NULL)) {
		guts_buf_release(&b);
		return guts__expr_fail(cx, GUTS_EINVAL, "empty input");
	}
	rc = guts__expr_charge(cx, len);
	if (rc < 0) {
		guts_buf_release(&b);
		return rc;
	}
	/*
	 * JSON.parse reads numbers too large for a double as Infinity, where
	 * jansson refuses them; a lone number is read here.  (Inside arrays
	 * and objects they stay an error: json_t cannot hold Infinity.)
	 */
	if (lone_number(s, len, &d)) {
		guts_buf_release(&b);
		guts_expr_value_set_number(out, d);
		return 0;
	}
	j = json_loadb(
	    s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
	    &jerr);
	guts_buf_release(&b);
	if (!j)
		return guts__expr_fail(
		    cx, GUTS_EINVAL,
		    "Error parsing JSON when evaluating fromJson");
	guts__expr_from_json(out, j, 1);
	json_decref(j);
	return 0;
}

static int fn_case(struct guts__expr_eval *cx, struct guts_expr_value *args,
		   size_t nr, struct guts_expr_value *out)
{
	size_t i;

	for (i = 0; i + 1 < nr; i += 2) {
		if (args[i].kind != GUTS_EXPR_BOOLEAN)
			return guts__expr_fail(
			    cx, GUTS_EINVAL,
			    "case predicate must evaluate to a boolean "
			    "value");
		if (args[i].u.boolean)
			break;
	}
	/* Move the chosen argument out; the caller releases the rest. */
	*out = args[i < nr - 1 ? i + 1 : nr - 1];
	memset(&args[i < nr - 1 ? i + 1 : nr - 1], 0, sizeof(*args));
	return 0;
}

static int fn_hashfiles(struct guts__expr_eval *cx,
			const struct guts_expr_value *args, size_t nr,
			struct guts_expr_value *out)
{
	const struct guts_expr_env *env = cx->env;
	char **patterns;
	char *res = NULL;
	int rc;

	if (!env->hash_files)
		return guts__expr_fail(cx, GUTS_EINVAL,
				       "hashFiles() is not available here");
	patterns = guts_xcalloc(nr + 1, sizeof(*patterns));
	for (size_t i = 0; i < nr; i++)
		patterns[i] = guts_expr_value_to_string(&args[i], NULL);
	rc = env->hash_files(&res, (const char *const *)patterns, nr,
			     env->hash_files_data);
	for (size_t i = 0; i < nr; i++)
		free(patterns[i]);
	free(patterns);
	if (rc < 0)
		return guts__expr_fail(cx, rc, "%s", guts_error_message());
	guts_expr_value_set_string(out, res ? res : "", res ? strlen(res) : 0);
	free(res);
	return 0;
}

int guts__expr_call(struct guts__expr_eval *cx, const struct guts__expr_node *n,
		    struct guts_expr_value *args, size_t nr,
		    struct guts_expr_value *out)
{
	const struct guts_expr_env *env = cx->env;
	enum guts_expr_status st = GUTS_EXPR_STATUS_SUCCESS;

	switch (n->op) {
	case GUTS__F_CONTAINS:
		return fn_contains(args, out);
	case GUTS__F_STARTSWITH:
		return fn_starts_ends(args, out, 0);
	case GUTS__F_ENDSWITH:
		return fn_starts_ends(args, out, 1);
	case GUTS__F_FORMAT:
		return fn_format(cx, args, nr, out);
	case GUTS__F_JOIN:
		return fn_join(cx, args, nr, out);
	case GUTS__F_TOJSON:
		return fn_tojson(cx, args, out);
	case GUTS__F_FROMJSON:
		return fn_fromjson(cx, args, out);
	case GUTS__F_CASE:
		return fn_case(cx, args, nr, out);
	case GUTS__F_SUCCESS:
	case GUTS__F_FAILURE:
	case GUTS__F_CANCELLED:
		if (nr && env->job_status) {
			char **jobs = guts_xcalloc(nr, sizeof(*jobs));

			for (size_t i = 0; i < nr; i++)
				jobs[i] = guts_expr_value_to_string(&args[i],
								    NULL);
			st = env->job_status((const char *const *)jobs, nr,
					     env->job_status_data);
			for (size_t i = 0; i < nr; i++)
				free(jobs[i]);
			free(jobs);
		} else if (env->status) {
			st = env->status(env->status_data);
		}
		guts_expr_value_set_boolean(
		    out, (n->op == GUTS__F_SUCCESS &&
			  st == GUTS_EXPR_STATUS_SUCCESS) ||
			     (n->op == GUTS__F_FAILURE &&
			      st == GUTS_EXPR_STATUS_FAILURE) ||
			     (n->op == GUTS__F_CANCELLED &&
			      st == GUTS_EXPR_STATUS_CANCELLED));
		return 0;
	case GUTS__F_ALWAYS:
		guts_expr_value_set_boolean(out, 1);
		return 0;
	case GUTS__F_HASHFILES:
		return fn_hashfiles(cx, args, nr, out);
	}
	return guts__expr_fail(cx, GUTS_EINVAL, "Unrecognized function: '%s'",
			       n->name);
}
